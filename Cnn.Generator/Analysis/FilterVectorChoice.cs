using CnnGen.Generator.Model;

namespace CnnGen.Generator.Analysis;

/// <summary>
/// Which direct convolutions run in inference with their 16 filters in the vector lanes (<c>DirectFilterVector</c>)
/// instead of a row of the map per register (<c>DirectConv</c>), whose rows narrower than 16 leave lanes idle. Both give
/// the same bits. Measured, one thread, 16 filters, ReLU as stored, microseconds per image over 64 images in one call
/// (and one image per call), medians of 5 rounds alternating (2-core Zen 4, 117 GFLOP/s plain FMA loop):
/// <code>
/// input       kernel  output      taps   rows us   lanes us        speed-up
/// 6x14x14     5, p0   16x10x10     150     6.97    5.27 (5.93)     1.32x (1.18x)   LeNet-5's second layer
/// 16x12x12    3, p1   16x12x12     144     8.97    8.03 (8.32)     1.12x (1.08x)
/// 16x8x8      3, p1   16x8x8       144     6.14    3.83 (4.11)     1.60x (1.49x)
/// 16x10x10    3, p0   16x8x8       144     5.35    3.13 (3.39)     1.71x (1.58x)
/// 32x7x7      3, p1   16x7x7       288    11.65    6.08 (6.62)     1.92x (1.76x)
/// 64x4x4      3, p1   16x4x4       576    11.78    4.04 (5.06)     2.92x (2.33x)
/// 8x10x10     3, p1   16x10x10      72     3.88    3.42 (3.77)     1.14x (1.03x)
/// 3x12x12     5, p2   16x12x12      75     4.48    4.53 (4.66)     0.99x (0.96x)
/// 16x14x14    3, p1   16x14x14     144    10.57   10.88 (11.22)    0.97x (0.94x)
/// 16x16x16    3, p1   16x16x16     144    11.65   13.55 (13.73)    0.86x (0.85x)
/// </code>
/// So: 16 filters, output rows of at most 12 and at least 128 taps (channels x kernel x kernel), for a direct
/// convolution that is not Winograd's.
/// </summary>
internal static class FilterVectorChoice
{
    /// <summary>Filters the kernel computes (<c>DirectFilterVector.Filters</c>).</summary>
    public const int Filters = 16;

    /// <summary>The widest output rows taken (14 measured 0.94-0.97x).</summary>
    public const int MaxOutWidth = 12;

    /// <summary>The fewest taps taken (72-75 measured 0.96-1.14x; 144 and more 1.08x and up).</summary>
    public const int MinimumTaps = 128;

    /// <summary>The largest number of taps the kernel takes (<c>DirectFilterVector.MaxTaps</c>).</summary>
    public const int MaxTaps = 4096;

    public static bool Picks(LayerSpec l) =>
        l.DirectInference && !l.WinogradInference && l.Op is ConvOp { Groups: 1, Stride: 1, Dilation: 1, Filters: Filters } c
        && l.Output.Width <= MaxOutWidth && (long)l.Input.Channels * c.Kernel * c.Kernel is >= MinimumTaps and <= MaxTaps;
}
