using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CnnGen.Kernels;

/// <summary>
/// Direct convolution for stride 1 and output rows of at most 32 values, without building im2col columns:
/// <c>out[f, oy, ox] = (sum over c, ky, kx of w[f, c, ky, kx] * in[c, oy + ky - p, ox + kx - p]) + bias[f]</c>, optionally
/// followed by a fused ReLU (<c>x &lt; 0 ? 0 : x</c>, as <see cref="Activations.Relu"/>),
/// the sum a fused multiply-add chain in (c, ky, kx) order from zero, padding contributing <c>w * 0</c> — exactly the
/// chain of im2col + <see cref="Gemm.Multiply"/> + <see cref="Elementwise.AddBias"/>, so both give the same bits.
/// The AVX-512 path keeps two output rows of 8 filters (rows up to 16 wide) or one row of 8 filters (up to 32 wide)
/// in registers, 6 filters in a last block of at most 6. With AVX2 alone, rows of whole vectors of 8 take
/// <see cref="DirectConvAvx2"/>, other rows im2col blocks and <see cref="GemmAvx2"/> (<see cref="ColumnsAvx2"/>).
/// </summary>
public static unsafe class DirectConv
{
    /// <summary>Whether <see cref="Forward"/> handles this shape.</summary>
    public static bool Supports(int stride, int outWidth) => stride == 1 && outWidth <= 32;

    /// <summary>Values of the zero-padded copy of the input that <see cref="Forward"/> needs as scratch (0 without padding).</summary>
    public static int PaddedLength(int channels, int height, int width, int padding) =>
        padding == 0 ? 0 : channels * (height + 2 * padding) * (width + 2 * padding);

    /// <summary>Output filters computed together by the AVX-512 path for rows this wide (8 at every width since one row
    /// of up to 32 values keeps 8 filters too, not 6: 16 -> 16 filters at 32x32 in 2 blocks, not 3 with the last one
    /// half wasted, 50-55 -> 45-48 us): a range of filters that starts at a multiple of this wastes no work
    /// (see <see cref="ForwardFilters"/>).</summary>
    public static int FilterBlock(int outWidth) => 8;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Forward(ReadOnlySpan<float> input, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, Span<float> output,
        Span<float> padded, int channels, int height, int width, int filters, int kernel, int padding, int outHeight, int outWidth,
        bool relu = false)
    {
        if (!Supports(1, outWidth)) throw new ArgumentException("DirectConv.Forward: output rows wider than 32 are not supported.");
        if (padded.Length < PaddedLength(channels, height, width, padding))
            throw new ArgumentException("DirectConv.Forward: spans too short for the given shape.");
        ReadOnlySpan<float> x = input;
        if (padding > 0)
        {
            Pad(input, padded, channels, height, width, padding);
            x = padded;
        }
        ForwardFilters(x, weight, bias, output, channels, height, width, kernel, padding, outHeight, outWidth, 0, filters, relu);
    }

    /// <summary>Writes <paramref name="input"/> (<c>[channels, height, width]</c>) into the middle of
    /// <paramref name="padded"/> (<c>[channels, height + 2p, width + 2p]</c>) and zeroes the border: every value of the
    /// padded planes written once, in order (a plane's top rows, then each row's left zeros, values and right zeros,
    /// then its bottom rows), rows of at least 16 values copied 16 at a time in registers.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Pad(ReadOnlySpan<float> input, Span<float> padded, int channels, int height, int width, int padding)
    {
        CheckPad(input, padded, channels, height, width, padding, nameof(Pad));
        int ph = height + 2 * padding, pw = width + 2 * padding;
        // The whole copy keeps its own loop: through PaddedRows' clamped bounds it measured 10-25% slower on small planes.
        fixed (float* pin = input, ppad = padded)
            for (int c = 0; c < channels; c++)
            {
                float* plane = ppad + (long)c * ph * pw;
                Zero(plane, padding * pw);
                for (int y = 0; y < height; y++)
                    ImageRow(pin + ((long)c * height + y) * width, plane + (long)(y + padding) * pw, width, padding);
                Zero(plane + (long)(height + padding) * pw, padding * pw);
            }
    }

    /// <summary>
    /// The rows of <see cref="Pad"/>'s copy that output rows <c>[firstRow, endRow)</c> of a <paramref name="kernel"/>-high,
    /// stride-1 convolution read (padded rows <c>[firstRow, endRow + kernel - 1)</c> of every channel), with the values
    /// <see cref="Pad"/> writes there. When one image's rows are split over threads, each thread pads the rows its own
    /// range reads (<see cref="ForwardImageRows"/>, into a copy of its own), so the copy is made where it is used instead
    /// of on one thread for all: a thread then reads from another core's cache only the input rows its neighbour's range
    /// also reads.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void PadRows(ReadOnlySpan<float> input, Span<float> padded, int channels, int height, int width, int kernel, int padding,
        int firstRow, int endRow)
    {
        CheckPad(input, padded, channels, height, width, padding, nameof(PadRows));
        int outHeight = height + 2 * padding - kernel + 1;
        if (kernel < 1 || firstRow < 0 || endRow <= firstRow || endRow > outHeight)
            throw new ArgumentException($"DirectConv.PadRows: the row range [{firstRow}, {endRow}) of {outHeight} output rows (kernel {kernel}) is empty or outside them.");
        fixed (float* pin = input, ppad = padded)
            PaddedRows(pin, ppad, channels, height, width, padding, firstRow, endRow + kernel - 1);
    }

    private static void CheckPad(ReadOnlySpan<float> input, Span<float> padded, int channels, int height, int width, int padding, string method)
    {
        // PaddedLength is 0 for padding 0 (the convolution reads its input itself); a copy still needs room for every value.
        if (channels < 0 || height < 0 || width < 0 || padding < 0 || input.Length < (long)channels * height * width ||
            padded.Length < (long)channels * (height + 2 * padding) * (width + 2 * padding))
            throw new ArgumentException($"DirectConv.{method}: spans too short for the given shape.");
    }

    /// <summary>Padded rows <c>[first, end)</c> of every channel, in order: the border rows above the image among them as
    /// one run of zeros, then each image row's left zeros, values and right zeros, then the border rows below as one run
    /// (<see cref="Pad"/>'s order over a range of rows).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void PaddedRows(float* pin, float* ppad, int channels, int height, int width, int padding, int first, int end)
    {
        int ph = height + 2 * padding, pw = width + 2 * padding;
        // Rows [first, top) are above the image, [top, bottom) hold image rows, [bottom, end) are below it.
        int top = Math.Clamp(padding, first, end), bottom = Math.Clamp(padding + height, top, end);
        for (int c = 0; c < channels; c++)
        {
            float* plane = ppad + (long)c * ph * pw;
            Zero(plane + (long)first * pw, (top - first) * pw);
            for (int r = top; r < bottom; r++)
                ImageRow(pin + ((long)c * height + r - padding) * width, plane + (long)r * pw, width, padding);
            Zero(plane + (long)bottom * pw, (end - bottom) * pw);
        }
    }

    /// <summary>One padded row that holds an image row: its left zeros, the row's values, its right zeros.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ImageRow(float* from, float* row, int width, int padding)
    {
        Zero(row, padding);
        CopyRow(from, row + padding, width);
        Zero(row + padding + width, padding);
    }

    /// <summary><paramref name="count"/> zeros from <paramref name="to"/> (a padding's few values, or its rows).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Zero(float* to, int count)
    {
        if (count > 16) new Span<float>(to, count).Clear();
        else for (int i = 0; i < count; i++) to[i] = 0f;
    }

    /// <summary>One row of <paramref name="width"/> values: 16 at a time, the last 16 overlapping the ones before when the
    /// width is not a multiple of 16 (those values written twice, the same both times).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CopyRow(float* from, float* to, int width)
    {
        if (Vector512.IsHardwareAccelerated && width >= 16)
        {
            for (int x = 0; x < width - 16; x += 16) Vector512.Load(from + x).Store(to + x);
            Vector512.Load(from + width - 16).Store(to + width - 16);
        }
        else new ReadOnlySpan<float>(from, width).CopyTo(new Span<float>(to, width));
    }

    /// <summary>
    /// The output planes of filters <c>[firstFilter, endFilter)</c> only, from an input already padded by
    /// <see cref="Pad"/> (the input itself when <paramref name="padding"/> is 0); <paramref name="output"/> is the
    /// whole <c>[filters, outHeight, outWidth]</c> output. Each value is computed exactly as by <see cref="Forward"/>,
    /// so ranges run on different threads give the bits of one call over all filters.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ForwardFilters(ReadOnlySpan<float> padded, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, Span<float> output,
        int channels, int height, int width, int kernel, int padding, int outHeight, int outWidth, int firstFilter, int endFilter,
        bool relu = false)
    {
        if (firstFilter < 0 || endFilter <= firstFilter)
            throw new ArgumentException($"DirectConv.ForwardFilters: the filter range [{firstFilter}, {endFilter}) is empty or negative.");
        Compute(padded, weight, bias, output, channels, height, width, kernel, padding, outHeight, outWidth, firstFilter, endFilter, 0, outHeight, relu,
            nameof(ForwardFilters));
    }

    /// <summary>Output rows computed together by the AVX-512 path for rows this wide: a range of rows that starts at a
    /// multiple of this wastes no work (see <see cref="ForwardRows"/>).</summary>
    public static int RowBlock(int outWidth) => outWidth <= 16 ? 2 : 1;

    /// <summary>
    /// Output rows <c>[firstRow, endRow)</c> of every filter's plane only, from an input already padded by
    /// <see cref="Pad"/> (the input itself when <paramref name="padding"/> is 0); <paramref name="output"/> is the whole
    /// <c>[filters, outHeight, outWidth]</c> output. Each value is computed exactly as by <see cref="Forward"/> (every
    /// row's sums are their own chains, whichever rows share a pass), so ranges of rows run on different threads give
    /// the bits of one call; unlike ranges of filters, ranges of rows share the work out evenly whatever the filter count.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ForwardRows(ReadOnlySpan<float> padded, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, Span<float> output,
        int channels, int height, int width, int filters, int kernel, int padding, int outHeight, int outWidth, int firstRow, int endRow,
        bool relu = false)
    {
        if (filters < 1 || firstRow < 0 || endRow <= firstRow || endRow > outHeight)
            throw new ArgumentException($"DirectConv.ForwardRows: the row range [{firstRow}, {endRow}) of {outHeight} rows is empty or outside them, or there are no filters.");
        Compute(padded, weight, bias, output, channels, height, width, kernel, padding, outHeight, outWidth, 0, filters, firstRow, endRow, relu,
            nameof(ForwardRows));
    }

    /// <summary>
    /// <see cref="ForwardRows"/> from the unpadded <paramref name="input"/>: the rows of the padded copy that output rows
    /// <c>[firstRow, endRow)</c> read are written (<see cref="PadRows"/>) into a copy owned by the calling thread (made once
    /// per thread, grown when too short), then those rows are computed from it, with the same bits. When one image's rows
    /// are split over threads, each thread pads only what its own rows read, into memory no other core writes: a padded
    /// copy shared by the threads had the rows next to a boundary written by both cores on every call, and made on one
    /// thread it had the other's half moved between their caches twice.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ForwardImageRows(ReadOnlySpan<float> input, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, Span<float> output,
        int channels, int height, int width, int filters, int kernel, int padding, int outHeight, int outWidth, int firstRow, int endRow,
        bool relu = false)
    {
        if (padding == 0)
        {
            ForwardRows(input, weight, bias, output, channels, height, width, filters, kernel, padding, outHeight, outWidth, firstRow, endRow, relu);
            return;
        }
        int length = PaddedLength(channels, height, width, padding);
        if (length <= 0)
            throw new ArgumentException($"DirectConv.ForwardImageRows: input {channels}x{height}x{width} must have values.");
        var padded = new Span<float>(ThreadScratch.AtLeast(ref t_padded, length), 0, length);
        PadRows(input, padded, channels, height, width, kernel, padding, firstRow, endRow);
        ForwardRows(padded, weight, bias, output, channels, height, width, filters, kernel, padding, outHeight, outWidth, firstRow, endRow, relu);
    }

    /// <summary>This thread's padded copy for <see cref="ForwardImageRows"/>.</summary>
    [ThreadStatic] private static float[]? t_padded;

    /// <summary>Filters <c>[firstFilter, endFilter)</c>, rows <c>[firstRow, endRow)</c> of their planes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Compute(ReadOnlySpan<float> padded, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, Span<float> output,
        int channels, int height, int width, int kernel, int padding, int outHeight, int outWidth, int firstFilter, int endFilter,
        int firstRow, int endRow, bool relu, string method)
    {
        if (!Supports(1, outWidth)) throw new ArgumentException($"DirectConv.{method}: output rows wider than 32 are not supported.");
        int ph = height + 2 * padding, pw = width + 2 * padding, kk = kernel * kernel, ckk = channels * kk;
        if (padded.Length < channels * ph * pw || weight.Length < endFilter * ckk || bias.Length < endFilter ||
            output.Length < endFilter * outHeight * outWidth)
            throw new ArgumentException($"DirectConv.{method}: spans too short for the given shape.");
        fixed (float* x = padded, pw0 = weight, pb = bias, pout = output)
        {
            var shape = new Shape(channels, ph, pw, kernel, outWidth, ckk, outHeight * outWidth, relu);
            if (Avx512F.IsSupported)
            {
                int step = FilterBlock(outWidth), last = endFilter - 1;
                for (int f = firstFilter; f < endFilter; f += step)
                {
                    // A block past the range's last filter repeats it: the same values are written twice.
                    var block = new Filters(pw0, pb, pout, ckk, shape.Plane, Math.Min(f, last), Math.Min(f + 1, last),
                        Math.Min(f + 2, last), Math.Min(f + 3, last), Math.Min(f + 4, last),
                        Math.Min(f + 5, last), Math.Min(f + 6, last), Math.Min(f + 7, last));
                    // A last block of at most 6 filters (LeNet-5's first layer: 6 in all) keeps 6, not 8 with 2 repeated.
                    bool six = endFilter - f <= 6;
                    if (outWidth <= 16)
                    {
                        // Two output rows per pass share every weight broadcast; an odd last row is computed twice.
                        for (int oy = firstRow; oy < endRow; oy += 2)
                        {
                            if (six) TwoRows1<Six>(x, block, shape, oy, Math.Min(oy + 1, endRow - 1));
                            else TwoRows1<Eight>(x, block, shape, oy, Math.Min(oy + 1, endRow - 1));
                        }
                    }
                    else
                    {
                        for (int oy = firstRow; oy < endRow; oy++)
                        {
                            if (six) Row2<Six>(x, block, shape, oy);
                            else Row2<Eight>(x, block, shape, oy);
                        }
                    }
                }
            }
            else if (GemmAvx2.IsSupported && DirectConvAvx2.Supports(outWidth, ckk))
            {
                DirectConvAvx2.Run(x, pw0, pb, pout, channels, ph, pw, kernel, outHeight, outWidth, firstFilter, endFilter, firstRow, endRow, relu);
            }
            else if (GemmAvx2.IsSupported)
            {
                ColumnsAvx2.Forward(padded, channels, ph, pw, kernel, stride: 1, padding: 0, outHeight, outWidth, pw0, ColumnsAvx2.Weights.Rows,
                    pb, pout, firstFilter, endFilter, firstRow, endRow, relu ? FusedActivation.Relu : FusedActivation.None);
            }
            else
            {
                for (int f = firstFilter; f < endFilter; f++)
                for (int oy = firstRow; oy < endRow; oy++)
                for (int ox = 0; ox < outWidth; ox++)
                {
                    float acc = 0f;
                    float* w = pw0 + f * ckk;
                    for (int c = 0; c < channels; c++)
                    for (int ky = 0; ky < kernel; ky++)
                    for (int kx = 0; kx < kernel; kx++)
                        acc = MathF.FusedMultiplyAdd(w[(c * kernel + ky) * kernel + kx], x[(c * ph + oy + ky) * pw + ox + kx], acc);
                    acc += pb[f];
                    pout[f * shape.Plane + oy * outWidth + ox] = relu && acc < 0f ? 0f : acc;
                }
            }
        }
    }

    private readonly record struct Shape(int Channels, int PaddedHeight, int PaddedWidth, int Kernel, int OutWidth, int Ckk, int Plane, bool Relu);

    /// <summary>Eight filters' weights and output planes.</summary>
    private readonly struct Filters(float* w, float* bias, float* o, int ckk, int plane, int f0, int f1, int f2, int f3, int f4, int f5, int f6, int f7)
    {
        public readonly float B0 = bias[f0], B1 = bias[f1], B2 = bias[f2], B3 = bias[f3], B4 = bias[f4], B5 = bias[f5], B6 = bias[f6], B7 = bias[f7];
        public readonly float* W0 = w + f0 * ckk, W1 = w + f1 * ckk, W2 = w + f2 * ckk, W3 = w + f3 * ckk;
        public readonly float* W4 = w + f4 * ckk, W5 = w + f5 * ckk, W6 = w + f6 * ckk, W7 = w + f7 * ckk;
        public readonly float* O0 = o + f0 * plane, O1 = o + f1 * plane, O2 = o + f2 * plane, O3 = o + f3 * plane;
        public readonly float* O4 = o + f4 * plane, O5 = o + f5 * plane, O6 = o + f6 * plane, O7 = o + f7 * plane;
    }

    /// <summary>The sum plus the filter's bias, then (when fused) ReLU: <c>x &lt; 0 ? 0 : x</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Finish(Vector512<float> sum, float bias, bool relu) =>
        Activate.Apply(sum + Vector512.Create(bias), relu ? FusedActivation.Relu : FusedActivation.None);

    /// <summary>Filters a block computes at once: a type argument, so that the compiler drops the last two filters'
    /// accumulators, broadcasts and stores from the blocks of six.</summary>
    private interface IBlockFilters
    {
        static abstract int Count { get; }
    }

    private struct Eight : IBlockFilters
    {
        public static int Count => 8;
    }

    private struct Six : IBlockFilters
    {
        public static int Count => 6;
    }

    /// <summary>Output rows <paramref name="oy"/> and <paramref name="oy2"/> (at most 16 wide) of eight filters (or
    /// the first six): one vector per row and filter.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TwoRows1<TBlock>(float* x, in Filters b, in Shape s, int oy, int oy2) where TBlock : struct, IBlockFilters
    {
        var mask = LaneMask.First(s.OutWidth);
        var zero = Vector512<float>.Zero;
        Vector512<float> a0 = zero, a1 = zero, a2 = zero, a3 = zero, a4 = zero, a5 = zero, a6 = zero, a7 = zero;
        Vector512<float> c0 = zero, c1 = zero, c2 = zero, c3 = zero, c4 = zero, c5 = zero, c6 = zero, c7 = zero;
        float* w0 = b.W0, w1 = b.W1, w2 = b.W2, w3 = b.W3, w4 = b.W4, w5 = b.W5, w6 = b.W6, w7 = b.W7;
        int channels = s.Channels, kernel = s.Kernel, ph = s.PaddedHeight, pw = s.PaddedWidth, down = (oy2 - oy) * pw;
        int k = 0;
        for (int c = 0; c < channels; c++)
        for (int ky = 0; ky < kernel; ky++)
        {
            float* row = x + (c * ph + oy + ky) * pw;
            for (int kx = 0; kx < kernel; kx++, k++)
            {
                var v = Avx512F.MaskLoad(row + kx, mask, zero);
                var u = Avx512F.MaskLoad(row + kx + down, mask, zero);
                var q = Vector512.Create(w0[k]); a0 = Avx512F.FusedMultiplyAdd(q, v, a0); c0 = Avx512F.FusedMultiplyAdd(q, u, c0);
                q = Vector512.Create(w1[k]); a1 = Avx512F.FusedMultiplyAdd(q, v, a1); c1 = Avx512F.FusedMultiplyAdd(q, u, c1);
                q = Vector512.Create(w2[k]); a2 = Avx512F.FusedMultiplyAdd(q, v, a2); c2 = Avx512F.FusedMultiplyAdd(q, u, c2);
                q = Vector512.Create(w3[k]); a3 = Avx512F.FusedMultiplyAdd(q, v, a3); c3 = Avx512F.FusedMultiplyAdd(q, u, c3);
                q = Vector512.Create(w4[k]); a4 = Avx512F.FusedMultiplyAdd(q, v, a4); c4 = Avx512F.FusedMultiplyAdd(q, u, c4);
                q = Vector512.Create(w5[k]); a5 = Avx512F.FusedMultiplyAdd(q, v, a5); c5 = Avx512F.FusedMultiplyAdd(q, u, c5);
                if (TBlock.Count == 8)
                {
                    q = Vector512.Create(w6[k]); a6 = Avx512F.FusedMultiplyAdd(q, v, a6); c6 = Avx512F.FusedMultiplyAdd(q, u, c6);
                    q = Vector512.Create(w7[k]); a7 = Avx512F.FusedMultiplyAdd(q, v, a7); c7 = Avx512F.FusedMultiplyAdd(q, u, c7);
                }
            }
        }
        int at = oy * s.OutWidth, at2 = oy2 * s.OutWidth;
        Avx512F.MaskStore(b.O0 + at, mask, Finish(a0, b.B0, s.Relu)); Avx512F.MaskStore(b.O1 + at, mask, Finish(a1, b.B1, s.Relu));
        Avx512F.MaskStore(b.O2 + at, mask, Finish(a2, b.B2, s.Relu)); Avx512F.MaskStore(b.O3 + at, mask, Finish(a3, b.B3, s.Relu));
        Avx512F.MaskStore(b.O4 + at, mask, Finish(a4, b.B4, s.Relu)); Avx512F.MaskStore(b.O5 + at, mask, Finish(a5, b.B5, s.Relu));
        Avx512F.MaskStore(b.O0 + at2, mask, Finish(c0, b.B0, s.Relu)); Avx512F.MaskStore(b.O1 + at2, mask, Finish(c1, b.B1, s.Relu));
        Avx512F.MaskStore(b.O2 + at2, mask, Finish(c2, b.B2, s.Relu)); Avx512F.MaskStore(b.O3 + at2, mask, Finish(c3, b.B3, s.Relu));
        Avx512F.MaskStore(b.O4 + at2, mask, Finish(c4, b.B4, s.Relu)); Avx512F.MaskStore(b.O5 + at2, mask, Finish(c5, b.B5, s.Relu));
        if (TBlock.Count == 8)
        {
            Avx512F.MaskStore(b.O6 + at, mask, Finish(a6, b.B6, s.Relu)); Avx512F.MaskStore(b.O7 + at, mask, Finish(a7, b.B7, s.Relu));
            Avx512F.MaskStore(b.O6 + at2, mask, Finish(c6, b.B6, s.Relu)); Avx512F.MaskStore(b.O7 + at2, mask, Finish(c7, b.B7, s.Relu));
        }
    }

    /// <summary>One output row (17 to 32 wide) of eight filters (or the first six), two vectors each: 16 accumulators,
    /// and per tap two loads and eight broadcasts for 16 multiply-adds (12 for six). (Too many locals to be inlined: a
    /// call, compiled optimised from the first.)</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Row2<TBlock>(float* x, in Filters b, in Shape s, int oy) where TBlock : struct, IBlockFilters
    {
        var mask = LaneMask.First(s.OutWidth - 16);
        var zero = Vector512<float>.Zero;
        Vector512<float> a0 = zero, a1 = zero, a2 = zero, a3 = zero, a4 = zero, a5 = zero, a6 = zero, a7 = zero;
        Vector512<float> c0 = zero, c1 = zero, c2 = zero, c3 = zero, c4 = zero, c5 = zero, c6 = zero, c7 = zero;
        float* p0 = b.W0, p1 = b.W1, p2 = b.W2, p3 = b.W3, p4 = b.W4, p5 = b.W5, p6 = b.W6, p7 = b.W7;
        int channels = s.Channels, kernel = s.Kernel, ph = s.PaddedHeight, pw = s.PaddedWidth;
        int k = 0;
        for (int c = 0; c < channels; c++)
        for (int ky = 0; ky < kernel; ky++)
        {
            float* row = x + (c * ph + oy + ky) * pw;
            for (int kx = 0; kx < kernel; kx++, k++)
            {
                var v = Vector512.Load(row + kx);
                var u = Avx512F.MaskLoad(row + kx + 16, mask, zero);
                var q = Vector512.Create(p0[k]); a0 = Avx512F.FusedMultiplyAdd(q, v, a0); c0 = Avx512F.FusedMultiplyAdd(q, u, c0);
                q = Vector512.Create(p1[k]); a1 = Avx512F.FusedMultiplyAdd(q, v, a1); c1 = Avx512F.FusedMultiplyAdd(q, u, c1);
                q = Vector512.Create(p2[k]); a2 = Avx512F.FusedMultiplyAdd(q, v, a2); c2 = Avx512F.FusedMultiplyAdd(q, u, c2);
                q = Vector512.Create(p3[k]); a3 = Avx512F.FusedMultiplyAdd(q, v, a3); c3 = Avx512F.FusedMultiplyAdd(q, u, c3);
                q = Vector512.Create(p4[k]); a4 = Avx512F.FusedMultiplyAdd(q, v, a4); c4 = Avx512F.FusedMultiplyAdd(q, u, c4);
                q = Vector512.Create(p5[k]); a5 = Avx512F.FusedMultiplyAdd(q, v, a5); c5 = Avx512F.FusedMultiplyAdd(q, u, c5);
                if (TBlock.Count == 8)
                {
                    q = Vector512.Create(p6[k]); a6 = Avx512F.FusedMultiplyAdd(q, v, a6); c6 = Avx512F.FusedMultiplyAdd(q, u, c6);
                    q = Vector512.Create(p7[k]); a7 = Avx512F.FusedMultiplyAdd(q, v, a7); c7 = Avx512F.FusedMultiplyAdd(q, u, c7);
                }
            }
        }
        int at = oy * s.OutWidth;
        Finish(a0, b.B0, s.Relu).Store(b.O0 + at); Avx512F.MaskStore(b.O0 + at + 16, mask, Finish(c0, b.B0, s.Relu));
        Finish(a1, b.B1, s.Relu).Store(b.O1 + at); Avx512F.MaskStore(b.O1 + at + 16, mask, Finish(c1, b.B1, s.Relu));
        Finish(a2, b.B2, s.Relu).Store(b.O2 + at); Avx512F.MaskStore(b.O2 + at + 16, mask, Finish(c2, b.B2, s.Relu));
        Finish(a3, b.B3, s.Relu).Store(b.O3 + at); Avx512F.MaskStore(b.O3 + at + 16, mask, Finish(c3, b.B3, s.Relu));
        Finish(a4, b.B4, s.Relu).Store(b.O4 + at); Avx512F.MaskStore(b.O4 + at + 16, mask, Finish(c4, b.B4, s.Relu));
        Finish(a5, b.B5, s.Relu).Store(b.O5 + at); Avx512F.MaskStore(b.O5 + at + 16, mask, Finish(c5, b.B5, s.Relu));
        if (TBlock.Count == 8)
        {
            Finish(a6, b.B6, s.Relu).Store(b.O6 + at); Avx512F.MaskStore(b.O6 + at + 16, mask, Finish(c6, b.B6, s.Relu));
            Finish(a7, b.B7, s.Relu).Store(b.O7 + at); Avx512F.MaskStore(b.O7 + at + 16, mask, Finish(c7, b.B7, s.Relu));
        }
    }
}
