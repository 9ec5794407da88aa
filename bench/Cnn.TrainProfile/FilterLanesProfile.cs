using CnnGen.Kernels;

namespace CnnGen.TrainProfile;

/// <summary>
/// <c>lanes</c>: the products of ResNet-18's convolutions on small maps at one image, as im2col + the packed product
/// (<see cref="Gemm.MultiplyBiasActivation"/>, filters in rows) against the filters in the vector lanes
/// (<see cref="FilterLanes.Forward"/>, weights laid out once), the two alternating within each round; with the bounds
/// of each: the compute bound at <c>--peak</c> and the weight-streaming bound (the weights' bytes over the memory
/// bandwidth measured here by reading a 256 MiB buffer once per call). Thread CPU time: per round the median of
/// <c>--repeats</c> calls, then the median over <c>--rounds</c>.
/// </summary>
internal static class FilterLanesProfile
{
    /// <summary>Shapes: name, filters, output positions, depth.</summary>
    private static readonly (string Name, int M, int N, int K)[] Shapes =
    [
        ("512->512 3x3 @7", 512, 49, 4608),
        ("256->512 3x3 s2 @7", 512, 49, 2304),
        ("256->512 1x1 s2 @7", 512, 49, 256),
        ("256->256 3x3 @14", 256, 196, 2304),
        ("128->256 3x3 s2 @14", 256, 196, 1152),
        ("128->256 1x1 s2 @14", 256, 196, 128),
        ("64->128 3x3 s2 @28", 128, 784, 576),
        ("64->128 1x1 s2 @28", 128, 784, 64),
    ];

    public static void Print(int rounds, int repeats, double peak)
    {
        double bandwidth = Bandwidth();
        Console.WriteLine($"Memory read bandwidth, one thread: {bandwidth / 1e9:0.0} GB/s (sum of a 256 MiB buffer, thread CPU time)");
        Console.WriteLine($"Products with bias and ReLU as stored, one thread, thread CPU time: median over {rounds} rounds of the median of {repeats} calls");
        Console.WriteLine("| product | m x n x k | compute bound us | weight bound us | rows (GEMM) us | lanes us | speed-up | lanes of peak |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|");
        var random = new Random(1);
        foreach (var (name, m, n, k) in Shapes)
        {
            var a = new float[m * k];
            var b = new float[k * n];
            var c = new float[m * n];
            var bias = new float[m];
            for (int i = 0; i < a.Length; i++) a[i] = random.NextSingle() - 0.5f;
            for (int i = 0; i < b.Length; i++) b[i] = random.NextSingle() - 0.5f;
            var panels = new float[m * k];
            FilterLanes.Layout(a, panels, m, k);
            var gemm = new double[rounds];
            var lanes = new double[rounds];
            for (int r = 0; r < rounds; r++)
            {
                gemm[r] = ThreadClock.Median(() => Gemm.MultiplyBiasActivation(a, b, c, bias, m, n, k, FusedActivation.Relu), repeats);
                lanes[r] = ThreadClock.Median(() => FilterLanes.Forward(panels, b, bias, c, m, k, n, 0, m, FusedActivation.Relu), repeats);
            }
            double g = Median(gemm), l = Median(lanes);
            double compute = 2.0 * m * n * k / (peak * 1e9), weights = 4.0 * m * k / bandwidth;
            Console.WriteLine($"| {name} | {m} x {n} x {k} | {compute * 1e6:0} | {weights * 1e6:0} | {g * 1e6:0} | {l * 1e6:0} | {g / l:0.00}x | {compute / l:P1} |");
        }
    }

    private static double Median(double[] values)
    {
        var sorted = (double[])values.Clone();
        Array.Sort(sorted);
        return sorted[sorted.Length / 2];
    }

    /// <summary>Bytes per second of thread CPU time reading a buffer far larger than the caches (median of 5).</summary>
    private static double Bandwidth()
    {
        var buffer = new float[64 << 20];
        for (int i = 0; i < buffer.Length; i++) buffer[i] = i & 7;
        float sink = 0;
        double seconds = ThreadClock.Median(() =>
        {
            var v = System.Numerics.Vector<float>.Zero;
            var vectors = System.Runtime.InteropServices.MemoryMarshal.Cast<float, System.Numerics.Vector<float>>(buffer);
            for (int i = 0; i < vectors.Length; i++) v += vectors[i];
            sink += System.Numerics.Vector.Sum(v);
        }, 5, warmUps: 2);
        if (sink == 1) Console.WriteLine();
        return 4.0 * buffer.Length / seconds;
    }
}
