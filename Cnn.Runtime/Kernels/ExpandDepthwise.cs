namespace CnnGen.Kernels;

/// <summary>
/// An inverted residual block's first two convolutions in one pass over one image (inference): a 1x1 expansion
/// <c>mid[c, p] = act1(sum over i of we[c, i] * in[i, p] + be[c])</c> and the depthwise convolution after it,
/// <c>out[c] = act2(depthwise(mid[c]) + bd[c])</c>, a block of <c>blockChannels</c> expanded channels at a time. Each
/// block of the expanded tensor is written to a scratch block (sized to stay in cache) and read back at once
/// by the depthwise kernel, so the whole expanded tensor, six times the block's input at MobileNetV2's 112x112 and 56x56,
/// never goes to memory and back.
/// <para>Every value has the bits of the two layers run one after the other: a block's expansion is
/// <see cref="Gemm.MultiplyBiasActivation"/> on that block's rows of the weight (each row's chain does not depend on
/// which rows share the call), and its depthwise convolution is <see cref="DepthwiseConv.Forward"/> on those channels.</para>
/// </summary>
public static class ExpandDepthwise
{
    /// <summary>Values of the expanded block one call needs as scratch.</summary>
    public static int ExpandedLength(int blockChannels, int height, int width) => blockChannels * height * width;

    /// <summary>
    /// One image: <paramref name="input"/> [inChannels, height, width] expanded to <paramref name="channels"/> channels
    /// by <paramref name="expandWeight"/> [channels, inChannels] and <paramref name="expandBias"/>, then
    /// <paramref name="expandActivation"/>; then each channel's <paramref name="kernel"/> x <paramref name="kernel"/>
    /// filter of <paramref name="depthwiseWeight"/> with <paramref name="depthwiseBias"/> and
    /// <paramref name="depthwiseActivation"/>, into <paramref name="output"/> [channels, outHeight, outWidth].
    /// <paramref name="depthwiseScratch"/> is <see cref="DepthwiseConv"/>'s padded plane
    /// (<see cref="DepthwiseConv.ScratchLength"/>).
    /// </summary>
    public static void Forward(ReadOnlySpan<float> input, ReadOnlySpan<float> expandWeight, ReadOnlySpan<float> expandBias,
        FusedActivation expandActivation, ReadOnlySpan<float> depthwiseWeight, ReadOnlySpan<float> depthwiseBias,
        FusedActivation depthwiseActivation, Span<float> output, Span<float> expanded, Span<float> depthwiseScratch,
        int inChannels, int channels, int height, int width, int kernel, int stride, int padding, int outHeight, int outWidth,
        int blockChannels)
    {
        if (inChannels < 1 || channels < 1 || blockChannels < 1)
            throw new ArgumentException($"ExpandDepthwise.Forward: {inChannels} input channels, {channels} expanded channels and blocks of {blockChannels} must be positive.");
        int plane = height * width, outPlane = outHeight * outWidth, kk = kernel * kernel;
        int block = Math.Min(blockChannels, channels);
        if (input.Length < (long)inChannels * plane || expandWeight.Length < (long)channels * inChannels || expandBias.Length < channels ||
            depthwiseWeight.Length < (long)channels * kk || depthwiseBias.Length < channels || output.Length < (long)channels * outPlane)
            throw new ArgumentException("ExpandDepthwise.Forward: spans too short for the given shape.");
        if (expanded.Length < (long)block * plane)
            throw new ArgumentException($"ExpandDepthwise.Forward: the expanded block holds {expanded.Length} values, {(long)block * plane} needed (ExpandedLength).");
        for (int first = 0; first < channels; first += block)
        {
            int count = Math.Min(block, channels - first);
            var mid = expanded.Slice(0, count * plane);
            Gemm.MultiplyBiasActivation(expandWeight.Slice(first * inChannels, count * inChannels), input, mid,
                expandBias.Slice(first, count), m: count, n: plane, k: inChannels, expandActivation);
            DepthwiseConv.Forward(mid, depthwiseWeight.Slice(first * kk, count * kk), depthwiseBias.Slice(first, count),
                output.Slice(first * outPlane, count * outPlane), depthwiseScratch, count, height, width, kernel, stride, padding,
                outHeight, outWidth, firstChannel: 0, endChannel: count, depthwiseActivation);
        }
    }
}
