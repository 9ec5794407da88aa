using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CnnGen.Kernels;

/// <summary>
/// The weight gradient of a stride-1 convolution (groups 1, no dilation) straight from the zero-padded input images,
/// without im2col columns: <c>dweight[f, (c, ky, kx)] += sum over images s and positions p = (oy, ox) of
/// dout_s[f, p] * padded_s[c, oy + ky, ox + kx]</c>. Output rows must be whole chunks of 16 positions (widths 16, 32, ...),
/// so each chunk of 16 positions of a column is 16 consecutive values of one padded row. Each output keeps the 16 lane
/// sums of <see cref="Gemm.Dot"/> across all <c>count</c> images (image after image, position after position, from zero)
/// and folds them once into <c>dweight</c>: exactly what <see cref="Im2Col.Pack"/> of the same images followed by one
/// <see cref="Gemm.AccumulateTransposedB"/> over them computes, so both give the same bits. The AVX-512 path
/// (<see cref="DirectWeightGradientAvx512"/>) keeps <see cref="WideWeightGradientAvx512"/>'s block of 3 filters against
/// 8 columns in registers; the AVX2 one (<see cref="DirectWeightGradientAvx2"/>) a block of 2 filters against 3 columns.
/// </summary>
public static unsafe class DirectWeightGradient
{
    /// <summary>Whether <see cref="Accumulate"/> handles this shape: stride 1 and output rows of whole chunks of 16.</summary>
    public static bool Supports(int stride, int outWidth) => stride == 1 && outWidth > 0 && outWidth % 16 == 0;

    /// <summary>Values of the zero-padded copies of <paramref name="images"/> images that <see cref="Accumulate"/> needs
    /// as scratch (0 without padding: the input is read in place).</summary>
    public static long PaddedLength(int images, int channels, int height, int width, int padding) =>
        padding == 0 ? 0 : (long)images * channels * (height + 2 * padding) * (width + 2 * padding);

    /// <summary>
    /// <c>dweight[filters, channels * kernel * kernel] +=</c> the weight gradient of <paramref name="count"/> images:
    /// <paramref name="input"/> holds them one after the other (<c>[channels, height, width]</c> each), <paramref name="dout"/>
    /// their output gradients (<c>[filters, outHeight, outWidth]</c> each). With padding the images are first copied,
    /// zero-padded, into <paramref name="padded"/> (<see cref="PaddedLength"/>); without, they are read in place.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Accumulate(ReadOnlySpan<float> input, ReadOnlySpan<float> dout, Span<float> dweight, Span<float> padded, int count,
        int channels, int height, int width, int filters, int kernel, int padding, int outHeight, int outWidth)
    {
        if (count <= 0) return;
        if (!Supports(1, outWidth))
            throw new ArgumentException($"DirectWeightGradient.Accumulate: output rows of {outWidth} are not whole chunks of 16.");
        if (outHeight != height + 2 * padding - kernel + 1 || outWidth != width + 2 * padding - kernel + 1 || kernel < 1 || padding < 0)
            throw new ArgumentException("DirectWeightGradient.Accumulate: the output size is not that of a stride-1 convolution of the input.");
        int inLength = channels * height * width, outLength = filters * outHeight * outWidth, depth = channels * kernel * kernel;
        if (input.Length < (long)count * inLength || dout.Length < (long)count * outLength || dweight.Length < (long)filters * depth
            || padded.Length < PaddedLength(count, channels, height, width, padding))
            throw new ArgumentException("DirectWeightGradient.Accumulate: spans too short for the given shape.");
        int ph = height + 2 * padding, pw = width + 2 * padding, paddedLength = channels * ph * pw;
        ReadOnlySpan<float> x = input;
        if (padding > 0)
        {
            for (int s = 0; s < count; s++)
                DirectConv.Pad(input.Slice(s * inLength, inLength), padded.Slice(s * paddedLength, paddedLength), channels, height, width, padding);
            x = padded;
        }
        fixed (float* px = x, pd = dout, pc = dweight)
        {
            if (Avx512F.IsSupported && Vector512.IsHardwareAccelerated)
                DirectWeightGradientAvx512.Accumulate(px, paddedLength, pd, outLength, pc, filters, channels, kernel, ph, pw, outHeight, outWidth, count);
            else if (Avx2.IsSupported && Fma.IsSupported)
                DirectWeightGradientAvx2.Accumulate(px, paddedLength, pd, outLength, pc, filters, channels, kernel, ph, pw, outHeight, outWidth, count);
            else Portable(px, paddedLength, pd, outLength, pc, filters, channels, kernel, ph, pw, outHeight, outWidth, count);
        }
    }

    /// <summary>Every output on its own: its 16 lane sums over the images and rows (<see cref="Gemm.AddLaneProducts"/>, each
    /// row whole chunks of 16), then the fold of <see cref="Gemm.Dot"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Portable(float* x, int xStride, float* dout, int doutStride, float* c, int m, int channels, int kernel,
        int ph, int pw, int oh, int ow, int count)
    {
        int n = channels * kernel * kernel, positions = oh * ow;
        Span<float> lanes = stackalloc float[16];
        for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++)
        {
            int channel = j / (kernel * kernel), ky = j / kernel % kernel, kx = j % kernel;
            int offset = (channel * ph + ky) * pw + kx;
            lanes.Clear();
            for (int s = 0; s < count; s++)
            {
                float* a = dout + (long)s * doutStride + (long)i * positions;
                float* b = x + (long)s * xStride + offset;
                for (int oy = 0; oy < oh; oy++, a += ow, b += pw)
                    Gemm.AddLaneProducts(new ReadOnlySpan<float>(a, ow), new ReadOnlySpan<float>(b, ow), lanes);
            }
            c[(long)i * n + j] += Gemm.FoldLanes(lanes);
        }
    }
}
