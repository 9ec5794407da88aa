namespace CnnGen.Kernels;

/// <summary>
/// The input gradient of a 3x3 stride-1 convolution (groups 1, no dilation) through Winograd F(4x4, 3x3): seed 001's full
/// convolution of <c>dout</c> with the kernel rotated 180 degrees, its channels and filters swapped
/// (<see cref="DirectConvInputGradient.FlipWeights"/>), is itself a 3x3 stride-1 convolution of <c>dout</c> padded by
/// <c>2 - padding</c>, so <see cref="Winograd3x3.Forward"/> computes it for all images of a call at once, with a bias of zeros,
/// from the flipped weights transformed by <see cref="TransformWeights"/>. It differs from the direct kernel's sums by
/// rounding only, as the forward pass does.
/// </summary>
public static class WinogradInputGradient
{
    /// <summary>Whether this shape's input gradient can be computed so: a 3x3 kernel, stride 1, no dilation, groups 1, and
    /// a padding of at most 2 (the full convolution's padding, <c>2 - padding</c>, is not negative).</summary>
    public static bool Supports(int kernel, int stride, int dilation, int groups, int padding) =>
        Winograd3x3.Supports(kernel, stride, dilation, groups) && padding >= 0 && padding <= 2;

    /// <summary>Values of the transformed flipped weights (<c>U[36][filters][channels]</c>: the input's channels are the
    /// full convolution's filters).</summary>
    public static long TransformedWeightLength(int filters, int channels) => Winograd3x3.TransformedWeightLength(channels, filters);

    /// <summary>Values of the channel-last padded copy of <paramref name="images"/> output gradients, in the full
    /// convolution's tiles (those of the input's <paramref name="height"/> x <paramref name="width"/>).</summary>
    public static long PaddedLength(int images, int filters, int height, int width) =>
        Winograd3x3.PaddedLength(images, filters, height, width);

    /// <summary>Values of the scratch of one block of tiles.</summary>
    public static long ScratchLength(int images, int channels, int filters, int height, int width) =>
        Winograd3x3.ScratchLength(images, filters, channels, height, width);

    /// <summary>The layer's <c>[filters, channels, 3, 3]</c> <paramref name="weight"/> rotated 180 degrees with channels and
    /// filters swapped into <paramref name="flipped"/> (as many values), then transformed into <paramref name="transformed"/>
    /// (<see cref="TransformedWeightLength"/> values) for <see cref="Images"/>.</summary>
    public static void TransformWeights(ReadOnlySpan<float> weight, Span<float> flipped, Span<float> transformed, int filters, int channels)
    {
        DirectConvInputGradient.FlipWeights(weight, flipped, filters, channels, kernel: 3);
        Winograd3x3.TransformWeights(flipped, transformed, filters: channels, channels: filters, f0: 0, f1: channels);
    }

    /// <summary>
    /// Writes <paramref name="dinp"/> (<paramref name="images"/> x <c>[channels, height, width]</c>) from
    /// <paramref name="dout"/> (<c>[filters, outHeight, outWidth]</c> each) of a 3x3 stride-1 convolution with
    /// <paramref name="padding"/>; <paramref name="padded"/> (<see cref="PaddedLength"/>) and <paramref name="scratch"/>
    /// (<see cref="ScratchLength"/>) are its working space.
    /// </summary>
    public static void Images(ReadOnlySpan<float> dout, int images, ReadOnlySpan<float> transformed, Span<float> dinp, Span<float> padded,
        Span<float> scratch, int channels, int height, int width, int filters, int padding, int outHeight, int outWidth)
    {
        if (padding < 0 || padding > 2)
            throw new ArgumentException($"WinogradInputGradient.Images: padding {padding} leaves no full convolution of 3x3 (0 to 2 are).");
        if (outHeight != height + 2 * padding - 2 || outWidth != width + 2 * padding - 2)
            throw new ArgumentException("WinogradInputGradient.Images: the output size is not that of a 3x3 stride-1 convolution of the input.");
        Winograd3x3.Forward(dout, images, transformed, Zeros.Get(channels), dinp, padded, scratch, channels: filters, height: outHeight, width: outWidth,
            filters: channels, padding: 2 - padding, outHeight: height, outWidth: width);
    }
}
