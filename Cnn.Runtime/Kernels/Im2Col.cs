using System.Runtime.CompilerServices;

namespace CnnGen.Kernels;

/// <summary>
/// im2col (seed 001's speed-up): lays the input patches of a convolution out as the columns of a matrix, so the
/// convolution becomes one matrix product <c>out[F, OH*OW] = weight[F, C*K*K] * col[C*K*K, OH*OW]</c>.
/// Row <c>(c*K + ky)*K + kx</c> of <c>col</c> holds input channel c shifted by (ky, kx) for every output position;
/// positions in the zero padding hold 0.
/// </summary>
public static unsafe class Im2Col
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Pack(ReadOnlySpan<float> input, Span<float> col, int channels, int height, int width,
        int kernel, int stride, int padding, int outHeight, int outWidth)
    {
        int positions = outHeight * outWidth;
        if (input.Length < channels * height * width || col.Length < channels * kernel * kernel * positions)
            throw new ArgumentException("Im2Col.Pack: spans too short for the given shape.");
        fixed (float* pin = input, pcol = col)
        {
            for (int c = 0; c < channels; c++)
            for (int ky = 0; ky < kernel; ky++)
            for (int kx = 0; kx < kernel; kx++)
            {
                float* row = pcol + (long)((c * kernel + ky) * kernel + kx) * positions;
                // Output columns whose input column ox*stride + kx - padding lies inside the image.
                (int first, int last) = ValidRange(kx, stride, padding, width, outWidth);
                for (int oy = 0; oy < outHeight; oy++)
                {
                    float* dst = row + oy * outWidth;
                    int iy = oy * stride + ky - padding;
                    if (iy < 0 || iy >= height || first >= last)
                    {
                        new Span<float>(dst, outWidth).Clear();
                        continue;
                    }
                    for (int ox = 0; ox < first; ox++) dst[ox] = 0f;
                    for (int ox = last; ox < outWidth; ox++) dst[ox] = 0f;
                    float* src = pin + (c * height + iy) * width + first * stride + kx - padding;
                    if (stride == 1)
                        Buffer.MemoryCopy(src, dst + first, (last - first) * sizeof(float), (last - first) * sizeof(float));
                    else
                        for (int ox = first; ox < last; ox++, src += stride) dst[ox] = *src;
                }
            }
        }
    }

    /// <summary>col2im: adds every column entry back onto the input position it came from (the adjoint of <see cref="Pack"/>).
    /// <paramref name="inputGradient"/> must be zeroed by the caller.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Unpack(ReadOnlySpan<float> col, Span<float> inputGradient, int channels, int height, int width,
        int kernel, int stride, int padding, int outHeight, int outWidth)
    {
        int positions = outHeight * outWidth;
        if (inputGradient.Length < channels * height * width || col.Length < channels * kernel * kernel * positions)
            throw new ArgumentException("Im2Col.Unpack: spans too short for the given shape.");
        fixed (float* pcol = col, pgrad = inputGradient)
        {
            for (int c = 0; c < channels; c++)
            for (int ky = 0; ky < kernel; ky++)
            for (int kx = 0; kx < kernel; kx++)
            {
                float* row = pcol + (long)((c * kernel + ky) * kernel + kx) * positions;
                (int first, int last) = ValidRange(kx, stride, padding, width, outWidth);
                if (first >= last) continue;
                for (int oy = 0; oy < outHeight; oy++)
                {
                    int iy = oy * stride + ky - padding;
                    if (iy < 0 || iy >= height) continue;
                    float* src = row + oy * outWidth;
                    float* dst = pgrad + (c * height + iy) * width + first * stride + kx - padding;
                    for (int ox = first; ox < last; ox++, dst += stride) *dst += src[ox];
                }
            }
        }
    }

    /// <summary>The output columns [first, last) whose input column <c>ox*stride + kx - padding</c> is inside [0, width).</summary>
    private static (int First, int Last) ValidRange(int kx, int stride, int padding, int width, int outWidth)
    {
        int offset = kx - padding;
        int first = offset >= 0 ? 0 : (-offset + stride - 1) / stride;
        int last = offset >= width ? 0 : Math.Min(outWidth, (width - 1 - offset) / stride + 1);
        return (Math.Min(first, outWidth), Math.Max(last, 0));
    }
}
