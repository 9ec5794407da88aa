using System.Runtime.CompilerServices;

namespace CnnGen.Kernels;

/// <summary>
/// An inverted residual block's first two convolutions in one pass over one image (inference): a 1x1 expansion
/// <c>mid[c, p] = act1(sum over i of we[c, i] * in[i, p] + be[c])</c> and the depthwise convolution after it,
/// <c>out[c] = act2(depthwise(mid[c]) + bd[c])</c>, a band of <c>bandRows</c> output rows at a time: the input rows the
/// band reads (its rows times the stride, plus the kernel's overlap, which the next band expands again) are copied side
/// by side, expanded for every channel into a scratch band sized to stay in cache, and convolved at once. The whole
/// expanded tensor, six times the block's input at MobileNetV2's 112x112 and 56x56, never goes to memory and back.
/// <para>Every value has the bits of the two layers run one after the other: a band's expansion is
/// <see cref="Gemm.MultiplyBiasActivation"/> on the band's columns (each column's chain does not depend on which
/// columns share the call), and its depthwise convolution gives <see cref="DepthwiseConv.Forward"/>'s chains. Where
/// <see cref="ChannelLast"/>, the band is expanded straight into channel-last rows and convolved there
/// (<c>DepthwiseConv.ExpandedBlocks</c>). Elsewhere a 3x3 stride-2 padding-1 depthwise convolution reads the expanded
/// band in place (<see cref="Depthwise3x3Stride2"/>); other shapes copy it into the general kernel's padded plane.</para>
/// </summary>
public static unsafe class ExpandDepthwise
{
    /// <summary>
    /// Whether this machine expands straight into the depthwise kernel's channel-last rows (a 3x3 depthwise convolution
    /// at stride 1 or 2; on AVX-512 expanded channels a multiple of sixteen, on AVX2 without it a multiple of eight): there
    /// the fusion also pays for blocks whose expanded tensor fits the caches, which the generated code fuses only then.
    /// On AVX2, MobileNetV2's blocks alone (each block's two layers against the fused kernel in bands of 8 rows and of the
    /// whole map, medians of 31 calls, one run on a slow stretch of the machine): 24 -> 144 at 56x56 1,257 -> 970-971 us
    /// at stride 1 and 970 -> 642-727 at stride 2; 32 -> 192 at 28x28 475 -> 326-381 and 352 -> 261-271; at 14x14 even
    /// or slower (317 -> 298-326, 614 -> 616-687, 572 -> 548-559), at 7x7 slower (160 -> 960: 440 -> 629-642). On
    /// AVX-512, in MobileNetV2's pass on one thread (<c>Cnn.Latency --layers</c>, four runs of each build in turn on a
    /// slow stretch of the machine, expansion and depthwise layers together, us), against the planar bands before:
    /// 16 -> 96 at 112x112 651-688 -> 352-421; 24 -> 144 at 56x56 339-356 -> 281-343 at stride 1 and 281-294 -> 178-205
    /// at stride 2; the three 32 -> 192 blocks at 28x28 352-363 -> 252-290; the pass 5,590-5,730 -> 4,648-5,315.
    /// </summary>
    public static bool ChannelLast(int channels, int kernel, int stride) => DepthwiseConv.ExpandsChannelLast(channels, kernel, stride);

    /// <summary>Input rows one band of <paramref name="bandRows"/> output rows reads, at most.</summary>
    private static int BandInputRows(int bandRows, int height, int kernel, int stride) => Math.Min(height, (bandRows - 1) * stride + kernel);

    /// <summary>Values of scratch one call needs: the band's input rows, its expanded rows and the depthwise kernel's plane.</summary>
    public static int ScratchLength(int inChannels, int channels, int height, int width, int kernel, int stride, int padding, int outWidth, int bandRows)
    {
        int rows = BandInputRows(bandRows, height, kernel, stride);
        return (inChannels + channels) * rows * width + DepthwiseConv.BandScratchLength(bandRows, width, kernel, stride, padding, outWidth);
    }

    /// <summary>
    /// One image: <paramref name="input"/> [inChannels, height, width] expanded to <paramref name="channels"/> channels
    /// by <paramref name="expandWeight"/> [channels, inChannels] and <paramref name="expandBias"/>, then
    /// <paramref name="expandActivation"/>; then each channel's <paramref name="kernel"/> x <paramref name="kernel"/>
    /// filter of <paramref name="depthwiseWeight"/> with <paramref name="depthwiseBias"/> and
    /// <paramref name="depthwiseActivation"/>, into <paramref name="output"/> [channels, outHeight, outWidth].
    /// <paramref name="scratch"/> holds <see cref="ScratchLength"/> values (none are needed where
    /// <see cref="ChannelLast"/>: that path keeps a thread's own).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Forward(ReadOnlySpan<float> input, ReadOnlySpan<float> expandWeight, ReadOnlySpan<float> expandBias,
        FusedActivation expandActivation, ReadOnlySpan<float> depthwiseWeight, ReadOnlySpan<float> depthwiseBias,
        FusedActivation depthwiseActivation, Span<float> output, Span<float> scratch,
        int inChannels, int channels, int height, int width, int kernel, int stride, int padding, int outHeight, int outWidth,
        int bandRows)
    {
        Check(nameof(Forward), input, expandWeight, expandBias, depthwiseWeight, depthwiseBias, output,
            inChannels, channels, height, width, kernel, stride, padding, outHeight, outWidth, bandRows);
        int needed = ScratchLength(inChannels, channels, height, width, kernel, stride, padding, outWidth, bandRows);
        if (scratch.Length < needed && !ChannelLast(channels, kernel, stride))
            throw new ArgumentException($"ExpandDepthwise.Forward: scratch holds {scratch.Length} values, {needed} needed (ScratchLength).");
        Bands(input, expandWeight, expandBias, expandActivation, depthwiseWeight, depthwiseBias, depthwiseActivation, output, scratch,
            inChannels, channels, height, width, kernel, stride, padding, outHeight, outWidth, bandRows, 0, outHeight);
    }

    /// <summary>
    /// Output rows <c>[firstRow, endRow)</c> of <see cref="Forward"/>, every channel: one thread's share of an image split
    /// over threads by rows, in bands of at most <paramref name="bandRows"/> rows as even as that allows, in this thread's
    /// own scratch (grown once). It expands only the input rows those output rows read and writes nothing outside them; every
    /// value has <see cref="Forward"/>'s bits (a value's chains do not depend on the band that holds it).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ForwardRows(ReadOnlySpan<float> input, ReadOnlySpan<float> expandWeight, ReadOnlySpan<float> expandBias,
        FusedActivation expandActivation, ReadOnlySpan<float> depthwiseWeight, ReadOnlySpan<float> depthwiseBias,
        FusedActivation depthwiseActivation, Span<float> output,
        int inChannels, int channels, int height, int width, int kernel, int stride, int padding, int outHeight, int outWidth,
        int bandRows, int firstRow, int endRow)
    {
        Check(nameof(ForwardRows), input, expandWeight, expandBias, depthwiseWeight, depthwiseBias, output,
            inChannels, channels, height, width, kernel, stride, padding, outHeight, outWidth, bandRows);
        if (firstRow < 0 || endRow > outHeight || firstRow > endRow)
            throw new ArgumentException($"ExpandDepthwise.ForwardRows: rows [{firstRow}, {endRow}) are not within the {outHeight} output rows.");
        if (firstRow == endRow) return;
        int rows = endRow - firstRow, bands = (rows + bandRows - 1) / bandRows, band = (rows + bands - 1) / bands;
        // Sized for a whole band of bandRows (no band is larger), so that ranges of other lengths later need no more; none
        // where the channel-last kernels run, which keep scratch of their own.
        Span<float> scratch = ChannelLast(channels, kernel, stride) ? default
            : ThreadScratch.AtLeast(ref _threadScratch, ScratchLength(inChannels, channels, height, width, kernel, stride, padding, outWidth, bandRows));
        Bands(input, expandWeight, expandBias, expandActivation, depthwiseWeight, depthwiseBias, depthwiseActivation, output, scratch,
            inChannels, channels, height, width, kernel, stride, padding, outHeight, outWidth, band, firstRow, endRow);
    }

    /// <summary>This thread's scratch for <see cref="ForwardRows"/>.</summary>
    [ThreadStatic] private static float[]? _threadScratch;

    /// <summary>The checks of both entry points, named in their messages: positive sizes, an output the padded input
    /// holds, spans long enough.</summary>
    private static void Check(string method, ReadOnlySpan<float> input, ReadOnlySpan<float> expandWeight, ReadOnlySpan<float> expandBias,
        ReadOnlySpan<float> depthwiseWeight, ReadOnlySpan<float> depthwiseBias, Span<float> output,
        int inChannels, int channels, int height, int width, int kernel, int stride, int padding, int outHeight, int outWidth, int bandRows)
    {
        if (inChannels < 1 || channels < 1 || bandRows < 1 || kernel < 1 || stride < 1 || padding < 0 || height < 1 || width < 1 || outHeight < 1 || outWidth < 1)
            throw new ArgumentException($"ExpandDepthwise.{method}: {inChannels} input channels, {channels} expanded channels, bands of {bandRows} rows, " +
                                        $"kernel {kernel}, stride {stride}, input {height}x{width} and output {outHeight}x{outWidth} must be positive (padding {padding} at least 0).");
        if ((outHeight - 1) * stride + kernel > height + 2 * padding || (outWidth - 1) * stride + kernel > width + 2 * padding)
            throw new ArgumentException($"ExpandDepthwise.{method}: an output of {outHeight}x{outWidth} reads past the padded {height + 2 * padding}x{width + 2 * padding} input.");
        int plane = height * width, kk = kernel * kernel;
        if (input.Length < (long)inChannels * plane || expandWeight.Length < (long)channels * inChannels || expandBias.Length < channels ||
            depthwiseWeight.Length < (long)channels * kk || depthwiseBias.Length < channels || output.Length < (long)channels * outHeight * outWidth)
            throw new ArgumentException($"ExpandDepthwise.{method}: spans too short for the given shape.");
    }

    /// <summary>Output rows <c>[firstRow, endRow)</c> in bands of <paramref name="bandRows"/> (the last one shorter), the
    /// caller having checked the shape and the scratch.</summary>
    private static void Bands(ReadOnlySpan<float> input, ReadOnlySpan<float> expandWeight, ReadOnlySpan<float> expandBias,
        FusedActivation expandActivation, ReadOnlySpan<float> depthwiseWeight, ReadOnlySpan<float> depthwiseBias,
        FusedActivation depthwiseActivation, Span<float> output, Span<float> scratch,
        int inChannels, int channels, int height, int width, int kernel, int stride, int padding, int outHeight, int outWidth,
        int bandRows, int firstRow, int endRow)
    {
        if (DepthwiseConv.ExpandsChannelLast(channels, kernel, stride))
        {
            // The band expanded straight into the depthwise kernel's channel-last rows, 32 channels at a time on AVX-512 and
            // sixteen on AVX2.
            fixed (float* pin = input, pwe = expandWeight, pbe = expandBias, pw = depthwiseWeight, pb = depthwiseBias, pout = output)
                DepthwiseConv.ExpandedBlocks(pin, inChannels, pwe, pbe, expandActivation, pw, pb, pout, channels, height, width, stride, padding,
                    outHeight, outWidth, depthwiseActivation, bandRows, firstRow, endRow);
            return;
        }
        int plane = height * width;
        int most = BandInputRows(bandRows, height, kernel, stride) * width;
        // 3x3, stride 2, padding 1 (MobileNetV2's 112x112 block): the band is convolved where it was expanded, without a plane.
        bool inPlace = Depthwise3x3Stride2.Supports(kernel, stride, padding, 1) && outHeight == Depthwise3x3Stride2.OutputSize(height) &&
                       outWidth == Depthwise3x3Stride2.OutputSize(width);
        var bandInput = scratch.Slice(0, inChannels * most);
        var expanded = scratch.Slice(inChannels * most, channels * most);
        var planeScratch = scratch.Slice((inChannels + channels) * most);
        fixed (float* pmid = expanded, pw = depthwiseWeight, pb = depthwiseBias, pout = output, pplane = planeScratch)
            for (int first = firstRow; first < endRow; first += bandRows)
            {
                int end = Math.Min(endRow, first + bandRows);
                // The input rows the band's outputs read that lie inside the image.
                int inFirst = Math.Max(0, first * stride - padding), inEnd = Math.Min(height, (end - 1) * stride - padding + kernel);
                int n = Math.Max(0, inEnd - inFirst) * width;
                if (n > 0)
                {
                    // The band's rows of every input channel side by side: the product's [inChannels, n] matrix.
                    for (int i = 0; i < inChannels; i++)
                        input.Slice(i * plane + inFirst * width, n).CopyTo(bandInput.Slice(i * n, n));
                    Gemm.MultiplyBiasActivation(expandWeight, bandInput.Slice(0, inChannels * n), expanded.Slice(0, channels * n), expandBias,
                        m: channels, n: n, k: inChannels, expandActivation);
                }
                if (inPlace)
                    Depthwise3x3Stride2.ForwardRows(pmid, n, inFirst, inEnd, pw, pb, pout, channels, height, width, first, end, depthwiseActivation);
                else
                    DepthwiseConv.ForwardRows(pmid, n, inFirst, inEnd, pw, pb, pout, pplane, channels, height, width, kernel, stride, padding,
                        outHeight, outWidth, first, end, depthwiseActivation);
            }
    }
}
