using CnnGen.Kernels;
using Xunit;

namespace CnnGen.Tests.Kernels;

/// <summary>
/// The fused 1x1 expansion + depthwise convolution: bit for bit the two layers one after the other (the whole product
/// with its bias and activation, then the depthwise kernel over every channel), whatever the band of output rows (1,
/// odd, a multiple of 4, the whole output or more; bands whose rows read the zero padding above or below the image),
/// and against a float64 reference of both convolutions.
/// </summary>
public class ExpandDepthwiseTests
{
    private sealed record Case(int In, int Channels, int Height, int Width, int Kernel, int Stride, int Padding, int Band)
    {
        public int OutHeight => (Height + 2 * Padding - Kernel) / Stride + 1;
        public int OutWidth => (Width + 2 * Padding - Kernel) / Stride + 1;
        public override string ToString() => $"{In}->{Channels} {Height}x{Width} K{Kernel} S{Stride} P{Padding} bands of {Band}";
    }

    private static readonly Case[] Cases =
    [
        new(16, 96, 23, 37, 3, 2, 1, 4),
        new(16, 96, 23, 37, 3, 2, 1, 5),
        new(24, 40, 17, 17, 3, 1, 1, 1),
        new(24, 40, 17, 17, 3, 1, 1, 48),
        new(3, 20, 9, 70, 3, 1, 1, 7),
        new(8, 33, 12, 13, 5, 2, 2, 2),
        new(8, 33, 12, 13, 5, 1, 0, 3),
        new(5, 18, 6, 6, 3, 3, 0, 1),
        new(4, 17, 30, 20, 3, 1, 2, 8),
        // Rows of at most 16 outputs and 8 channels or more (on AVX2, eight channels at a time in the lanes), in bands.
        new(6, 20, 15, 13, 3, 1, 1, 3),
        new(6, 17, 11, 9, 3, 2, 0, 2),
        // 3x3 stride 2 padding 1 reads each band in place: odd and even sizes, bands of one row to past the image.
        new(6, 20, 24, 24, 3, 2, 1, 4),
        new(6, 20, 13, 50, 3, 2, 1, 3),
        new(4, 9, 7, 7, 3, 2, 1, 1),
        new(4, 9, 8, 33, 3, 2, 1, 2),
        new(5, 7, 9, 65, 3, 2, 1, 9),
        new(16, 24, 112, 112, 3, 2, 1, 8),
        new(5, 12, 14, 14, 3, 2, 1, 3),   // outputs of 7 columns: two rows to a vector
        new(5, 12, 17, 16, 3, 2, 1, 8),
        // Expanded channels a multiple of 16 (channel-last on AVX-512: 32 channels at a time, then a last 16) and of 8
        // (on AVX2): rows of groups of eight outputs and a last four, of fewer outputs than a group, padding 0 and 2,
        // band inputs that are no whole number of eight positions.
        new(12, 48, 21, 20, 3, 1, 1, 6),
        new(7, 32, 15, 11, 3, 2, 1, 3),
        new(9, 16, 10, 47, 3, 2, 1, 4),
        new(6, 32, 12, 13, 3, 1, 0, 4),
        new(6, 48, 11, 10, 3, 2, 2, 3),
        new(5, 64, 9, 3, 3, 1, 1, 2),
    ];

    private sealed record Data(float[] Input, float[] ExpandWeight, float[] ExpandBias, float[] DepthwiseWeight, float[] DepthwiseBias);

    private static Data Make(Case c, Random random)
    {
        // Inputs and weights large enough that the expansion crosses both of ReLU6's bounds.
        float[] Values(int n, float scale) => UniformValues.Make(random, n, scale);
        return new Data(Values(c.In * c.Height * c.Width, 3f), Values(c.Channels * c.In, 1.5f), Values(c.Channels, 1f),
            Values(c.Channels * c.Kernel * c.Kernel, 1f), Values(c.Channels, 1f));
    }

    private static float[] Fused(Case c, Data d, FusedActivation expandActivation, FusedActivation depthwiseActivation)
    {
        var output = new float[c.Channels * c.OutHeight * c.OutWidth];
        var scratch = new float[ExpandDepthwise.ScratchLength(c.In, c.Channels, c.Height, c.Width, c.Kernel, c.Stride, c.Padding, c.OutWidth, c.Band)];
        ExpandDepthwise.Forward(d.Input, d.ExpandWeight, d.ExpandBias, expandActivation, d.DepthwiseWeight, d.DepthwiseBias, depthwiseActivation,
            output, scratch, c.In, c.Channels, c.Height, c.Width, c.Kernel, c.Stride, c.Padding, c.OutHeight, c.OutWidth, c.Band);
        return output;
    }

    [Theory]
    [InlineData(FusedActivation.Relu6, FusedActivation.Relu6)]
    [InlineData(FusedActivation.Relu, FusedActivation.None)]
    [InlineData(FusedActivation.None, FusedActivation.Relu)]
    public void GivesTheBitsOfTheTwoLayersOneAfterTheOther(FusedActivation expandActivation, FusedActivation depthwiseActivation)
    {
        var random = new Random(11 + (int)expandActivation);
        foreach (var c in Cases)
        {
            var d = Make(c, random);
            int plane = c.Height * c.Width;
            var mid = new float[c.Channels * plane];
            Gemm.MultiplyBiasActivation(d.ExpandWeight, d.Input, mid, d.ExpandBias, c.Channels, plane, c.In, expandActivation);
            var expected = new float[c.Channels * c.OutHeight * c.OutWidth];
            var scratch = new float[DepthwiseConv.ScratchLength(c.Height, c.Width, c.Kernel, c.Stride, c.Padding, c.OutWidth)];
            DepthwiseConv.Forward(mid, d.DepthwiseWeight, d.DepthwiseBias, expected, scratch, c.Channels, c.Height, c.Width, c.Kernel, c.Stride,
                c.Padding, c.OutHeight, c.OutWidth, 0, c.Channels, depthwiseActivation);
            var actual = Fused(c, d, expandActivation, depthwiseActivation);
            for (int i = 0; i < expected.Length; i++)
                Assert.True(BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(actual[i]),
                    $"{c} {expandActivation}/{depthwiseActivation}: value {i} is {actual[i]:R}, the two layers give {expected[i]:R}");
            if (expandActivation == FusedActivation.Relu6)
            {
                Assert.Contains(6f, mid);
                Assert.Contains(0f, mid);
            }
        }
    }

    [Fact]
    public void AgreesWithAFloat64ReferenceOfBothConvolutions()
    {
        var random = new Random(3);
        foreach (var c in Cases)
        {
            var d = Make(c, random);
            var actual = Fused(c, d, FusedActivation.Relu6, FusedActivation.Relu6);
            int plane = c.Height * c.Width;
            // The expansion in float64, rounded to float as the kernel stores it, then ReLU6.
            var mid = new float[c.Channels * plane];
            for (int ch = 0; ch < c.Channels; ch++)
            for (int p = 0; p < plane; p++)
            {
                double sum = d.ExpandBias[ch];
                for (int i = 0; i < c.In; i++) sum += (double)d.ExpandWeight[ch * c.In + i] * d.Input[i * plane + p];
                mid[ch * plane + p] = (float)Math.Clamp(sum, 0, 6);
            }
            for (int ch = 0; ch < c.Channels; ch++)
            for (int oy = 0; oy < c.OutHeight; oy++)
            for (int ox = 0; ox < c.OutWidth; ox++)
            {
                double sum = d.DepthwiseBias[ch], scale = Math.Abs(sum);
                for (int ky = 0; ky < c.Kernel; ky++)
                for (int kx = 0; kx < c.Kernel; kx++)
                {
                    int y = oy * c.Stride + ky - c.Padding, x = ox * c.Stride + kx - c.Padding;
                    if (y < 0 || y >= c.Height || x < 0 || x >= c.Width) continue;
                    double product = (double)d.DepthwiseWeight[(ch * c.Kernel + ky) * c.Kernel + kx] * mid[ch * plane + y * c.Width + x];
                    sum += product;
                    scale += Math.Abs(product);
                }
                double expected = Math.Clamp(sum, 0, 6);
                float value = actual[(ch * c.OutHeight + oy) * c.OutWidth + ox];
                // The expansion's float32 rounding (relative 1e-6 of its terms) reaches the output through |w| <= 1 taps.
                Assert.True(Math.Abs(value - expected) <= 2e-5 * (scale + c.In * 4.5) + 1e-30,
                    $"{c}: out[{ch}, {oy}, {ox}] is {value:R}, float64 gives {expected:R}");
            }
        }
    }

    [Fact]
    public void ScratchTooSmallIsNamed()
    {
        // 2 -> 4 channels at 5x5, bands of 2 rows (4 input rows): 6 x 4 x 5 band values and the depthwise plane.
        int needed = ExpandDepthwise.ScratchLength(2, 4, 5, 5, 3, 1, 1, 5, 2);
        Assert.Equal(6 * 4 * 5 + DepthwiseConv.BandScratchLength(2, 5, 3, 1, 1, 5), needed);
        var e = Assert.Throws<ArgumentException>(() => ExpandDepthwise.Forward(new float[2 * 25], new float[8], new float[4], FusedActivation.Relu6,
            new float[36], new float[4], FusedActivation.Relu6, new float[4 * 25], new float[needed - 1], 2, 4, 5, 5, 3, 1, 1, 5, 5, 2));
        Assert.Contains($"scratch holds {needed - 1} values, {needed} needed", e.Message);
    }

    [Fact]
    public void RangesOfRowsGiveTheBitsOfTheWholeCallAndWriteOnlyTheirRows()
    {
        var random = new Random(19);
        int ranges = 0;
        foreach (var c in Cases)
        {
            var d = Make(c, random);
            var whole = Fused(c, d, FusedActivation.Relu6, FusedActivation.Relu6);
            int rowLength = c.OutWidth;
            // Cuts into two or three ranges (one of them possibly empty), each in its own bands.
            var cuts = new[] { 0, random.Next(0, c.OutHeight + 1), c.OutHeight };
            if (c.OutHeight > 2) cuts = new[] { 0, 1, c.OutHeight / 2, c.OutHeight };
            var actual = Enumerable.Repeat(float.NaN, whole.Length).ToArray();
            for (int r = 0; r + 1 < cuts.Length; r++)
            {
                var part = Enumerable.Repeat(-7f, whole.Length).ToArray();
                ExpandDepthwise.ForwardRows(d.Input, d.ExpandWeight, d.ExpandBias, FusedActivation.Relu6, d.DepthwiseWeight, d.DepthwiseBias,
                    FusedActivation.Relu6, part, c.In, c.Channels, c.Height, c.Width, c.Kernel, c.Stride, c.Padding, c.OutHeight, c.OutWidth,
                    c.Band, cuts[r], cuts[r + 1]);
                for (int ch = 0; ch < c.Channels; ch++)
                for (int oy = 0; oy < c.OutHeight; oy++)
                for (int ox = 0; ox < rowLength; ox++)
                {
                    int i = (ch * c.OutHeight + oy) * rowLength + ox;
                    if (oy >= cuts[r] && oy < cuts[r + 1]) actual[i] = part[i];
                    else Assert.True(part[i] == -7f, $"{c}: rows [{cuts[r]}, {cuts[r + 1]}) wrote out[{ch}, {oy}, {ox}]");
                }
                ranges++;
            }
            for (int i = 0; i < whole.Length; i++)
                Assert.True(BitConverter.SingleToInt32Bits(whole[i]) == BitConverter.SingleToInt32Bits(actual[i]),
                    $"{c}: value {i} is {actual[i]:R} from the ranges, {whole[i]:R} from the whole call");
        }
        Assert.True(ranges > 2 * Cases.Length, $"{ranges} ranges");
    }

    [Fact]
    public void RowsOutsideTheOutputAreRefusedByName()
    {
        var e = Assert.Throws<ArgumentException>(() => ExpandDepthwise.ForwardRows(new float[2 * 25], new float[8], new float[4], FusedActivation.Relu6,
            new float[36], new float[4], FusedActivation.Relu6, new float[4 * 25], 2, 4, 5, 5, 3, 1, 1, 5, 5, 2, 3, 6));
        Assert.Contains("ExpandDepthwise.ForwardRows: rows [3, 6) are not within the 5 output rows", e.Message);
        e = Assert.Throws<ArgumentException>(() => ExpandDepthwise.ForwardRows(new float[2 * 25], new float[8], new float[4], FusedActivation.Relu6,
            new float[36], new float[4], FusedActivation.Relu6, new float[4 * 25 - 1], 2, 4, 5, 5, 3, 1, 1, 5, 5, 2, 0, 5));
        Assert.Contains("ExpandDepthwise.ForwardRows: spans too short", e.Message);
    }
}
