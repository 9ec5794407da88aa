using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using CnnGen.Kernels;
using Xunit;

namespace CnnGen.Tests.Kernels;

/// <summary>
/// The fused stem + depthwise convolution (AVX-512): bit for bit the two layers one after the other (the stem by
/// <see cref="StrideTwoConv"/> or its portable loop, then the depthwise kernel over every channel), whatever the band of
/// output rows (1, odd, a multiple of 4, the whole output or more, so that bands share rows with the band before or do
/// not), whatever range of rows a thread takes, and against a float64 reference of both convolutions. Elsewhere the
/// kernel refuses by name.
/// </summary>
public class StemDepthwiseTests
{
    private sealed record Case(int In, int Channels, int InHeight, int InWidth, int StemKernel, int StemStride, int StemPadding, int Stride, int Padding,
        int Band)
    {
        public int Height => (InHeight + 2 * StemPadding - StemKernel) / StemStride + 1;
        public int Width => (InWidth + 2 * StemPadding - StemKernel) / StemStride + 1;
        public int OutHeight => (Height + 2 * Padding - 3) / Stride + 1;
        public int OutWidth => (Width + 2 * Padding - 3) / Stride + 1;
        public override string ToString() =>
            $"{In}x{InHeight}x{InWidth} K{StemKernel} S{StemStride} P{StemPadding} -> {Channels}x{Height}x{Width}, depthwise S{Stride} P{Padding}, bands of {Band}";
    }

    private static readonly Case[] Cases =
    [
        // MobileNetV2's stem and features.1 on a smaller image: a 3x3 stride-2 stem, a 3x3 stride-1 depthwise layer.
        new(3, 32, 64, 64, 3, 2, 1, 1, 1, 8),
        new(3, 32, 64, 64, 3, 2, 1, 1, 1, 1),
        new(3, 32, 48, 50, 3, 2, 1, 1, 1, 5),
        new(3, 32, 30, 34, 3, 2, 1, 1, 1, 40),
        // One block of sixteen, three (two, then a last one), widths of no whole group of eight, odd input sizes.
        new(3, 16, 23, 37, 3, 2, 1, 1, 1, 4),
        new(2, 48, 21, 19, 3, 2, 1, 1, 1, 3),
        // Other stems: 5x5 padding 2, stride 1 and 3, one input channel, no padding; depthwise at stride 2, padding 0 and 2.
        new(4, 16, 17, 22, 5, 2, 2, 1, 1, 6),
        new(1, 32, 12, 40, 3, 1, 0, 1, 1, 2),
        new(3, 16, 31, 29, 3, 3, 1, 2, 1, 3),
        new(3, 32, 40, 40, 3, 2, 1, 1, 0, 4),
        new(3, 16, 26, 26, 3, 2, 1, 1, 2, 7),
    ];

    private sealed record Data(float[] Input, float[] StemWeight, float[] StemBias, float[] DepthwiseWeight, float[] DepthwiseBias);

    private static Data Make(Case c, Random random)
    {
        // Inputs and weights large enough that the stem crosses both of ReLU6's bounds.
        float[] Values(int n, float scale) => UniformValues.Make(random, n, scale);
        return new Data(Values(c.In * c.InHeight * c.InWidth, 3f), Values(c.Channels * c.In * c.StemKernel * c.StemKernel, 1f), Values(c.Channels, 1f),
            Values(c.Channels * 9, 1f), Values(c.Channels, 1f));
    }

    private static void AssertSameBits(float[] expected, float[] actual, string what, string reference)
    {
        for (int i = 0; i < expected.Length; i++)
            Assert.True(BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(actual[i]),
                $"{what}: value {i} is {actual[i]:R}, {reference} give{(reference.StartsWith("the whole", StringComparison.Ordinal) ? "s" : "")} {expected[i]:R}");
    }

    private static bool Runs(Case c) => StemDepthwise.ChannelLast(c.Channels, 3, c.Stride);

    private static float[] Fused(Case c, Data d, FusedActivation stemActivation, FusedActivation depthwiseActivation)
    {
        var output = new float[c.Channels * c.OutHeight * c.OutWidth];
        StemDepthwise.Forward(d.Input, d.StemWeight, d.StemBias, stemActivation, d.DepthwiseWeight, d.DepthwiseBias, depthwiseActivation, output,
            c.In, c.InHeight, c.InWidth, c.StemKernel, c.StemStride, c.StemPadding, c.Channels, c.Height, c.Width, c.Stride, c.Padding,
            c.OutHeight, c.OutWidth, c.Band);
        return output;
    }

    /// <summary>The stem alone: <see cref="StrideTwoConv"/> at stride 2, else the same chain in plain loops (a fused
    /// multiply-add per tap in (channel, ky, kx) order from zero, padding as <c>w * 0</c>, then the bias and the
    /// activation).</summary>
    private static float[] Stem(Case c, Data d, FusedActivation activation)
    {
        var stem = new float[c.Channels * c.Height * c.Width];
        if (c.StemStride == 2)
        {
            var scratch = new float[StrideTwoConv.ScratchLength(c.In, c.InWidth, c.StemKernel, c.StemPadding, 4)];
            StrideTwoConv.Forward(d.Input, d.StemWeight, d.StemBias, stem, scratch, c.In, c.InHeight, c.InWidth, c.Channels, c.StemKernel, c.StemPadding,
                c.Height, c.Width, 4, activation);
            return stem;
        }
        int k = c.StemKernel;
        for (int f = 0; f < c.Channels; f++)
        for (int y = 0; y < c.Height; y++)
        for (int x = 0; x < c.Width; x++)
        {
            float acc = 0;
            for (int ch = 0; ch < c.In; ch++)
            for (int ky = 0; ky < k; ky++)
            for (int kx = 0; kx < k; kx++)
            {
                int iy = y * c.StemStride + ky - c.StemPadding, ix = x * c.StemStride + kx - c.StemPadding;
                float v = iy >= 0 && iy < c.InHeight && ix >= 0 && ix < c.InWidth ? d.Input[(ch * c.InHeight + iy) * c.InWidth + ix] : 0f;
                acc = MathF.FusedMultiplyAdd(d.StemWeight[((f * c.In + ch) * k + ky) * k + kx], v, acc);
            }
            stem[(f * c.Height + y) * c.Width + x] = Apply(acc + d.StemBias[f], activation);
        }
        return stem;
    }

    private static float Apply(float v, FusedActivation activation) => activation switch
    {
        FusedActivation.Relu => v < 0f ? 0f : v,
        FusedActivation.Relu6 => v < 0f ? 0f : v > 6f ? 6f : v,
        _ => v,
    };

    [Theory]
    [InlineData(FusedActivation.Relu6, FusedActivation.Relu6)]
    [InlineData(FusedActivation.Relu, FusedActivation.None)]
    [InlineData(FusedActivation.None, FusedActivation.Relu)]
    public void GivesTheBitsOfTheTwoLayersOneAfterTheOther(FusedActivation stemActivation, FusedActivation depthwiseActivation)
    {
        var random = new Random(23 + (int)stemActivation);
        int checkedCases = 0;
        foreach (var c in Cases)
        {
            if (!Runs(c)) continue;
            var d = Make(c, random);
            var stem = Stem(c, d, stemActivation);
            var expected = new float[c.Channels * c.OutHeight * c.OutWidth];
            var scratch = new float[DepthwiseConv.ScratchLength(c.Height, c.Width, 3, c.Stride, c.Padding, c.OutWidth)];
            DepthwiseConv.Forward(stem, d.DepthwiseWeight, d.DepthwiseBias, expected, scratch, c.Channels, c.Height, c.Width, 3, c.Stride,
                c.Padding, c.OutHeight, c.OutWidth, 0, c.Channels, depthwiseActivation);
            var actual = Fused(c, d, stemActivation, depthwiseActivation);
            AssertSameBits(expected, actual, $"{c} {stemActivation}/{depthwiseActivation}", "the two layers");
            if (stemActivation == FusedActivation.Relu6)
            {
                Assert.Contains(6f, stem);
                Assert.Contains(0f, stem);
            }
            checkedCases++;
        }
        Assert.Equal(Avx512F.IsSupported && Vector512.IsHardwareAccelerated ? Cases.Length : 0, checkedCases);
    }

    /// <summary>The two layers, then the 1x1 projection over the whole map (<see cref="Gemm.MultiplyBiasActivation"/>).</summary>
    private static float[] ThreeLayers(Case c, Data d, float[] projectWeight, float[] projectBias, int filters, FusedActivation projectActivation)
    {
        var stem = Stem(c, d, FusedActivation.Relu6);
        var depthwise = new float[c.Channels * c.OutHeight * c.OutWidth];
        var scratch = new float[DepthwiseConv.ScratchLength(c.Height, c.Width, 3, c.Stride, c.Padding, c.OutWidth)];
        DepthwiseConv.Forward(stem, d.DepthwiseWeight, d.DepthwiseBias, depthwise, scratch, c.Channels, c.Height, c.Width, 3, c.Stride,
            c.Padding, c.OutHeight, c.OutWidth, 0, c.Channels, FusedActivation.Relu6);
        var projected = new float[filters * c.OutHeight * c.OutWidth];
        Gemm.MultiplyBiasActivation(projectWeight, depthwise, projected, projectBias, filters, c.OutHeight * c.OutWidth, c.Channels, projectActivation);
        return projected;
    }

    [Theory]
    [InlineData(16, FusedActivation.None)]
    [InlineData(24, FusedActivation.None)]
    [InlineData(5, FusedActivation.Relu)]
    public void WithAProjectionGivesTheBitsOfTheThreeLayersOneAfterTheOther(int filters, FusedActivation projectActivation)
    {
        var random = new Random(31 + filters);
        int checkedCases = 0;
        foreach (var c in Cases)
        {
            if (!Runs(c)) continue;
            var d = Make(c, random);
            var projectWeight = UniformValues.Make(random, filters * c.Channels, 1f);
            var projectBias = UniformValues.Make(random, filters, 1f);
            var expected = ThreeLayers(c, d, projectWeight, projectBias, filters, projectActivation);
            var actual = new float[expected.Length];
            StemDepthwise.ForwardProjected(d.Input, d.StemWeight, d.StemBias, FusedActivation.Relu6, d.DepthwiseWeight, d.DepthwiseBias, FusedActivation.Relu6,
                projectWeight, projectBias, projectActivation, actual, c.In, c.InHeight, c.InWidth, c.StemKernel, c.StemStride, c.StemPadding, c.Channels,
                c.Height, c.Width, c.Stride, c.Padding, c.OutHeight, c.OutWidth, filters, c.Band);
            AssertSameBits(expected, actual, $"{c}, projected to {filters}", "the three layers");
            // Ranges of rows, each in its own bands, give the same bits and write only their rows.
            var cuts = c.OutHeight > 2 ? new[] { 0, 1, c.OutHeight / 2, c.OutHeight } : new[] { 0, c.OutHeight };
            var pieced = Enumerable.Repeat(float.NaN, expected.Length).ToArray();
            for (int r = 0; r + 1 < cuts.Length; r++)
            {
                var part = Enumerable.Repeat(-7f, expected.Length).ToArray();
                StemDepthwise.ForwardRowsProjected(d.Input, d.StemWeight, d.StemBias, FusedActivation.Relu6, d.DepthwiseWeight, d.DepthwiseBias,
                    FusedActivation.Relu6, projectWeight, projectBias, projectActivation, part, c.In, c.InHeight, c.InWidth, c.StemKernel, c.StemStride,
                    c.StemPadding, c.Channels, c.Height, c.Width, c.Stride, c.Padding, c.OutHeight, c.OutWidth, filters, c.Band, cuts[r], cuts[r + 1]);
                for (int f = 0; f < filters; f++)
                for (int oy = 0; oy < c.OutHeight; oy++)
                for (int ox = 0; ox < c.OutWidth; ox++)
                {
                    int i = (f * c.OutHeight + oy) * c.OutWidth + ox;
                    if (oy >= cuts[r] && oy < cuts[r + 1]) pieced[i] = part[i];
                    else Assert.True(part[i] == -7f, $"{c}: rows [{cuts[r]}, {cuts[r + 1]}) wrote out[{f}, {oy}, {ox}]");
                }
            }
            AssertSameBits(expected, pieced, $"{c}, projected to {filters}, in ranges", "the three layers");
            checkedCases++;
        }
        Assert.Equal(Avx512F.IsSupported && Vector512.IsHardwareAccelerated ? Cases.Length : 0, checkedCases);
    }

    [Fact]
    public void AgreesWithAFloat64ReferenceOfBothConvolutions()
    {
        var random = new Random(5);
        foreach (var c in Cases)
        {
            if (!Runs(c)) continue;
            var d = Make(c, random);
            var actual = Fused(c, d, FusedActivation.Relu6, FusedActivation.Relu6);
            int k = c.StemKernel, plane = c.Height * c.Width;
            // The stem in float64, rounded to float as the kernel stores it, then ReLU6.
            var stem = new float[c.Channels * plane];
            for (int f = 0; f < c.Channels; f++)
            for (int y = 0; y < c.Height; y++)
            for (int x = 0; x < c.Width; x++)
            {
                double sum = d.StemBias[f];
                for (int ch = 0; ch < c.In; ch++)
                for (int ky = 0; ky < k; ky++)
                for (int kx = 0; kx < k; kx++)
                {
                    int iy = y * c.StemStride + ky - c.StemPadding, ix = x * c.StemStride + kx - c.StemPadding;
                    if (iy >= 0 && iy < c.InHeight && ix >= 0 && ix < c.InWidth)
                        sum += (double)d.StemWeight[((f * c.In + ch) * k + ky) * k + kx] * d.Input[(ch * c.InHeight + iy) * c.InWidth + ix];
                }
                stem[f * plane + y * c.Width + x] = (float)Math.Clamp(sum, 0, 6);
            }
            for (int ch = 0; ch < c.Channels; ch++)
            for (int oy = 0; oy < c.OutHeight; oy++)
            for (int ox = 0; ox < c.OutWidth; ox++)
            {
                double sum = d.DepthwiseBias[ch], scale = Math.Abs(sum);
                for (int ky = 0; ky < 3; ky++)
                for (int kx = 0; kx < 3; kx++)
                {
                    int y = oy * c.Stride + ky - c.Padding, x = ox * c.Stride + kx - c.Padding;
                    if (y < 0 || y >= c.Height || x < 0 || x >= c.Width) continue;
                    double product = (double)d.DepthwiseWeight[ch * 9 + ky * 3 + kx] * stem[ch * plane + y * c.Width + x];
                    sum += product;
                    scale += Math.Abs(product);
                }
                double expected = Math.Clamp(sum, 0, 6);
                float value = actual[(ch * c.OutHeight + oy) * c.OutWidth + ox];
                // The stem's float32 rounding (relative 1e-6 of its terms, at most 6 after ReLU6) reaches the output through
                // nine taps of |w| <= 1.
                Assert.True(Math.Abs(value - expected) <= 2e-5 * (scale + c.In * k * k * 3), $"{c}: out[{ch}, {oy}, {ox}] is {value:R}, float64 gives {expected:R}");
            }
        }
    }

    [Fact]
    public void RangesOfRowsGiveTheBitsOfTheWholeCallAndWriteOnlyTheirRows()
    {
        var random = new Random(29);
        int ranges = 0;
        foreach (var c in Cases)
        {
            if (!Runs(c)) continue;
            var d = Make(c, random);
            var whole = Fused(c, d, FusedActivation.Relu6, FusedActivation.Relu6);
            var cuts = c.OutHeight > 2 ? new[] { 0, 1, c.OutHeight / 2, c.OutHeight } : new[] { 0, random.Next(0, c.OutHeight + 1), c.OutHeight };
            var actual = Enumerable.Repeat(float.NaN, whole.Length).ToArray();
            for (int r = 0; r + 1 < cuts.Length; r++)
            {
                var part = Enumerable.Repeat(-7f, whole.Length).ToArray();
                StemDepthwise.ForwardRows(d.Input, d.StemWeight, d.StemBias, FusedActivation.Relu6, d.DepthwiseWeight, d.DepthwiseBias, FusedActivation.Relu6,
                    part, c.In, c.InHeight, c.InWidth, c.StemKernel, c.StemStride, c.StemPadding, c.Channels, c.Height, c.Width, c.Stride, c.Padding,
                    c.OutHeight, c.OutWidth, c.Band, cuts[r], cuts[r + 1]);
                for (int ch = 0; ch < c.Channels; ch++)
                for (int oy = 0; oy < c.OutHeight; oy++)
                for (int ox = 0; ox < c.OutWidth; ox++)
                {
                    int i = (ch * c.OutHeight + oy) * c.OutWidth + ox;
                    if (oy >= cuts[r] && oy < cuts[r + 1]) actual[i] = part[i];
                    else Assert.True(part[i] == -7f, $"{c}: rows [{cuts[r]}, {cuts[r + 1]}) wrote out[{ch}, {oy}, {ox}]");
                }
                ranges++;
            }
            AssertSameBits(whole, actual, $"{c}, in ranges", "the whole call");
        }
        Assert.Equal(Avx512F.IsSupported && Vector512.IsHardwareAccelerated ? 3 * Cases.Length : 0, ranges);
    }

    [Fact]
    public void BadShapesAndMachinesAreRefusedByName()
    {
        // 3 x 10 x 10, a 3x3 stride-2 stem with padding 1: a 5x5 map of 16 channels, its depthwise output 5x5.
        ArgumentException Call(int height, int outHeight, int outputLength, int firstRow, int endRow) =>
            Assert.ThrowsAny<ArgumentException>(() => StemDepthwise.ForwardRows(new float[300], new float[16 * 27], new float[16], FusedActivation.Relu6,
                new float[16 * 9], new float[16], FusedActivation.Relu6, new float[outputLength], 3, 10, 10, 3, 2, 1, 16, height, 5, 1, 1, outHeight, 5, 2,
                firstRow, endRow));
        Assert.Contains("does not make a 6x5 map of a 10x10 input", Call(6, 5, 400, 0, 5).Message);
        Assert.Contains("an output of 7x5 reads past the padded 7x7 map", Call(5, 7, 16 * 35, 0, 7).Message);
        Assert.Contains("spans too short", Call(5, 5, 399, 0, 5).Message);
        Assert.Contains("rows [3, 6) are not within the 5 output rows", Call(5, 5, 400, 3, 6).Message);
        var p = Assert.Throws<ArgumentException>(() => StemDepthwise.ForwardProjected(new float[300], new float[16 * 27], new float[16], FusedActivation.Relu6,
            new float[16 * 9], new float[16], FusedActivation.Relu6, new float[0], new float[0], FusedActivation.None, new float[8 * 25], 3, 10, 10, 3, 2, 1,
            16, 5, 5, 1, 1, 5, 5, 0, 2));
        Assert.Contains("StemDepthwise.ForwardProjected: 0 projection channels must be positive", p.Message);
        p = Assert.Throws<ArgumentException>(() => StemDepthwise.ForwardProjected(new float[300], new float[16 * 27], new float[16], FusedActivation.Relu6,
            new float[16 * 9], new float[16], FusedActivation.Relu6, new float[8 * 16 - 1], new float[8], FusedActivation.None, new float[8 * 25], 3, 10, 10,
            3, 2, 1, 16, 5, 5, 1, 1, 5, 5, 8, 2));
        Assert.Contains("StemDepthwise.ForwardProjected: spans too short", p.Message);
        // 24 channels are no whole number of blocks of sixteen: no machine runs them.
        var e = Assert.Throws<NotSupportedException>(() => StemDepthwise.Forward(new float[300], new float[24 * 27], new float[24], FusedActivation.Relu6,
            new float[24 * 9], new float[24], FusedActivation.Relu6, new float[24 * 25], 3, 10, 10, 3, 2, 1, 24, 5, 5, 1, 1, 5, 5, 2));
        Assert.Contains("StemDepthwise.Forward: this machine does not run 24 channels at stride 1 channel-last", e.Message);
    }
}
