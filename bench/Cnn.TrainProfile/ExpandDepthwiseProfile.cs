using CnnGen.Kernels;

namespace CnnGen.TrainProfile;

/// <summary>
/// <c>expand [--repeats N] [--bands 2,4,8]</c>: MobileNetV2's 1x1 expansion + ReLU6 followed by its 3x3 depthwise
/// convolution + ReLU6, one image on one thread, as two passes (<see cref="Gemm.MultiplyBiasActivation"/> over every
/// channel into the expanded tensor, then <see cref="DepthwiseConv.Forward"/> reading it back) against
/// <see cref="ExpandDepthwise.Forward"/> a band of output rows at a time, for each band height of <c>--bands</c>; and each
/// of the two passes alone, over data still in cache from the pass before. The
/// variants alternate within each repeat; medians of the thread's CPU time in microseconds.
/// </summary>
internal static class ExpandDepthwiseProfile
{
    /// <summary>The distinct (input channels, expanded channels, size, stride) of MobileNetV2's blocks at 224.</summary>
    private static readonly (int In, int Mid, int Size, int Stride)[] Shapes =
    [
        (16, 96, 112, 2), (24, 144, 56, 1), (24, 144, 56, 2), (32, 192, 28, 1), (32, 192, 28, 2), (64, 384, 14, 1),
        (96, 576, 14, 1), (160, 960, 7, 1),
    ];

    public static int Run(int repeats, int[] bands)
    {
        var random = new Random(7);
        Console.WriteLine($"| expansion + depthwise | two passes us | expansion alone us | depthwise alone us | {string.Join(" | ", bands.Select(b => $"bands of {b} us"))} | best speed-up |");
        Console.WriteLine($"|---|---|---|---|{string.Concat(bands.Select(_ => "---|"))}---|");
        foreach (var (cin, mid, size, stride) in Shapes)
        {
            int plane = size * size, outSize = (size + 2 - 3) / stride + 1, outPlane = outSize * outSize;
            float[] input = Values(random, cin * plane), we = Values(random, mid * cin), be = Values(random, mid);
            float[] wd = Values(random, mid * 9), bd = Values(random, mid);
            float[] expandedAll = new float[mid * plane], output = new float[mid * outPlane];
            float[] scratch = new float[DepthwiseConv.ScratchLength(size, size, 3, stride, 1, outSize)];
            float[] fusedScratch = new float[bands.Max(b => ExpandDepthwise.ScratchLength(cin, mid, size, size, 3, stride, 1, outSize, b))];
            void Separate()
            {
                Gemm.MultiplyBiasActivation(we, input, expandedAll, be, mid, plane, cin, FusedActivation.Relu6);
                DepthwiseConv.Forward(expandedAll, wd, bd, output, scratch, mid, size, size, 3, stride, 1, outSize, outSize, 0, mid, FusedActivation.Relu6);
            }
            Action Fused(int band) => () => ExpandDepthwise.Forward(input, we, be, FusedActivation.Relu6, wd, bd, FusedActivation.Relu6, output,
                fusedScratch, cin, mid, size, size, 3, stride, 1, outSize, outSize, band);
            void ExpansionAlone() => Gemm.MultiplyBiasActivation(we, input, expandedAll, be, mid, plane, cin, FusedActivation.Relu6);
            void DepthwiseAlone() =>
                DepthwiseConv.Forward(expandedAll, wd, bd, output, scratch, mid, size, size, 3, stride, 1, outSize, outSize, 0, mid, FusedActivation.Relu6);
            var variants = new List<Action> { Separate, ExpansionAlone, DepthwiseAlone };
            variants.AddRange(bands.Select(Fused));
            var times = variants.Select(_ => new double[repeats]).ToArray();
            for (int w = 0; w < 3; w++) foreach (var v in variants) v();
            for (int r = 0; r < repeats; r++)
                for (int v = 0; v < variants.Count; v++)
                {
                    double start = ThreadClock.Seconds();
                    variants[v]();
                    times[v][r] = ThreadClock.Seconds() - start;
                }
            double[] medians = times.Select(t => { Array.Sort(t); return t[repeats / 2] * 1e6; }).ToArray();
            Console.WriteLine($"| {cin}->{mid} @{size}, stride {stride} | {medians[0]:0.0} | {medians[1]:0.0} | {medians[2]:0.0} | " +
                              $"{string.Join(" | ", medians.Skip(3).Select(m => m.ToString("0.0")))} | {medians[0] / medians.Skip(3).Min():0.00}x |");
        }
        return 0;
    }

    private static float[] Values(Random random, int count)
    {
        var values = new float[count];
        for (int i = 0; i < count; i++) values[i] = (float)(random.NextDouble() * 2 - 1);
        return values;
    }
}
