using BenchmarkDotNet.Attributes;
using CnnGen.Optimizers;

namespace CnnGen.Benchmarks;

/// <summary>Single-image latency of the generated LeNet-5 (one image is never split over threads).</summary>
public class LeNet5SingleImage
{
    private readonly LeNet5 _network = new(seed: 0) { Threads = 1 };
    private readonly float[] _input = NetworkData.Images(1);
    private readonly float[] _output = new float[LeNet5.OutputLength];

    /// <summary>833,040 FLOPs.</summary>
    [Benchmark] public void ForwardBatch1() => _network.Forward(_input, _output, 1);
}

/// <summary>Batch inference and a training step (gradients and an SGD momentum step) for 1 and 2 worker threads.</summary>
public class LeNet5Batches
{
    private const int InferBatch = 256, TrainBatch = 64;
    private readonly LeNet5 _network = new(seed: 0);
    private readonly float[] _inputs = NetworkData.Images(InferBatch);
    private readonly float[] _outputs = new float[LeNet5.OutputLength * InferBatch];
    private readonly float[] _trainInputs = NetworkData.Images(TrainBatch);
    private readonly int[] _labels = NetworkData.Labels(TrainBatch);
    private readonly Sgd _optimizer = new(0.01f, momentum: 0.9f);

    [Params(1, 2)] public int Threads { get; set; }

    [GlobalSetup] public void Setup() => _network.Threads = Threads;

    /// <summary>256 images: 213 MFLOP.</summary>
    [Benchmark] public void ForwardBatch256() => _network.Forward(_inputs, _outputs, InferBatch);

    /// <summary>64 images: about 3 x 53 MFLOP.</summary>
    [Benchmark]
    public float TrainStepBatch64()
    {
        float loss = _network.ComputeGradients(_trainInputs, _labels, TrainBatch);
        _optimizer.Step(_network.Parameters, _network.Gradients);
        return loss;
    }
}

internal static class NetworkData
{
    public static float[] Images(int count)
    {
        var random = new Random(1);
        var values = new float[LeNet5.InputLength * count];
        for (int i = 0; i < values.Length; i++) values[i] = (float)random.NextDouble() - 0.3f;
        return values;
    }

    public static int[] Labels(int count)
    {
        var random = new Random(2);
        return Enumerable.Range(0, count).Select(_ => random.Next(LeNet5.OutputLength)).ToArray();
    }
}
