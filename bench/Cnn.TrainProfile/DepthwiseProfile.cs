using CnnGen.Kernels;
using CnnGen.Samples.Networks;

namespace CnnGen.TrainProfile;

/// <summary>
/// <c>depthwise [--repeats N] [--peak GFLOPS]</c>: MobileNetV2 (3x224x224) inference of one image on one thread, in
/// the thread's own CPU time; then, for each of its depthwise convolutions, the grouped path (im2col + a product with
/// m = 1 per channel + bias) against the direct kernel (<see cref="DepthwiseConv"/>) and, for 3x3 padding 1, the kernel without a padded copy (stride 1: <see cref="Depthwise3x3"/>,
/// stride 2: <see cref="Depthwise3x3Stride2"/>), and the 1x1 convolutions'
/// products, with their share of the whole forward pass and of a core's peak. Medians of N timed runs after warm-ups.
/// </summary>
internal static class DepthwiseProfile
{
    public static int Run(int repeats, double peak)
    {
        INetwork network = new MobileNetV2(seed: 0) { Threads = 1 };
        var random = new Random(3);
        var image = new float[network.InputLength];
        for (int i = 0; i < image.Length; i++) image[i] = (float)(random.NextDouble() * 2 - 1);
        var logits = new float[network.OutputLength];
        double forward = ThreadClock.Median(() => network.Forward(image, logits, 1), repeats);
        Console.WriteLine($"MobileNetV2 3x224x224, one image, one thread: forward {forward * 1e3:0.00} ms of thread CPU time " +
                          $"({2.0 * MobileNetV2.ForwardMacs / forward / 1e9:0.0} GFLOP/s, {2.0 * MobileNetV2.ForwardMacs / forward / 1e9 / peak:P1} of {peak:0})");

        var layers = network.Layers;
        (int C, int H, int W) InputOf(LayerInfo l)
        {
            var source = layers[layers.ToList().FindIndex(x => x.Name == l.Name) - 1];
            if (l.Input is { } name) source = layers.Single(x => x.Name == name);
            return (source.OutputChannels, source.OutputHeight, source.OutputWidth);
        }

        Console.WriteLine("| depthwise layer | input | stride | im2col + GEMM ms | direct ms | direct GFLOP/s | in-place 3x3 ms |");
        Console.WriteLine("|---|---|---|---|---|---|---|");
        double grouped = 0, direct = 0;
        foreach (var l in layers.Where(l => l.Kind == "Conv" && l.Groups > 1 && l.Groups == l.OutputChannels))
        {
            var (c, h, w) = InputOf(l);
            var shape = new Depthwise(c, h, w, l.Kernel, l.Stride, l.Padding, l.OutputHeight, l.OutputWidth, random);
            double g = ThreadClock.Median(shape.Grouped, repeats), d = ThreadClock.Median(shape.Direct, repeats);
            string three = Depthwise3x3.Supports(l.Kernel, l.Stride, l.Padding, l.Dilation) ? $"{ThreadClock.Median(shape.Direct3x3, repeats) * 1e3:0.000}"
                : Depthwise3x3Stride2.Supports(l.Kernel, l.Stride, l.Padding, l.Dilation) ? $"{ThreadClock.Median(shape.Direct3x3Stride2, repeats) * 1e3:0.000}" : "-";
            grouped += g;
            direct += d;
            Console.WriteLine($"| {l.Name} | {c}x{h}x{w} | {l.Stride} | {g * 1e3:0.000} | {d * 1e3:0.000} | {2.0 * l.Macs / d / 1e9:0.0} | {three} |");
        }
        Console.WriteLine($"depthwise total: im2col + GEMM {grouped * 1e3:0.00} ms, direct {direct * 1e3:0.00} ms " +
                          $"({grouped / forward:P1} and {direct / forward:P1} of the forward pass measured above)");

        double pointwise = 0;
        long pointwiseMacs = 0;
        foreach (var l in layers.Where(l => l.Kind == "Conv" && l.Kernel == 1 && l.Groups == 1))
        {
            var (c, h, w) = InputOf(l);
            float[] x = Values(random, c * h * w), weight = Values(random, l.OutputChannels * c), y = new float[l.OutputChannels * h * w];
            pointwise += ThreadClock.Median(() => Gemm.Multiply(weight, x, y, l.OutputChannels, h * w, c), repeats);
            pointwiseMacs += l.Macs;
        }
        double rate = 2.0 * pointwiseMacs / pointwise / 1e9;
        Console.WriteLine($"1x1 convolutions (Gemm.Multiply alone): {pointwise * 1e3:0.00} ms, {rate:0.0} GFLOP/s = {rate / peak:P1} of {peak:0}, " +
                          $"{pointwise / forward:P1} of the forward pass");
        return 0;
    }

    /// <summary>One depthwise layer's data and its two ways of running (as the generated code calls them).</summary>
    private sealed class Depthwise
    {
        private readonly int _c, _h, _w, _k, _s, _p, _oh, _ow;
        private readonly float[] _input, _weight, _bias, _output, _col, _scratch;

        public Depthwise(int c, int h, int w, int k, int s, int p, int oh, int ow, Random random)
        {
            (_c, _h, _w, _k, _s, _p, _oh, _ow) = (c, h, w, k, s, p, oh, ow);
            _input = Values(random, c * h * w);
            _weight = Values(random, c * k * k);
            _bias = Values(random, c);
            _output = new float[c * oh * ow];
            _col = new float[c * k * k * oh * ow];
            _scratch = new float[DepthwiseConv.ScratchLength(h, w, k, s, p, ow)];
        }

        public void Grouped()
        {
            int groupCol = _k * _k * _oh * _ow, positions = _oh * _ow, inPlane = _h * _w;
            for (int g = 0; g < _c; g++)
            {
                var col = _col.AsSpan(g * groupCol, groupCol);
                Im2Col.Pack(_input.AsSpan(g * inPlane, inPlane), col, 1, _h, _w, _k, _s, _p, _oh, _ow);
                Gemm.Multiply(_weight.AsSpan(g * _k * _k, _k * _k), col, _output.AsSpan(g * positions, positions), 1, positions, _k * _k);
            }
            Elementwise.AddBias(_output, _bias, _c, positions);
        }

        public void Direct() =>
            DepthwiseConv.Forward(_input, _weight, _bias, _output, _scratch, _c, _h, _w, _k, _s, _p, _oh, _ow, 0, _c);

        /// <summary>The 3x3 stride-1 kernel without a padded copy (<see cref="Depthwise3x3"/>).</summary>
        public void Direct3x3() => Depthwise3x3.Forward(_input, _weight, _bias, _output, _c, _h, _w, 0, _c);

        /// <summary>The 3x3 stride-2 kernel without a padded copy (<see cref="Depthwise3x3Stride2"/>).</summary>
        public void Direct3x3Stride2() => Depthwise3x3Stride2.Forward(_input, _weight, _bias, _output, _c, _h, _w, 0, _c);
    }

    private static float[] Values(Random random, int length)
    {
        var values = new float[length];
        for (int i = 0; i < length; i++) values[i] = (float)(random.NextDouble() * 2 - 1);
        return values;
    }

}
