using System.Runtime.CompilerServices;

namespace CnnGen.Kernels;

/// <summary>
/// The input gradient of a stride-1 convolution (groups 1, no dilation) by the direct kernel, without the column gradient
/// and col2im: <c>dinp[c, y, x] = sum over f, ky, kx of w[f, c, ky, kx] * dout[f, y + p - ky, x + p - kx]</c> — seed 001's
/// full convolution of <c>dout</c> with the kernel rotated 180 degrees, its channels and filters swapped
/// (<see cref="FlipWeights"/>), run by <see cref="DirectConv.Forward"/> over <c>dout</c> padded by <c>kernel - 1 - padding</c>.
/// Each value is a fused multiply-add chain over (f, ky, kx), then + 0; im2col's path sums the same products in another order.
/// </summary>
public static class DirectConvInputGradient
{
    /// <summary>Whether <see cref="Image"/> handles this shape: the gradient's rows (the input's) are what the direct
    /// kernel computes, and the padding leaves a non-negative padding for the full convolution.</summary>
    public static bool Supports(int kernel, int padding, int width) => padding <= kernel - 1 && DirectConv.Supports(1, width);

    /// <summary>Values of the padded copy of <c>dout</c> that <see cref="Image"/> needs as scratch (0 when none).</summary>
    public static int PaddedLength(int filters, int outHeight, int outWidth, int kernel, int padding) =>
        DirectConv.PaddedLength(filters, outHeight, outWidth, kernel - 1 - padding);

    /// <summary><c>flipped[c, f, ky, kx] = weight[f, c, kernel - 1 - ky, kernel - 1 - kx]</c>: the weights of the full
    /// convolution, with the input's channels as its filters.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void FlipWeights(ReadOnlySpan<float> weight, Span<float> flipped, int filters, int channels, int kernel)
    {
        int kk = kernel * kernel, length = filters * channels * kk;
        if (weight.Length < length || flipped.Length < length)
            throw new ArgumentException("DirectConvInputGradient.FlipWeights: spans too short for the given shape.");
        for (int f = 0; f < filters; f++)
        for (int c = 0; c < channels; c++)
        {
            var from = weight.Slice((f * channels + c) * kk, kk);
            var to = flipped.Slice((c * filters + f) * kk, kk);
            for (int t = 0; t < kk; t++) to[t] = from[kk - 1 - t];
        }
    }

    /// <summary>One image: writes <paramref name="dinp"/> (<c>[channels, height, width]</c>) from <paramref name="dout"/>
    /// (<c>[filters, outHeight, outWidth]</c>) and the weights from <see cref="FlipWeights"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Image(ReadOnlySpan<float> dout, ReadOnlySpan<float> flipped, Span<float> dinp, Span<float> padded,
        int channels, int height, int width, int filters, int kernel, int padding, int outHeight, int outWidth)
    {
        if (!Supports(kernel, padding, width))
            throw new ArgumentException($"DirectConvInputGradient.Image: kernel {kernel}, padding {padding}, width {width} is not supported.");
        if (outHeight != height + 2 * padding - kernel + 1 || outWidth != width + 2 * padding - kernel + 1)
            throw new ArgumentException("DirectConvInputGradient.Image: the output size is not that of a stride-1 convolution of the input.");
        DirectConv.Forward(dout, flipped, Zeros.Get(channels), dinp, padded, channels: filters, height: outHeight, width: outWidth,
            filters: channels, kernel: kernel, padding: kernel - 1 - padding, outHeight: height, outWidth: width);
    }
}
