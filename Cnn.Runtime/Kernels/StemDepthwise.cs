namespace CnnGen.Kernels;

/// <summary>
/// A network's first convolution (a dense one over the image, its BatchNorm folded in and its activation applied as it
/// stores) together with the 3x3 depthwise convolution that reads it, in one pass over one image (inference):
/// MobileNetV2's stem (3 -> 32 channels, 3x3, stride 2) and features.1's depthwise layer at 112x112. A band of output
/// rows at a time, the stem's output rows the band reads are computed straight into channel-last rows of sixteen
/// channels, convolved there and stored to their planes, so the stem's output (1.6 MB for MobileNetV2) never goes to
/// memory and back; the rows two bands share are computed once. <see cref="ForwardProjected"/> also runs the 1x1
/// convolution after the depthwise one on each band (features.1's 32 -> 16 projection), so the depthwise outputs are not
/// stored either.
/// <para>Every value has the bits of the two layers run one after the other (<see cref="StrideTwoConv"/>, then
/// <see cref="Depthwise3x3"/> or <see cref="DepthwiseConv"/>): a stem value's chain does not depend on the band that
/// holds it, and the depthwise convolution gives every kernel's chain. AVX-512 only (<see cref="ChannelLast"/>), where
/// the generated code runs it; elsewhere the two layers run as before.</para>
/// </summary>
public static unsafe class StemDepthwise
{
    /// <summary>Whether this machine runs the pair: AVX-512, a 3x3 depthwise convolution at stride 1 or 2 of a multiple of
    /// sixteen channels.</summary>
    public static bool ChannelLast(int channels, int kernel, int stride) => DepthwiseConv.StemsChannelLast(channels, kernel, stride);

    /// <summary>
    /// One image: <paramref name="input"/> [inChannels, inHeight, inWidth] convolved by <paramref name="stemWeight"/>
    /// [channels, inChannels, stemKernel, stemKernel] at <paramref name="stemStride"/> with <paramref name="stemPadding"/>,
    /// plus <paramref name="stemBias"/>, then <paramref name="stemActivation"/>, into a map of
    /// <paramref name="height"/> x <paramref name="width"/>; then each channel's 3x3 filter of
    /// <paramref name="depthwiseWeight"/> [channels, 9] at <paramref name="stride"/> with <paramref name="padding"/>, plus
    /// <paramref name="depthwiseBias"/>, then <paramref name="depthwiseActivation"/>, into <paramref name="output"/>
    /// [channels, outHeight, outWidth]; <paramref name="bandRows"/> output rows at a time.
    /// </summary>
    /// <exception cref="NotSupportedException">Not <see cref="ChannelLast"/> on this machine.</exception>
    /// <exception cref="ArgumentException">Sizes that do not follow from each other, or spans too short.</exception>
    public static void Forward(ReadOnlySpan<float> input, ReadOnlySpan<float> stemWeight, ReadOnlySpan<float> stemBias, FusedActivation stemActivation,
        ReadOnlySpan<float> depthwiseWeight, ReadOnlySpan<float> depthwiseBias, FusedActivation depthwiseActivation, Span<float> output,
        int inChannels, int inHeight, int inWidth, int stemKernel, int stemStride, int stemPadding,
        int channels, int height, int width, int stride, int padding, int outHeight, int outWidth, int bandRows) =>
        Rows(nameof(Forward), input, stemWeight, stemBias, stemActivation, depthwiseWeight, depthwiseBias, depthwiseActivation, output,
            inChannels, inHeight, inWidth, stemKernel, stemStride, stemPadding, channels, height, width, stride, padding, outHeight, outWidth, bandRows,
            0, outHeight, projects: false, default, default, FusedActivation.None, 0);

    /// <summary>
    /// Output rows <c>[firstRow, endRow)</c> of <see cref="Forward"/>, every channel: one thread's share of an image split
    /// over threads by rows, in this thread's own scratch. It writes nothing outside those rows; every value has
    /// <see cref="Forward"/>'s bits.
    /// </summary>
    public static void ForwardRows(ReadOnlySpan<float> input, ReadOnlySpan<float> stemWeight, ReadOnlySpan<float> stemBias, FusedActivation stemActivation,
        ReadOnlySpan<float> depthwiseWeight, ReadOnlySpan<float> depthwiseBias, FusedActivation depthwiseActivation, Span<float> output,
        int inChannels, int inHeight, int inWidth, int stemKernel, int stemStride, int stemPadding,
        int channels, int height, int width, int stride, int padding, int outHeight, int outWidth, int bandRows, int firstRow, int endRow) =>
        Rows(nameof(ForwardRows), input, stemWeight, stemBias, stemActivation, depthwiseWeight, depthwiseBias, depthwiseActivation, output,
            inChannels, inHeight, inWidth, stemKernel, stemStride, stemPadding, channels, height, width, stride, padding, outHeight, outWidth, bandRows,
            firstRow, endRow, projects: false, default, default, FusedActivation.None, 0);

    /// <summary>
    /// <see cref="Forward"/> followed by a 1x1 convolution on each band while it is in cache: <paramref name="projectChannels"/>
    /// filters of <paramref name="projectWeight"/> [projectChannels, channels], plus <paramref name="projectBias"/>, then
    /// <paramref name="projectActivation"/>, into <paramref name="output"/> [projectChannels, outHeight, outWidth]
    /// (MobileNetV2's features.1, 32 -> 16 channels); the depthwise outputs are not stored. Every value has the bits of
    /// the three layers one after the other (the projection's chains those of <see cref="Gemm.MultiplyBiasActivation"/>).
    /// </summary>
    public static void ForwardProjected(ReadOnlySpan<float> input, ReadOnlySpan<float> stemWeight, ReadOnlySpan<float> stemBias, FusedActivation stemActivation,
        ReadOnlySpan<float> depthwiseWeight, ReadOnlySpan<float> depthwiseBias, FusedActivation depthwiseActivation,
        ReadOnlySpan<float> projectWeight, ReadOnlySpan<float> projectBias, FusedActivation projectActivation, Span<float> output,
        int inChannels, int inHeight, int inWidth, int stemKernel, int stemStride, int stemPadding,
        int channels, int height, int width, int stride, int padding, int outHeight, int outWidth, int projectChannels, int bandRows) =>
        Rows(nameof(ForwardProjected), input, stemWeight, stemBias, stemActivation, depthwiseWeight, depthwiseBias, depthwiseActivation, output,
            inChannels, inHeight, inWidth, stemKernel, stemStride, stemPadding, channels, height, width, stride, padding, outHeight, outWidth, bandRows,
            0, outHeight, projects: true, projectWeight, projectBias, projectActivation, projectChannels);

    /// <summary>Output rows <c>[firstRow, endRow)</c> of <see cref="ForwardProjected"/>, every channel, as
    /// <see cref="ForwardRows"/> for <see cref="Forward"/>.</summary>
    public static void ForwardRowsProjected(ReadOnlySpan<float> input, ReadOnlySpan<float> stemWeight, ReadOnlySpan<float> stemBias, FusedActivation stemActivation,
        ReadOnlySpan<float> depthwiseWeight, ReadOnlySpan<float> depthwiseBias, FusedActivation depthwiseActivation,
        ReadOnlySpan<float> projectWeight, ReadOnlySpan<float> projectBias, FusedActivation projectActivation, Span<float> output,
        int inChannels, int inHeight, int inWidth, int stemKernel, int stemStride, int stemPadding,
        int channels, int height, int width, int stride, int padding, int outHeight, int outWidth, int projectChannels, int bandRows, int firstRow, int endRow) =>
        Rows(nameof(ForwardRowsProjected), input, stemWeight, stemBias, stemActivation, depthwiseWeight, depthwiseBias, depthwiseActivation, output,
            inChannels, inHeight, inWidth, stemKernel, stemStride, stemPadding, channels, height, width, stride, padding, outHeight, outWidth, bandRows,
            firstRow, endRow, projects: true, projectWeight, projectBias, projectActivation, projectChannels);

    private static void Rows(string method, ReadOnlySpan<float> input, ReadOnlySpan<float> stemWeight, ReadOnlySpan<float> stemBias, FusedActivation stemActivation,
        ReadOnlySpan<float> depthwiseWeight, ReadOnlySpan<float> depthwiseBias, FusedActivation depthwiseActivation, Span<float> output,
        int inChannels, int inHeight, int inWidth, int stemKernel, int stemStride, int stemPadding,
        int channels, int height, int width, int stride, int padding, int outHeight, int outWidth, int bandRows, int firstRow, int endRow,
        bool projects, ReadOnlySpan<float> projectWeight, ReadOnlySpan<float> projectBias, FusedActivation projectActivation, int projectChannels)
    {
        if (projects && projectChannels < 1)
            throw new ArgumentException($"StemDepthwise.{method}: {projectChannels} projection channels must be positive.");
        if (inChannels < 1 || inHeight < 1 || inWidth < 1 || stemKernel < 1 || stemStride < 1 || stemPadding < 0 || stemPadding >= stemKernel
            || channels < 1 || bandRows < 1 || stride < 1 || padding < 0 || outHeight < 1 || outWidth < 1)
            throw new ArgumentException($"StemDepthwise.{method}: {inChannels} input channels of {inHeight}x{inWidth}, a {stemKernel}x{stemKernel} stem at stride " +
                                        $"{stemStride} (padding {stemPadding}), {channels} channels, bands of {bandRows} rows and an output of {outHeight}x{outWidth} " +
                                        "must be positive, the paddings below their kernels.");
        if (height != (inHeight + 2 * stemPadding - stemKernel) / stemStride + 1 || width != (inWidth + 2 * stemPadding - stemKernel) / stemStride + 1
            || inHeight + 2 * stemPadding < stemKernel || inWidth + 2 * stemPadding < stemKernel)
            throw new ArgumentException($"StemDepthwise.{method}: a {stemKernel}x{stemKernel} stem at stride {stemStride} with padding {stemPadding} " +
                                        $"does not make a {height}x{width} map of a {inHeight}x{inWidth} input.");
        if ((outHeight - 1) * stride + 3 > height + 2 * padding || (outWidth - 1) * stride + 3 > width + 2 * padding)
            throw new ArgumentException($"StemDepthwise.{method}: an output of {outHeight}x{outWidth} reads past the padded {height + 2 * padding}x{width + 2 * padding} map.");
        if (input.Length < (long)inChannels * inHeight * inWidth || stemWeight.Length < (long)channels * inChannels * stemKernel * stemKernel
            || stemBias.Length < channels || depthwiseWeight.Length < (long)channels * 9 || depthwiseBias.Length < channels
            || output.Length < (long)(projects ? projectChannels : channels) * outHeight * outWidth
            || projects && (projectWeight.Length < (long)projectChannels * channels || projectBias.Length < projectChannels))
            throw new ArgumentException($"StemDepthwise.{method}: spans too short for the given shape.");
        if (firstRow < 0 || endRow > outHeight || firstRow > endRow)
            throw new ArgumentException($"StemDepthwise.{method}: rows [{firstRow}, {endRow}) are not within the {outHeight} output rows.");
        if (!ChannelLast(channels, 3, stride))
            throw new NotSupportedException($"StemDepthwise.{method}: this machine does not run {channels} channels at stride {stride} channel-last (StemDepthwise.ChannelLast).");
        if (firstRow == endRow) return;
        fixed (float* pin = input, psw = stemWeight, psb = stemBias, pw = depthwiseWeight, pb = depthwiseBias, pout = output, ppw = projectWeight, ppb = projectBias)
            DepthwiseConv.StemBlocks(pin, inChannels, inHeight, inWidth, psw, psb, stemActivation, stemKernel, stemStride, stemPadding,
                pw, pb, pout, channels, height, width, stride, padding, outHeight, outWidth, depthwiseActivation,
                new DepthwiseConv.Projection(ppw, ppb, projectActivation, projects ? projectChannels : 0), bandRows, firstRow, endRow);
    }
}
