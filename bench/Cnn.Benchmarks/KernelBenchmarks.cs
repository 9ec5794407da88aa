using BenchmarkDotNet.Attributes;
using CnnGen.Kernels;

namespace CnnGen.Benchmarks;

/// <summary>
/// The runtime kernels at the shapes LeNet-5's generated code calls them with (see the generated LeNet5.g.cs): per
/// image for im2col and the convolution products, per micro-batch (<see cref="LeNet5.MicroBatch"/> images) for the
/// weight gradients, pooling and the dense layers. FLOPs per call are in each summary (a multiply-add is 2 FLOPs).
/// </summary>
public class KernelBenchmarks
{
    private const int Micro = LeNet5.MicroBatch;

    // conv1: 1x28x28, 5x5, padding 2 -> 6x28x28; col [25, 784]
    private readonly float[] _image = Filled(1 * 28 * 28, 1);
    private readonly float[] _col1 = Filled(25 * 784 * Micro, 2);
    private readonly float[] _w1 = Filled(6 * 25, 3);
    private readonly float[] _y1 = Filled(6 * 784 * Micro, 4);
    private readonly float[] _dw1 = new float[6 * 25];

    // conv2: 6x14x14, 5x5 -> 16x10x10; col [150, 100]
    private readonly float[] _pooled1 = Filled(6 * 14 * 14, 5);
    private readonly float[] _col2 = Filled(150 * 100 * Micro, 6);
    private readonly float[] _w2 = Filled(16 * 150, 7);
    private readonly float[] _y2 = Filled(16 * 100 * Micro, 8);
    private readonly float[] _dw2 = new float[16 * 150];
    private readonly float[] _dcol2 = Filled(150 * 100, 9);
    private readonly float[] _dx2 = new float[6 * 14 * 14];

    // pooling (per micro-batch): 6x28x28 -> 6x14x14 and 16x10x10 -> 16x5x5
    private readonly float[] _pool1Out = new float[6 * 14 * 14 * Micro];
    private readonly int[] _pool1Arg = new int[6 * 14 * 14 * Micro];
    private readonly float[] _pool2Out = new float[16 * 5 * 5 * Micro];
    private readonly int[] _pool2Arg = new int[16 * 5 * 5 * Micro];

    // dense1: [batch, 400] x [120, 400]^T
    private readonly float[] _flat = Filled(400 * Micro, 10);
    private readonly float[] _wd1 = Filled(120 * 400, 11);
    private readonly float[] _yd1 = new float[120 * Micro];

    private static float[] Filled(int length, int seed)
    {
        var random = new Random(seed);
        var values = new float[length];
        for (int i = 0; i < values.Length; i++) values[i] = (float)random.NextDouble() - 0.5f;
        return values;
    }

    /// <summary>conv1 forward product, [6x25] x [25x784]: 235,200 FLOPs.</summary>
    [Benchmark] public void Conv1ForwardGemm() => Gemm.Multiply(_w1, _col1, _y1, m: 6, n: 784, k: 25);

    /// <summary>conv2 forward product, [16x150] x [150x100]: 480,000 FLOPs.</summary>
    [Benchmark] public void Conv2ForwardGemm() => Gemm.Multiply(_w2, _col2, _y2, m: 16, n: 100, k: 150);

    /// <summary>conv1 weight gradient over a micro-batch, 3 x [6x784] x [25x784]^T: 705,600 FLOPs.</summary>
    [Benchmark] public void Conv1WeightGradient() =>
        Gemm.AccumulateTransposedB(_y1, 4704, _col1, 19600, _dw1, m: 6, n: 25, k: 784, count: Micro);

    /// <summary>conv2 weight gradient over a micro-batch, 3 x [16x100] x [150x100]^T: 1,440,000 FLOPs.</summary>
    [Benchmark] public void Conv2WeightGradient() =>
        Gemm.AccumulateTransposedB(_y2, 1600, _col2, 15000, _dw2, m: 16, n: 150, k: 100, count: Micro);

    /// <summary>conv2 input-gradient product, [150x16] (transposed weight) x [16x100]: 480,000 FLOPs.</summary>
    [Benchmark] public void Conv2InputGradientGemm() =>
        Gemm.Multiply(_w2, _y2, _dcol2, m: 150, n: 100, k: 16, transposeA: true);

    /// <summary>im2col of one image for conv1 (padding 2): 19,600 values written.</summary>
    [Benchmark] public void Conv1Im2ColPack() =>
        Im2Col.Pack(_image, _col1, channels: 1, height: 28, width: 28, kernel: 5, stride: 1, padding: 2, outHeight: 28, outWidth: 28);

    /// <summary>im2col of one image for conv2: 15,000 values written.</summary>
    [Benchmark] public void Conv2Im2ColPack() =>
        Im2Col.Pack(_pooled1, _col2, channels: 6, height: 14, width: 14, kernel: 5, stride: 1, padding: 0, outHeight: 10, outWidth: 10);

    /// <summary>col2im of one image for conv2's input gradient (the caller zeroes the gradient first, as the generated code does).</summary>
    [Benchmark]
    public void Conv2Col2ImUnpack()
    {
        Array.Clear(_dx2);
        Im2Col.Unpack(_dcol2, _dx2, channels: 6, height: 14, width: 14, kernel: 5, stride: 1, padding: 0, outHeight: 10, outWidth: 10);
    }

    /// <summary>pool1 over a micro-batch: 3 x 6 planes of 28x28.</summary>
    [Benchmark] public void Pool1MaxPool() => Pooling.MaxPool2x2(_y1, _pool1Out, _pool1Arg, planes: Micro * 6, height: 28, width: 28);

    /// <summary>pool2 over a micro-batch: 3 x 16 planes of 10x10.</summary>
    [Benchmark] public void Pool2MaxPool() => Pooling.MaxPool2x2(_y2, _pool2Out, _pool2Arg, planes: Micro * 16, height: 10, width: 10);

    /// <summary>dense1 for one image, [1x400] x [120x400]^T: 96,000 FLOPs.</summary>
    [Benchmark] public void Dense1Batch1() => Gemm.MultiplyTransposedB(_flat, _wd1, _yd1, m: 1, n: 120, k: 400);

    /// <summary>dense1 for a micro-batch, [3x400] x [120x400]^T: 288,000 FLOPs.</summary>
    [Benchmark] public void Dense1MicroBatch() => Gemm.MultiplyTransposedB(_flat, _wd1, _yd1, m: Micro, n: 120, k: 400);
}
