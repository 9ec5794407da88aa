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
/// 8 columns in registers.
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
            else Portable(px, paddedLength, pd, outLength, pc, filters, channels, kernel, ph, pw, outHeight, outWidth, count);
        }
    }

    /// <summary>Every output on its own: its 16 lane sums over the images and positions, then the fold of
    /// <see cref="Gemm.Dot"/> (8- or 1-wide, the same bits).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Portable(float* x, int xStride, float* dout, int doutStride, float* c, int m, int channels, int kernel,
        int ph, int pw, int oh, int ow, int count)
    {
        int n = channels * kernel * kernel, positions = oh * ow;
        float* lanes = stackalloc float[16];
        for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++)
        {
            int channel = j / (kernel * kernel), ky = j / kernel % kernel, kx = j % kernel;
            int offset = (channel * ph + ky) * pw + kx;
            var lo = Vector256<float>.Zero;
            var hi = Vector256<float>.Zero;
            for (int l = 0; l < 16; l++) lanes[l] = 0;
            for (int s = 0; s < count; s++)
            {
                float* a = dout + (long)s * doutStride + (long)i * positions;
                float* b = x + (long)s * xStride + offset;
                for (int oy = 0; oy < oh; oy++, a += ow, b += pw)
                for (int ox = 0; ox < ow; ox += 16)
                {
                    if (Vector256.IsHardwareAccelerated)
                    {
                        lo = Vector256.FusedMultiplyAdd(Vector256.Load(a + ox), Vector256.Load(b + ox), lo);
                        hi = Vector256.FusedMultiplyAdd(Vector256.Load(a + ox + 8), Vector256.Load(b + ox + 8), hi);
                    }
                    else
                        for (int l = 0; l < 16; l++) lanes[l] = MathF.FusedMultiplyAdd(a[ox + l], b[ox + l], lanes[l]);
                }
            }
            if (Vector256.IsHardwareAccelerated)
            {
                lo.Store(lanes);
                hi.Store(lanes + 8);
            }
            c[(long)i * n + j] += FoldLanes(lanes);
        }
    }

    /// <summary>The fold of <see cref="Gemm.Dot"/>: <c>v8 = l + (l+8)</c>, <c>v4 = v8 + (v8+4)</c>, <c>(v4[0] + v4[2]) + (v4[1] + v4[3])</c>.</summary>
    private static float FoldLanes(float* lanes)
    {
        float* v8 = stackalloc float[8];
        for (int l = 0; l < 8; l++) v8[l] = lanes[l] + lanes[l + 8];
        float s0 = v8[0] + v8[4], s1 = v8[1] + v8[5], s2 = v8[2] + v8[6], s3 = v8[3] + v8[7];
        return (s0 + s2) + (s1 + s3);
    }
}
