using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CnnGen.Kernels;

/// <summary>
/// im2col (seed 001's speed-up): lays the input patches of a convolution out as the columns of a matrix, so the
/// convolution becomes one matrix product <c>out[F, OH*OW] = weight[F, C*K*K] * col[C*K*K, OH*OW]</c>.
/// Row <c>(c*K + ky)*K + kx</c> of <c>col</c> holds input channel c shifted by (ky, kx) for every output position;
/// positions in the zero padding hold 0. With dilation d (PyTorch's), tap (ky, kx) reads the input d*ky and d*kx
/// pixels from the window's corner.
/// </summary>
public static unsafe class Im2Col
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Pack(ReadOnlySpan<float> input, Span<float> col, int channels, int height, int width,
        int kernel, int stride, int padding, int outHeight, int outWidth, int dilation = 1) =>
        PackRows(input, col, channels, height, width, kernel, stride, padding, outWidth, firstRow: 0, rows: outHeight, dilation);

    /// <summary>The columns of output rows <c>[firstRow, firstRow + rows)</c> only: a <c>[C*K*K, rows*outWidth]</c>
    /// matrix, the same values as those columns of <see cref="Pack"/>'s.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void PackRows(ReadOnlySpan<float> input, Span<float> col, int channels, int height, int width,
        int kernel, int stride, int padding, int outWidth, int firstRow, int rows, int dilation = 1)
    {
        if (dilation < 1) throw new ArgumentOutOfRangeException(nameof(dilation), dilation, "Im2Col.Pack: dilation must be at least 1.");
        int positions = rows * outWidth;
        if (input.Length < channels * height * width || col.Length < channels * kernel * kernel * positions)
            throw new ArgumentException("Im2Col.Pack: spans too short for the given shape.");
        fixed (float* pin = input, pcol = col)
        {
            if (Avx512F.IsSupported && stride == 1 && dilation == 1)
            {
                PackStride1(pin, pcol, channels, height, width, kernel, padding, outWidth, firstRow, rows);
                return;
            }
            if (Avx512F.IsSupported && kernel == 3 && stride == 2 && padding == 1 && dilation == 1 && outWidth == (width + 1) / 2)
            {
                PackThreeStrideTwo(pin, pcol, channels, height, width, outWidth, firstRow, rows);
                return;
            }
            for (int c = 0; c < channels; c++)
            for (int ky = 0; ky < kernel; ky++)
            for (int kx = 0; kx < kernel; kx++)
            {
                float* row = pcol + (long)((c * kernel + ky) * kernel + kx) * positions;
                // Output columns whose input column ox*stride + kx*dilation - padding lies inside the image.
                (int first, int last) = ValidRange(kx * dilation, stride, padding, width, outWidth);
                for (int oy = firstRow; oy < firstRow + rows; oy++)
                {
                    float* dst = row + (oy - firstRow) * outWidth;
                    int iy = oy * stride + ky * dilation - padding;
                    if (iy < 0 || iy >= height || first >= last)
                    {
                        new Span<float>(dst, outWidth).Clear();
                        continue;
                    }
                    for (int ox = 0; ox < first; ox++) dst[ox] = 0f;
                    for (int ox = last; ox < outWidth; ox++) dst[ox] = 0f;
                    float* src = pin + (c * height + iy) * width + first * stride + kx * dilation - padding;
                    if (stride == 1)
                        Copy(src, dst + first, last - first);
                    else if (stride == 2)
                        CopyEven(src, dst + first, last - first);
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
        int kernel, int stride, int padding, int outHeight, int outWidth, int dilation = 1)
    {
        if (dilation < 1) throw new ArgumentOutOfRangeException(nameof(dilation), dilation, "Im2Col.Unpack: dilation must be at least 1.");
        int positions = outHeight * outWidth;
        if (inputGradient.Length < channels * height * width || col.Length < channels * kernel * kernel * positions)
            throw new ArgumentException("Im2Col.Unpack: spans too short for the given shape.");
        fixed (float* pcol = col, pgrad = inputGradient)
        {
            if (Avx512F.IsSupported && stride == 1 && dilation == 1)
            {
                UnpackRows(pcol, pgrad, channels, height, width, kernel, padding, outHeight, outWidth);
                return;
            }
            for (int c = 0; c < channels; c++)
            for (int ky = 0; ky < kernel; ky++)
            for (int kx = 0; kx < kernel; kx++)
            {
                float* row = pcol + (long)((c * kernel + ky) * kernel + kx) * positions;
                (int first, int last) = ValidRange(kx * dilation, stride, padding, width, outWidth);
                if (first >= last) continue;
                for (int oy = 0; oy < outHeight; oy++)
                {
                    int iy = oy * stride + ky * dilation - padding;
                    if (iy < 0 || iy >= height) continue;
                    float* src = row + oy * outWidth;
                    float* dst = pgrad + (c * height + iy) * width + first * stride + kx * dilation - padding;
                    for (int ox = first; ox < last; ox++, dst += stride) *dst += src[ox];
                }
            }
        }
    }

    /// <summary>
    /// im2col for stride 1, output rows <c>[firstRow, firstRow + rows)</c>: each column row's output row is written 16
    /// values at a time, each vector one load of the input row shifted by the tap (<c>kx - padding</c>) whose lanes outside the input read as zeros, so the padding and
    /// the copy are one masked load and one store; rows whose input row lies in the padding are stored as zeros. The
    /// masks depend only on the tap and the 16-column strip and are made once per column row.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackStride1(float* pin, float* pcol, int channels, int height, int width,
        int kernel, int padding, int outWidth, int firstRow, int rows)
    {
        int positions = rows * outWidth;
        var lanes = Vector512.Create(0f, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
        var zero = Vector512<float>.Zero;
        for (int c = 0; c < channels; c++)
        for (int ky = 0; ky < kernel; ky++)
        for (int kx = 0; kx < kernel; kx++)
        {
            float* row = pcol + (long)((c * kernel + ky) * kernel + kx) * positions;
            int shift = kx - padding;
            for (int strip = 0; strip < outWidth; strip += 16)
            {
                // Lane l is output column ox = strip + l, reading input column ox + shift.
                var lane = lanes + Vector512.Create((float)strip);
                var store = Vector512.LessThan(lane, Vector512.Create((float)outWidth));
                var load = Vector512.BitwiseAnd(store, Vector512.BitwiseAnd(
                    Vector512.GreaterThanOrEqual(lane, Vector512.Create((float)-shift)),
                    Vector512.LessThan(lane, Vector512.Create((float)(width - shift)))));
                bool whole = strip + 16 <= outWidth;
                float* dst = row + strip;
                float* src = pin + (long)c * height * width + strip + shift;
                for (int oy = firstRow; oy < firstRow + rows; oy++, dst += outWidth)
                {
                    int iy = oy + ky - padding;
                    var v = iy < 0 || iy >= height ? zero : Avx512F.MaskLoad(src + iy * width, load, zero);
                    if (whole) v.Store(dst);
                    else Avx512F.MaskStore(dst, store, v);
                }
            }
        }
    }

    /// <summary>
    /// The columns of a 3x3 stride-2 convolution with padding 1 (ResNet's downsampling 3x3 layers): each input row a tap
    /// row ky reads is loaded once, 32 values at a time, for all three of its column rows: the even values are tap kx = 1's
    /// (input column 2ox), the odd ones kx = 2's (2ox + 1), and the odd ones moved up one lane behind column 2ox - 1
    /// kx = 0's, where the copy one tap at a time loads and picks the row three times.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackThreeStrideTwo(float* pin, float* pcol, int channels, int height, int width, int outWidth, int firstRow, int rows)
    {
        int positions = rows * outWidth;
        var zero = Vector512<float>.Zero;
        for (int c = 0; c < channels; c++)
        for (int ky = 0; ky < 3; ky++)
        {
            // Column rows (c, ky, kx = 0, 1, 2), each positions long, one after the other.
            float* left = pcol + (long)(c * 9 + ky * 3) * positions, centre = left + positions, right = centre + positions;
            for (int oy = firstRow; oy < firstRow + rows; oy++)
            {
                long at = (long)(oy - firstRow) * outWidth;
                int iy = 2 * oy + ky - 1;
                if (iy < 0 || iy >= height)
                {
                    new Span<float>(left + at, outWidth).Clear();
                    new Span<float>(centre + at, outWidth).Clear();
                    new Span<float>(right + at, outWidth).Clear();
                    continue;
                }
                float* src = pin + ((long)c * height + iy) * width;
                for (int ox = 0; ox < outWidth; ox += 16)
                {
                    // Input columns 2ox .. 2ox + 31, zero past the row's end.
                    int p = 2 * ox;
                    Vector512<float> low, high;
                    if (p + 32 <= width)
                    {
                        low = Vector512.Load(src + p);
                        high = Vector512.Load(src + p + 16);
                    }
                    else
                    {
                        low = Avx512F.MaskLoad(src + p, LaneMask.First(width - p), zero);
                        high = Avx512F.MaskLoad(src + p + 16, LaneMask.First(width - p - 16), zero);
                    }
                    StrideTwoTaps.Split(low, high, p > 0 ? src[p - 1] : 0f, out var lefts, out var evens, out var odds);
                    int count = outWidth - ox;
                    if (count >= 16)
                    {
                        lefts.Store(left + at + ox);
                        evens.Store(centre + at + ox);
                        odds.Store(right + at + ox);
                    }
                    else
                    {
                        var store = LaneMask.First(count);
                        Avx512F.MaskStore(left + at + ox, store, lefts);
                        Avx512F.MaskStore(centre + at + ox, store, evens);
                        Avx512F.MaskStore(right + at + ox, store, odds);
                    }
                }
            }
        }
    }

    /// <summary>
    /// col2im for stride 1: each input-gradient row is summed, 16 values at a time, in one register from the column
    /// rows that land on it (input column <c>ix</c> takes <c>col[.., ix - kx + padding]</c>, read with a shifted,
    /// masked load), then stored once. The additions per element happen in the same order (ky, then kx) as in the
    /// portable loop.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void UnpackRows(float* pcol, float* pgrad, int channels, int height, int width,
        int kernel, int padding, int outHeight, int outWidth)
    {
        int positions = outHeight * outWidth;
        var lanes = Vector512.Create(0f, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
        for (int c = 0; c < channels; c++)
        for (int iy = 0; iy < height; iy++)
        for (int strip = 0; strip < width; strip += 16)
        {
            var lane = lanes + Vector512.Create((float)strip);
            var rowMask = Vector512.LessThan(lane, Vector512.Create((float)width));
            float* dst = pgrad + (c * height + iy) * width + strip;
            var acc = Avx512F.MaskLoad(dst, rowMask, Vector512<float>.Zero);
            for (int ky = 0; ky < kernel; ky++)
            {
                int oy = iy + padding - ky;
                if (oy < 0 || oy >= outHeight) continue;
                for (int kx = 0; kx < kernel; kx++)
                {
                    // Lane ix reads output column ox = ix + padding - kx, valid when 0 <= ox < outWidth.
                    int shift = padding - kx;
                    var valid = Vector512.BitwiseAnd(rowMask, Vector512.BitwiseAnd(
                        Vector512.GreaterThanOrEqual(lane, Vector512.Create((float)-shift)),
                        Vector512.LessThan(lane, Vector512.Create((float)(outWidth - shift)))));
                    float* src = pcol + (long)((c * kernel + ky) * kernel + kx) * positions + oy * outWidth + shift + strip;
                    acc += Avx512F.MaskLoad(src, valid, Vector512<float>.Zero);
                }
            }
            Avx512F.MaskStore(dst, rowMask, acc);
        }
    }

    /// <summary>Copies a short row: whole 16-float vectors, then one masked vector (AVX-512); else whole 8-float
    /// vectors (AVX), then element by element.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Copy(float* src, float* dst, int count)
    {
        if (Avx512F.IsSupported)
        {
            int i = 0;
            for (; i + 16 <= count; i += 16) Vector512.Load(src + i).Store(dst + i);
            if (i < count)
            {
                var mask = LaneMask.First(count - i);
                Avx512F.MaskStore(dst + i, mask, Avx512F.MaskLoad(src + i, mask, Vector512<float>.Zero));
            }
            return;
        }
        int j = 0;
        // Masked stores are slow on the AMD cores that lack AVX-512: the last up to 7 go one by one.
        if (Avx.IsSupported)
            for (; j + 8 <= count; j += 8) Avx.Store(dst + j, Avx.LoadVector256(src + j));
        for (; j < count; j++) dst[j] = src[j];
    }

    /// <summary>Copies every other value (<c>dst[i] = src[2 * i]</c>, a stride-2 row): 16 at a time from two loads of
    /// 16 (AVX-512) while both stay within the row's <c>2 * count - 1</c> values, then the last up to 16 from two masked
    /// loads (lanes past the row's last value not read) and a masked store; with AVX2 alone 8 at a time, then element
    /// by element.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CopyEven(float* src, float* dst, int count)
    {
        int i = 0;
        if (Avx512F.IsSupported)
        {
            var even = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
            // The loads read src[2i .. 2i + 31]; the row's last value is src[2 * (count - 1)].
            for (; i + 17 <= count; i += 16)
                Avx512F.PermuteVar16x32x2(Vector512.Load(src + 2 * i), even, Vector512.Load(src + 2 * i + 16)).Store(dst + i);
            if (i < count)
            {
                int left = count - i, values = 2 * left - 1; // src[2i .. 2i + values) holds the rest of the row
                var low = Avx512F.MaskLoad(src + 2 * i, LaneMask.First(values), Vector512<float>.Zero);
                var high = Avx512F.MaskLoad(src + 2 * i + 16, LaneMask.First(values - 16), Vector512<float>.Zero);
                Avx512F.MaskStore(dst + i, LaneMask.First(left), Avx512F.PermuteVar16x32x2(low, even, high));
            }
            return;
        }
        // With AVX2 alone: eight at a time from two loads of 8 (src[2i .. 2i + 15]) while both stay within the row, the
        // rest one by one (masked stores are slow on the AMD cores that lack AVX-512).
        if (Avx2.IsSupported)
            for (; i + 9 <= count; i += 8)
                Avx.Store(dst + i, StridedLanes256.Even(Avx.LoadVector256(src + 2 * i), Avx.LoadVector256(src + 2 * i + 8)));
        for (; i < count; i++) dst[i] = src[2 * i];
    }

    /// <summary>The output columns [first, last) whose input column <c>ox*stride + tap - padding</c> is inside [0, width)
    /// (<paramref name="tap"/> = kx * dilation).</summary>
    private static (int First, int Last) ValidRange(int tap, int stride, int padding, int width, int outWidth)
    {
        int offset = tap - padding;
        int first = offset >= 0 ? 0 : (-offset + stride - 1) / stride;
        int last = offset >= width ? 0 : Math.Min(outWidth, (width - 1 - offset) / stride + 1);
        return (Math.Min(first, outWidth), Math.Max(last, 0));
    }
}
