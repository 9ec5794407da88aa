using CnnGen.Kernels;

namespace CnnGen.TrainProfile;

/// <summary>
/// <c>products</c>: the matrix products of convolutions at 224x224 whose output maps are small (7x7, 14x14) or whose
/// depth is large, with bias and ReLU applied as they are stored (<see cref="Gemm.MultiplyBiasActivation"/>): thread CPU
/// time per call (median) and the share of the peak it reaches.
/// </summary>
internal static class ProductProfile
{
    /// <summary>Shapes: name, filters (rows), output positions (columns), depth.</summary>
    private static readonly (string Name, int M, int N, int K)[] Shapes =
    [
        ("ResNet-18 512->512 3x3 @7 (im2col)", 512, 49, 4608),
        ("ResNet-18 256->512 3x3 s2 @7 (im2col)", 512, 49, 2304),
        ("MobileNetV2 160->960 1x1 @7", 960, 49, 160),
        ("MobileNetV2 960->160 1x1 @7", 160, 49, 960),
        ("MobileNetV2 64->384 1x1 @14", 384, 196, 64),
        ("ResNet-18 256->256 3x3 @14 (im2col)", 256, 196, 2304),
        ("ResNet-18 stem 3->64 7x7 s2 @112 (im2col)", 64, 12544, 147),
        ("MobileNetV2 32->16 1x1 @112", 16, 12544, 32),
        ("MobileNetV2 96->24 1x1 @56", 24, 3136, 96),
        ("MobileNetV2 144->24 1x1 @56", 24, 3136, 144),
        ("MobileNetV2 144->32 1x1 @28", 32, 784, 144),
        ("MobileNetV2 16->96 1x1 @112", 96, 12544, 16),
        ("MobileNetV2 24->144 1x1 @56", 144, 3136, 24),
        ("MobileNetV2 32->192 1x1 @28", 192, 784, 32),
        ("GoogLeNet 192->96 1x1 @28", 96, 784, 192),
        ("GoogLeNet 256->128 1x1 @28", 128, 784, 256),
        ("GoogLeNet 480->192 1x1 @14", 192, 196, 480),
        ("GoogLeNet 832->384 1x1 @7", 384, 49, 832),
    ];

    public static void Print(int repeats, double peak)
    {
        Console.WriteLine($"Convolution products with bias and ReLU as stored, one thread (thread CPU time, median of {repeats})");
        Console.WriteLine("| product | m x n x k | us | GFLOP/s | of peak |");
        Console.WriteLine("|---|---|---|---|---|");
        var random = new Random(1);
        foreach (var (name, m, n, k) in Shapes)
        {
            var a = new float[m * k];
            var b = new float[k * n];
            var c = new float[m * n];
            var bias = new float[m];
            for (int i = 0; i < a.Length; i++) a[i] = random.NextSingle() - 0.5f;
            for (int i = 0; i < b.Length; i++) b[i] = random.NextSingle() - 0.5f;
            double seconds = ThreadClock.Median(() => Gemm.MultiplyBiasActivation(a, b, c, bias, m, n, k, FusedActivation.Relu), repeats);
            double gflops = 2.0 * m * n * k / seconds / 1e9;
            Console.WriteLine($"| {name} | {m} x {n} x {k} | {seconds * 1e6:0} | {gflops:0.0} | {gflops / peak:P1} |");
        }
    }
}
