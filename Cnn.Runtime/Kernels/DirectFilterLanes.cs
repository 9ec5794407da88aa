using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CnnGen.Kernels;

/// <summary>
/// A convolution's inference product with the filters in the vector lanes (<see cref="FilterLanes"/>), read straight
/// from the input instead of from im2col columns. Column row <c>(c, ky, kx)</c> at output position <c>(oy, ox)</c> is
/// input value <c>(c, oy * stride + ky, ox * stride + kx)</c> of the zero-padded input, and the filter-lane kernel reads
/// one such value per position and tap (a broadcast), wherever it lies: so it reads them from the padded input
/// (<see cref="Pad"/>; the input itself when there is no padding), <c>stride</c> floats apart along a row, and the
/// columns (2.25 times the input for a 3x3 stride-2 layer, 1.8 MB for ResNet-18's first) are neither written nor read.
/// Positions run in groups of 14 (two runs of 7 along output rows: a 7-wide map's group spans two rows), so output rows
/// must be whole runs of 7.
/// <para>The kernels: <see cref="DirectFilterLanesAvx512"/> with AVX-512; <see cref="DirectFilterLanesAvx2"/> with AVX2
/// and FMA, except for a 1x1 kernel at stride 2, whose taps lie one plane apart with every other value of a row unread:
/// there the columns (a quarter of the input) are laid out for <see cref="GemmAvx2"/> by <see cref="ColumnsAvx2"/>, which
/// took 226 / 196 / 228 us against the direct kernel's 315 / 284 / 257 for ResNet-18's 64 -> 128 @28, 128 -> 256 @14 and
/// 256 -> 512 @7 (one thread, medians of 41 calls alternating in one process, weights in cache); elsewhere each output's
/// chain in scalar code. A pass split over threads gives each thread a range of panels, and none of the paths lays out
/// the columns of a kernel wider than its stride, so the threads share the padded input and nothing else.</para>
/// <para>Each output gets one fused multiply-add per term in (c, ky, kx) order from zero, padding contributing
/// <c>w * 0</c>, then the bias, then the activation: the bits of <see cref="Im2Col.Pack"/> and
/// <see cref="FilterLanes.Forward"/> (and of <see cref="Gemm.MultiplyBiasActivation"/>) on every path.</para>
/// </summary>
[SkipLocalsInit]
public static unsafe class DirectFilterLanes
{
    /// <summary>Positions of a run along an output row: half of the kernel's group of 14.</summary>
    public const int RunLength = 7;

    /// <summary>Largest kernel taken (its taps' offsets sit on the stack).</summary>
    public const int MaxKernel = 11;

    /// <summary>Whether <see cref="Forward"/> takes this convolution: filters in whole panels of 32, stride 1 or 2, output
    /// rows of whole runs of <see cref="RunLength"/> and at most <see cref="FilterLanes.ChunkPositions"/> positions (a
    /// chunk of sums holds whole rows).</summary>
    public static bool Supports(int filters, int kernel, int stride, int outWidth) =>
        filters > 0 && filters % FilterLanes.PanelFilters == 0 && kernel >= 1 && kernel <= MaxKernel && stride is 1 or 2
        && outWidth > 0 && outWidth % RunLength == 0 && outWidth <= FilterLanes.ChunkPositions;

    /// <summary>Values of the input padded by <paramref name="padding"/> on every side (<see cref="Pad"/>).</summary>
    public static long PaddedLength(int channels, int height, int width, int padding) =>
        (long)channels * (height + 2L * padding) * (width + 2L * padding);

    /// <summary>Channels <c>[firstChannel, endChannel)</c> of <paramref name="input"/> (<c>[C, H, W]</c>) into
    /// <paramref name="padded"/> (<c>[C, H + 2p, W + 2p]</c>) with a border of zeros; a split pass gives each thread a range.
    /// The copy is <see cref="DirectConv.Pad"/>'s, over those channels' planes.</summary>
    public static void Pad(ReadOnlySpan<float> input, Span<float> padded, int channels, int height, int width, int padding, int firstChannel, int endChannel)
    {
        if (channels < 1 || height < 1 || width < 1 || padding < 0 || firstChannel < 0 || endChannel > channels || firstChannel > endChannel)
            throw new ArgumentException($"DirectFilterLanes.Pad: channels [{firstChannel}, {endChannel}) of {channels}x{height}x{width} with padding {padding}.");
        if (input.Length < (long)channels * height * width || padded.Length < PaddedLength(channels, height, width, padding))
            throw new ArgumentException($"DirectFilterLanes.Pad: spans too short for {channels}x{height}x{width} padded by {padding}.");
        int plane = height * width, paddedPlane = (height + 2 * padding) * (width + 2 * padding), count = endChannel - firstChannel;
        DirectConv.Pad(input.Slice(firstChannel * plane, count * plane), padded.Slice(firstChannel * paddedPlane, count * paddedPlane),
            count, height, width, padding);
    }

    /// <summary>
    /// Filters [<paramref name="firstFilter"/>, <paramref name="endFilter"/>) (whole panels) of
    /// <c>output[F, OH*OW] = activation(weight[F, C*K*K] * im2col(input) + bias)</c>, the weights laid out by
    /// <see cref="FilterLanes.Layout"/>, <paramref name="padded"/> the input padded by <paramref name="padding"/>
    /// (<see cref="Pad"/>; with no padding, the input). <paramref name="output"/> is the whole layer's; rows outside the
    /// range are untouched.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Forward(ReadOnlySpan<float> panels, ReadOnlySpan<float> padded, ReadOnlySpan<float> bias, Span<float> output,
        int channels, int height, int width, int filters, int kernel, int stride, int padding, int outHeight, int outWidth,
        int firstFilter, int endFilter, FusedActivation activation = FusedActivation.None)
    {
        if (!Supports(filters, kernel, stride, outWidth))
            throw new ArgumentException($"DirectFilterLanes.Forward: {filters} filters, a {kernel}x{kernel} kernel with stride {stride} onto rows of {outWidth} are not supported " +
                $"(filters in whole panels of {FilterLanes.PanelFilters}, kernel 1 to {MaxKernel}, stride 1 or 2, rows of whole runs of {RunLength} up to {FilterLanes.ChunkPositions}).");
        if (channels < 1 || padding < 0 || height + 2 * padding < kernel || width + 2 * padding < kernel
            || outHeight != (height + 2 * padding - kernel) / stride + 1 || outWidth != (width + 2 * padding - kernel) / stride + 1)
            throw new ArgumentException($"DirectFilterLanes.Forward: {channels}x{height}x{width} through a {kernel}x{kernel} kernel, stride {stride}, padding {padding}, is not {filters}x{outHeight}x{outWidth}.");
        if (firstFilter < 0 || endFilter > filters || firstFilter > endFilter || firstFilter % FilterLanes.PanelFilters != 0 || endFilter % FilterLanes.PanelFilters != 0)
            throw new ArgumentException($"DirectFilterLanes.Forward: filters [{firstFilter}, {endFilter}) are not whole panels of {FilterLanes.PanelFilters} within {filters}.");
        long k = (long)channels * kernel * kernel;
        if (panels.Length < filters * k || padded.Length < PaddedLength(channels, height, width, padding) || bias.Length < filters
            || output.Length < (long)filters * outHeight * outWidth)
            throw new ArgumentException("DirectFilterLanes.Forward: spans too short for the given shape.");
        if (firstFilter == endFilter) return;
        var shape = new Shape(channels, height + 2 * padding, width + 2 * padding, kernel, outHeight, outWidth);
        fixed (float* pw = panels, px = padded, pb = bias, po = output)
        {
            if (Avx512F.IsSupported && Vector512.IsHardwareAccelerated)
            {
                if (stride == 1) DirectFilterLanesAvx512.Run<DirectFilterLanesAvx512.StrideOne>(pw, px, pb, po, shape, firstFilter, endFilter, activation);
                else DirectFilterLanesAvx512.Run<DirectFilterLanesAvx512.StrideTwo>(pw, px, pb, po, shape, firstFilter, endFilter, activation);
                return;
            }
            if (GemmAvx2.IsSupported && kernel >= stride)
            {
                DirectFilterLanesAvx2.Run(pw, px, pb, po, shape, stride, firstFilter, endFilter, activation);
                return;
            }
            if (GemmAvx2.IsSupported) // a 1x1 kernel at stride 2: its columns, a quarter of the input
            {
                ColumnsAvx2.Forward(padded, channels, shape.PaddedHeight, shape.PaddedWidth, kernel, stride, padding: 0, outHeight, outWidth,
                    pw, ColumnsAvx2.Weights.Panels, pb, po, firstFilter, endFilter, 0, outHeight, activation);
                return;
            }
            Portable(pw, px, pb, po, shape, stride, firstFilter, endFilter, activation);
        }
    }

    /// <summary>A convolution's shape as the kernels read it: the padded input's extents, the kernel and the output's.</summary>
    internal readonly record struct Shape(int Channels, int PaddedHeight, int PaddedWidth, int Kernel, int OutHeight, int OutWidth)
    {
        public long PaddedPlane => (long)PaddedHeight * PaddedWidth;

        public int Depth => Channels * Kernel * Kernel;

        public int Positions => OutHeight * OutWidth;
    }

    /// <summary>Whole channels per block of the depth, about <paramref name="depthBlock"/> taps and at least one: the
    /// offsets of a block's taps (<see cref="BlockTaps"/>) fit an int, the planes of a block being one array's.</summary>
    internal static int BlockChannels(Shape shape, int depthBlock) =>
        (int)Math.Max(1, Math.Min(depthBlock / (shape.Kernel * shape.Kernel), int.MaxValue / shape.PaddedPlane));

    /// <summary>Tap (c, ky, kx) of a block of <paramref name="blockChannels"/> channels: c planes, ky rows and kx values
    /// from the first channel's window corner, in that order.</summary>
    internal static unsafe void BlockTaps(Shape shape, int blockChannels, int* taps)
    {
        for (int c = 0, t = 0; c < blockChannels; c++)
            for (int ky = 0; ky < shape.Kernel; ky++)
                for (int kx = 0; kx < shape.Kernel; kx++) taps[t++] = (int)(c * shape.PaddedPlane) + ky * shape.PaddedWidth + kx;
    }

    /// <summary>Each output's chain, one fused multiply-add per term in (c, ky, kx) order from zero, then the bias and the activation.</summary>
    private static void Portable(float* panels, float* padded, float* bias, float* output, Shape s, int stride, int firstFilter, int endFilter, FusedActivation activation)
    {
        const int W = FilterLanes.PanelFilters;
        long k = s.Depth;
        for (int f = firstFilter; f < endFilter; f++)
        {
            float* lane = panels + f / W * W * k + f % W;
            for (int oy = 0; oy < s.OutHeight; oy++)
            for (int ox = 0; ox < s.OutWidth; ox++)
            {
                float acc = 0f;
                float* window = padded + (long)oy * stride * s.PaddedWidth + ox * stride;
                int p = 0;
                for (int c = 0; c < s.Channels; c++)
                for (int ky = 0; ky < s.Kernel; ky++)
                for (int kx = 0; kx < s.Kernel; kx++, p++)
                    acc = MathF.FusedMultiplyAdd(lane[(long)p * W], window[c * s.PaddedPlane + ky * s.PaddedWidth + kx], acc);
                output[(long)f * s.Positions + oy * s.OutWidth + ox] = Activate.Apply(acc + bias[f], activation);
            }
        }
    }
}
