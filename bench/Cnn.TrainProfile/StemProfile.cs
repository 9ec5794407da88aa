using CnnGen.Kernels;

namespace CnnGen.TrainProfile;

/// <summary>
/// <c>stem</c>: the first layers of the 224x224 networks as inference runs them on one image, each kernel against the
/// one it replaced, in alternating rounds: ResNet-18's 3x3 stride-2 max pool over 64 x 112 x 112 with its winners
/// (<see cref="Pooling.MaxPool"/>, what inference ran) and without (<see cref="Pooling.MaxPoolValues"/>); ResNet-18's
/// 7x7 and MobileNetV2's 3x3 stride-2 stems and ResNet-18's first stride-2 3x3 layer (64 -> 128 @56) as im2col of the
/// whole image and one product, and in blocks of output rows
/// (<see cref="Im2ColBlocks"/>, with the filters in rows or in the lanes), and directly from each block's input rows
/// split into even and odd columns (<see cref="StrideTwoConv"/>, the stride-2 ones), with bias and ReLU as stored. Thread CPU
/// time: per round the median of <c>--repeats</c> calls, then the median and range over <c>--rounds</c>.
/// </summary>
internal static class StemProfile
{
    private sealed record Kernel(string Layer, string Name, Action Run);

    public static void Print(int rounds, int repeats)
    {
        var random = new Random(1);
        float[] Random(int n)
        {
            var a = new float[n];
            for (int i = 0; i < a.Length; i++) a[i] = random.NextSingle() * 2 - 1;
            return a;
        }

        // ResNet-18's pool: 64 x 112 x 112 -> 64 x 56 x 56, 3x3, stride 2, padding 1.
        var poolIn = Random(64 * 112 * 112);
        var poolOut = new float[64 * 56 * 56];
        var winners = new int[poolOut.Length];
        var kernels = new List<Kernel>
        {
            new("ResNet-18 maxpool 3x3 s2 @112", "with winners (MaxPool)",
                () => Pooling.MaxPool(poolIn, poolOut, winners, 64, 112, 112, 3, 2, 1, 56, 56)),
            new("ResNet-18 maxpool 3x3 s2 @112", "values only (MaxPoolValues)",
                () => Pooling.MaxPoolValues(poolIn, poolOut, 64, 112, 112, 3, 2, 1, 56, 56)),
        };
        // ResNet-18's conv1 (7x7, stride 2, padding 3, 3 -> 64, 224 -> 112), MobileNetV2's (3x3, stride 2, padding 1,
        // 3 -> 32) and ResNet-18's first stride-2 3x3 (64 -> 128, 56 -> 28): im2col of the whole image and one product,
        // against blocks of output rows.
        foreach (var (layer, channels, size, filters, kernel, padding, blockRows) in new[]
                 {
                     ("ResNet-18 conv1 7x7 s2 @224", 3, 224, 64, 7, 3, new[] { 2, 4, 8, 16 }),
                     ("MobileNetV2 stem 3x3 s2 @224", 3, 224, 32, 3, 1, new[] { 2, 4, 8, 16 }),
                     ("ResNet-18 layer2.0.conv1 3x3 s2 @56", 64, 56, 128, 3, 1, new[] { 1, 2, 4, 8 }),
                 })
        {
            int outSize = size / 2, k = channels * kernel * kernel, n = outSize * outSize;
            var image = Random(channels * size * size);
            var weight = Random(filters * k);
            var bias = Random(filters);
            var col = new float[k * n];
            var output = new float[filters * n];
            kernels.Add(new(layer, "im2col + product (whole image)", () =>
            {
                Im2Col.Pack(image, col, channels, size, size, kernel, 2, padding, outSize, outSize);
                Gemm.MultiplyBiasActivation(weight, col, output, bias, filters, n, k, FusedActivation.Relu);
            }));
            foreach (int rows in blockRows)
                kernels.Add(new(layer, $"blocks of {rows} output rows (Im2ColBlocks)", () =>
                    Im2ColBlocks.Forward(image, weight, bias, output, col, channels, size, size, filters, kernel, 2, padding, outSize, outSize, rows, FusedActivation.Relu)));
            // The filters in the vector lanes, from the weights laid out once: in blocks of rows, and for the whole image.
            var panels = new float[filters * k];
            FilterLanes.Layout(weight, panels, filters, k);
            foreach (int rows in blockRows)
                kernels.Add(new(layer, $"blocks of {rows} output rows, filters in lanes (ForwardLanes)", () =>
                    Im2ColBlocks.ForwardLanes(image, panels, bias, output, col, channels, size, size, filters, kernel, 2, padding, outSize, outSize, rows, FusedActivation.Relu)));
            kernels.Add(new(layer, "im2col + filters in lanes (whole image)", () =>
            {
                Im2Col.Pack(image, col, channels, size, size, kernel, 2, padding, outSize, outSize);
                FilterLanes.Forward(panels, col, bias, output, filters, k, n, 0, filters, FusedActivation.Relu);
            }));
            // Direct, from the block's input rows split into even and odd columns: no columns at all.
            if (StrideTwoConv.Supports(kernel, 2, 1, padding))
                foreach (int rows in blockRows)
                    kernels.Add(new(layer, $"direct, blocks of {rows} output rows (StrideTwoConv)", () =>
                        StrideTwoConv.Forward(image, weight, bias, output, col, channels, size, size, filters, kernel, padding, outSize, outSize, rows, FusedActivation.Relu)));
        }

        var times = kernels.Select(_ => new List<double>()).ToArray();
        foreach (var k in kernels) ThreadClock.Median(k.Run, 3, warmUps: 20); // past tiered compilation
        for (int round = 0; round < rounds; round++)
            for (int i = 0; i < kernels.Count; i++)
                times[i].Add(ThreadClock.Median(kernels[i].Run, repeats));

        Console.WriteLine($"Stem layers, one image, one thread (thread CPU time: median of {repeats} calls per round, median and range over {rounds} alternating rounds)");
        Console.WriteLine("| layer | kernel | us | range |");
        Console.WriteLine("|---|---|---|---|");
        for (int i = 0; i < kernels.Count; i++)
        {
            var t = times[i].Order().ToArray();
            Console.WriteLine($"| {kernels[i].Layer} | {kernels[i].Name} | {t[t.Length / 2] * 1e6:0} | {t[0] * 1e6:0}-{t[^1] * 1e6:0} |");
        }
    }
}
