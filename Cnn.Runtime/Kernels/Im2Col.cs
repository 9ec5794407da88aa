namespace CnnGen.Kernels;

/// <summary>
/// im2col (seed 001's speed-up): lays the input patches of a convolution out as the columns of a matrix, so the
/// convolution becomes one matrix product <c>out[F, OH*OW] = weight[F, C*K*K] * col[C*K*K, OH*OW]</c>.
/// Row <c>(c*K + ky)*K + kx</c> of <c>col</c> holds input channel c shifted by (ky, kx) for every output position;
/// positions in the zero padding hold 0.
/// </summary>
public static class Im2Col
{
    public static void Pack(ReadOnlySpan<float> input, Span<float> col, int channels, int height, int width,
        int kernel, int stride, int padding, int outHeight, int outWidth)
    {
        int positions = outHeight * outWidth;
        for (int c = 0; c < channels; c++)
        for (int ky = 0; ky < kernel; ky++)
        for (int kx = 0; kx < kernel; kx++)
        {
            var row = col.Slice(((c * kernel + ky) * kernel + kx) * positions, positions);
            // Output columns whose input column ox*stride + kx - padding lies inside the image.
            (int first, int last) = ValidRange(kx, stride, padding, width, outWidth);
            for (int oy = 0; oy < outHeight; oy++)
            {
                var dst = row.Slice(oy * outWidth, outWidth);
                int iy = oy * stride + ky - padding;
                if (iy < 0 || iy >= height || first >= last) { dst.Clear(); continue; }
                dst[..first].Clear();
                dst[last..].Clear();
                var src = input.Slice((c * height + iy) * width);
                int ix = first * stride + kx - padding;
                if (stride == 1)
                    src.Slice(ix, last - first).CopyTo(dst[first..last]);
                else
                    for (int ox = first; ox < last; ox++, ix += stride) dst[ox] = src[ix];
            }
        }
    }

    /// <summary>col2im: adds every column entry back onto the input position it came from (the adjoint of <see cref="Pack"/>).
    /// <paramref name="inputGradient"/> must be zeroed by the caller.</summary>
    public static void Unpack(ReadOnlySpan<float> col, Span<float> inputGradient, int channels, int height, int width,
        int kernel, int stride, int padding, int outHeight, int outWidth)
    {
        int positions = outHeight * outWidth;
        for (int c = 0; c < channels; c++)
        for (int ky = 0; ky < kernel; ky++)
        for (int kx = 0; kx < kernel; kx++)
        {
            var row = col.Slice(((c * kernel + ky) * kernel + kx) * positions, positions);
            (int first, int last) = ValidRange(kx, stride, padding, width, outWidth);
            if (first >= last) continue;
            for (int oy = 0; oy < outHeight; oy++)
            {
                int iy = oy * stride + ky - padding;
                if (iy < 0 || iy >= height) continue;
                var src = row.Slice(oy * outWidth, outWidth);
                var dst = inputGradient.Slice((c * height + iy) * width);
                int ix = first * stride + kx - padding;
                if (stride == 1)
                    System.Numerics.Tensors.TensorPrimitives.Add(dst.Slice(ix, last - first), src[first..last], dst.Slice(ix, last - first));
                else
                    for (int ox = first; ox < last; ox++, ix += stride) dst[ix] += src[ox];
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
