using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CnnGen.Kernels;

/// <summary>
/// Direct convolution with stride 2 (dilation 1) for inference, in blocks of output rows, without im2col columns: the
/// stems of the 224x224 networks (MobileNetV2's 3x3 and ResNet-18's 7x7 over 3 channels), whose columns cost more to lay
/// out than to multiply. For each block, the padded input rows it reads are copied once, each split into its even and
/// its odd columns (<c>[channel][row][even columns, then odd columns]</c>), so that 16 neighbouring outputs read 16
/// neighbouring values for every tap. Three vectors of 16 outputs (along a row, then on to the next row of the block)
/// and eight filters stay in 24 registers while every tap is added. While a group of vectors is computed, the output
/// lines the next call of eight filters stores to are prefetched: stores that miss the cache otherwise wait for their lines
/// (MobileNetV2's stem, 32 x 112 x 112 outputs, in the pass on one thread: 242-262 -> 211-236 us).
/// <para>
/// Each output is <c>activation(sum + bias[f])</c>, the sum one fused multiply-add per tap from zero in (c, ky, kx)
/// order, padding contributing <c>w * 0</c>: the chain of <see cref="Im2ColBlocks.Forward"/> (im2col and
/// <see cref="Gemm.MultiplyBiasActivation"/>), so both give the same bits, with and without AVX-512.
/// </para>
/// </summary>
[SkipLocalsInit]
public static unsafe class StrideTwoConv
{
    /// <summary>Filters a pass of the AVX-512 path keeps in registers.</summary>
    private const int FilterBlock = 8;

    /// <summary>Vectors of 16 outputs a pass keeps in registers, for each of those filters.</summary>
    private const int VectorBlock = 3;

    /// <summary>Largest kernel taken (its offsets sit on the stack).</summary>
    public const int MaxKernel = 11;

    /// <summary>Whether <see cref="Forward"/> handles this convolution.</summary>
    public static bool Supports(int kernel, int stride, int dilation, int padding) =>
        stride == 2 && dilation == 1 && kernel >= 1 && kernel <= MaxKernel && padding >= 0 && padding < kernel;

    /// <summary>Values of the scratch one block of <paramref name="rowsPerBlock"/> output rows needs: the
    /// <c>2 * (rows - 1) + kernel</c> padded input rows it reads, of every channel.</summary>
    public static long ScratchLength(int channels, int width, int kernel, int padding, int rowsPerBlock) =>
        (long)channels * (2L * (rowsPerBlock - 1) + kernel) * (width + 2L * padding);

    /// <summary>
    /// <c>output[F, OH*OW] = activation(conv(input, weight, stride 2) + bias)</c> for one image, <paramref name="rowsPerBlock"/>
    /// output rows at a time, <paramref name="scratch"/> holding one block's input rows (<see cref="ScratchLength"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Forward(ReadOnlySpan<float> input, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, Span<float> output, Span<float> scratch,
        int channels, int height, int width, int filters, int kernel, int padding, int outHeight, int outWidth,
        int rowsPerBlock, FusedActivation activation)
    {
        Check(nameof(Forward), input, weight, bias, output, channels, height, width, filters, kernel, padding, outHeight, outWidth, rowsPerBlock);
        if (scratch.Length < ScratchLength(channels, width, kernel, padding, rowsPerBlock))
            throw new ArgumentException($"StrideTwoConv.Forward: the scratch holds {scratch.Length} values; a block of {rowsPerBlock} rows needs {ScratchLength(channels, width, kernel, padding, rowsPerBlock)}.");
        Blocks(input, weight, bias, output, scratch, channels, height, width, filters, kernel, padding, outHeight, outWidth, rowsPerBlock, activation,
            0, (outHeight + rowsPerBlock - 1) / rowsPerBlock);
    }

    /// <summary>
    /// Blocks <c>[firstBlock, endBlock)</c> of <paramref name="rowsPerBlock"/> output rows of <see cref="Forward"/>: one
    /// thread's share of an image split over threads, each thread's block rows in its own scratch (grown once). Nothing
    /// outside the blocks' output rows is written; the same bits as <see cref="Forward"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ForwardBlocks(ReadOnlySpan<float> input, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, Span<float> output,
        int channels, int height, int width, int filters, int kernel, int padding, int outHeight, int outWidth,
        int rowsPerBlock, FusedActivation activation, int firstBlock, int endBlock)
    {
        Check(nameof(ForwardBlocks), input, weight, bias, output, channels, height, width, filters, kernel, padding, outHeight, outWidth, rowsPerBlock);
        int blocks = (outHeight + rowsPerBlock - 1) / rowsPerBlock;
        if (firstBlock < 0 || endBlock > blocks || firstBlock > endBlock)
            throw new ArgumentException($"StrideTwoConv.ForwardBlocks: blocks [{firstBlock}, {endBlock}) are not within the {blocks} blocks.");
        long length = ScratchLength(channels, width, kernel, padding, rowsPerBlock);
        Blocks(input, weight, bias, output, ThreadScratch.AtLeast(ref _threadRows, length), channels, height, width, filters, kernel, padding, outHeight, outWidth, rowsPerBlock, activation,
            firstBlock, endBlock);
    }

    /// <summary>This thread's block rows for <see cref="ForwardBlocks"/>.</summary>
    [ThreadStatic] private static float[]? _threadRows;

    /// <summary>The checks of both entry points, named in their messages: a stride-2 shape whose output size follows
    /// from the input's, a block of at least one row, and spans long enough.</summary>
    private static void Check(string method, ReadOnlySpan<float> input, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, Span<float> output,
        int channels, int height, int width, int filters, int kernel, int padding, int outHeight, int outWidth, int rowsPerBlock)
    {
        if (!Supports(kernel, 2, 1, padding))
            throw new ArgumentException($"StrideTwoConv.{method}: a {kernel}x{kernel} kernel with padding {padding} is not supported (kernel 1 to {MaxKernel}, padding below the kernel).");
        if (channels < 1 || filters < 1 || height + 2 * padding < kernel || width + 2 * padding < kernel ||
            outHeight != (height + 2 * padding - kernel) / 2 + 1 || outWidth != (width + 2 * padding - kernel) / 2 + 1)
            throw new ArgumentException($"StrideTwoConv.{method}: {channels}x{height}x{width} through a {kernel}x{kernel} kernel, stride 2, padding {padding}, is not {filters}x{outHeight}x{outWidth}.");
        if (rowsPerBlock < 1) throw new ArgumentOutOfRangeException(nameof(rowsPerBlock), rowsPerBlock, $"StrideTwoConv.{method}: a block needs a row.");
        if (input.Length < (long)channels * height * width || weight.Length < (long)filters * channels * kernel * kernel || bias.Length < filters ||
            output.Length < (long)filters * outHeight * outWidth)
            throw new ArgumentException($"StrideTwoConv.{method}: spans too short for the given shape.");
    }

    /// <summary>Blocks <c>[firstBlock, endBlock)</c>: without AVX-512 the portable chain straight from the input.</summary>
    private static void Blocks(ReadOnlySpan<float> input, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, Span<float> output, Span<float> scratch,
        int channels, int height, int width, int filters, int kernel, int padding, int outHeight, int outWidth,
        int rowsPerBlock, FusedActivation activation, int firstBlock, int endBlock)
    {
        int firstRow = firstBlock * rowsPerBlock, endRow = Math.Min(outHeight, endBlock * rowsPerBlock);
        var shape = new Shape(channels, height, width, kernel, padding, outWidth, outHeight * outWidth, activation);
        fixed (float* pin = input, pw = weight, pb = bias, pout = output, ps = scratch)
        {
            if (!(Avx512F.IsSupported && Vector512.IsHardwareAccelerated))
            {
                if (GemmAvx2.IsSupported)
                    ColumnsAvx2.Forward(input, channels, height, width, kernel, stride: 2, padding, outHeight, outWidth, pw, ColumnsAvx2.Weights.Rows,
                        pb, pout, 0, filters, firstRow, endRow, activation);
                else Portable(pin, pw, pb, pout, shape, filters, firstRow, endRow);
                return;
            }
            // Every block of 8 filters' weights tap by tap, laid out once per call for all the blocks of rows.
            int taps = shape.Taps;
            long laidOut = (long)(filters + FilterBlock - 1) / FilterBlock * taps * FilterBlock;
            fixed (float* transposed = ThreadScratch.AtLeast(ref _threadWeights, laidOut))
            {
                for (int f0 = 0; f0 < filters; f0 += FilterBlock) Transpose(pw, transposed + (long)f0 * taps, shape, f0, filters);
                for (int oy0 = firstRow; oy0 < endRow; oy0 += rowsPerBlock)
                {
                    int rows = Math.Min(rowsPerBlock, endRow - oy0);
                    SplitRows(pin, ps, shape, 2 * oy0 - padding, 2 * (rows - 1) + kernel);
                    for (int f0 = 0; f0 < filters; f0 += FilterBlock)
                        BlockRows(ps, transposed + (long)f0 * taps, pb, pout, shape, f0, filters, oy0, rows, 2 * (rows - 1) + kernel,
                            moreRows: oy0 + rowsPerBlock < endRow);
                }
            }
        }
    }

    /// <summary>This thread's weights laid out tap by tap (<c>[filter block][tap][8]</c>), grown once: on the heap, since
    /// their size follows the caller's shape.</summary>
    [ThreadStatic] private static float[]? _threadWeights;

    private readonly record struct Shape(int Channels, int Height, int Width, int Kernel, int Padding, int OutWidth, int Plane, FusedActivation Activation)
    {
        /// <summary>A padded row's length: its even columns, then its odd ones.</summary>
        public int RowLength => Width + 2 * Padding;

        /// <summary>Where a padded row's odd columns start (after its <c>ceil(RowLength / 2)</c> even ones).</summary>
        public int OddStart => (RowLength + 1) / 2;

        public int Taps => Channels * Kernel * Kernel;
    }

    /// <summary>The portable chain for output rows <c>[firstRow, endRow)</c>: one fused multiply-add per tap from zero,
    /// a zero for every tap in the padding, then the bias, then the activation.</summary>
    private static void Portable(float* x, float* w, float* bias, float* output, in Shape s, int filters, int firstRow, int endRow)
    {
        int k = s.Kernel;
        for (int f = 0; f < filters; f++)
        for (int oy = firstRow; oy < endRow; oy++)
        for (int ox = 0; ox < s.OutWidth; ox++)
        {
            float acc = 0f;
            float* wf = w + (long)f * s.Taps;
            for (int c = 0; c < s.Channels; c++)
            for (int ky = 0; ky < k; ky++)
            {
                int iy = 2 * oy + ky - s.Padding;
                for (int kx = 0; kx < k; kx++)
                {
                    int ix = 2 * ox + kx - s.Padding;
                    float v = iy >= 0 && iy < s.Height && ix >= 0 && ix < s.Width ? x[((long)c * s.Height + iy) * s.Width + ix] : 0f;
                    acc = MathF.FusedMultiplyAdd(wf[(c * k + ky) * k + kx], v, acc);
                }
            }
            output[(long)f * s.Plane + (long)oy * s.OutWidth + ox] = Activate.Apply(acc + bias[f], s.Activation);
        }
    }

    /// <summary>
    /// Padded input rows <c>[firstRow, firstRow + count)</c> (input row numbers, negative or past the end in the padding)
    /// of every channel into <paramref name="rows"/> (<c>[channel][count][RowLength]</c>), each split into the padded
    /// row's even columns, then its odd ones, zeros where the padding is. Input column <c>x</c> is padded column
    /// <c>x + padding</c>: with even padding the input's even columns are the even ones, with odd padding the odd ones.
    /// </summary>
    private static void SplitRows(float* input, float* rows, in Shape s, int firstRow, int count)
    {
        int length = s.RowLength, odd = s.OddStart, p = s.Padding;
        // Where the input's even and odd columns land: their first index in the split row.
        int evensTo = p % 2 == 0 ? p / 2 : odd + (p - 1) / 2;
        int oddsTo = p % 2 == 0 ? odd + p / 2 : (p + 1) / 2;
        int evens = (s.Width + 1) / 2, odds = s.Width / 2;
        var evenIndex = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
        var oddIndex = Vector512.Create(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
        for (int c = 0; c < s.Channels; c++)
        for (int r = 0; r < count; r++)
        {
            float* to = rows + ((long)c * count + r) * length;
            int y = firstRow + r;
            new Span<float>(to, length).Clear();
            if (y < 0 || y >= s.Height) continue;
            float* from = input + ((long)c * s.Height + y) * s.Width;
            for (int t = 0; t < evens; t += 16)
            {
                // 32 input values: 16 even columns and up to 16 odd ones.
                var lo = Avx512F.MaskLoad(from + 2 * t, LaneMask.First(s.Width - 2 * t), Vector512<float>.Zero);
                var hi = Avx512F.MaskLoad(from + 2 * t + 16, LaneMask.First(s.Width - 2 * t - 16), Vector512<float>.Zero);
                Avx512F.MaskStore(to + evensTo + t, LaneMask.First(evens - t), Avx512F.PermuteVar16x32x2(lo, evenIndex, hi));
                Avx512F.MaskStore(to + oddsTo + t, LaneMask.First(odds - t), Avx512F.PermuteVar16x32x2(lo, oddIndex, hi));
            }
        }
    }

    /// <summary>Filters <c>f0 .. f0 + 7</c>' weights tap by tap (<c>[tap][8]</c>); past the last filter a slot repeats it.</summary>
    private static void Transpose(float* weight, float* transposed, in Shape s, int f0, int filters)
    {
        int taps = s.Taps;
        for (int j = 0; j < FilterBlock; j++)
        {
            float* from = weight + (long)Math.Min(f0 + j, filters - 1) * taps;
            for (int t = 0; t < taps; t++) transposed[t * FilterBlock + j] = from[t];
        }
    }

    /// <summary>
    /// Output rows <c>[oy0, oy0 + rows)</c> of filters <c>f0 .. f0 + 7</c> from the block's split rows: the block's vectors
    /// of 16 outputs three at a time (the last group repeating the block's last vector, which is then stored again with the
    /// same bits), eight filters at a time (past the last filter, the last one again).
    /// </summary>
    private static void BlockRows(float* rows, float* transposed, float* bias, float* output, in Shape s, int f0, int filters, int oy0, int count, int rowCount,
        bool moreRows)
    {
        int perRow = (s.OutWidth + 15) / 16, vectors = count * perRow, last = vectors - 1, length = s.RowLength;
        var lastMask = LaneMask.First(s.OutWidth - 16 * (perRow - 1));
        var all = Vector512<float>.AllBitsSet;
        // Where tap kx of a row starts in the split row: even taps in the even columns, odd taps in the odd ones.
        int* tapAt = stackalloc int[MaxKernel];
        for (int kx = 0; kx < s.Kernel; kx++) tapAt[kx] = kx % 2 == 0 ? kx / 2 : s.OddStart + kx / 2;
        var filters8 = new Filters(bias, output, s.Plane, f0, filters);
        // The outputs the next call stores at the same places (the next 8 filters', or after the last filters the first 8
        // filters' in the next block of rows; none after the range's last block, whose next rows another thread may
        // write), asked for one call ahead: stores that miss the cache wait for their lines.
        bool moreFilters = f0 + FilterBlock < filters;
        int nextFilter = moreFilters ? f0 + FilterBlock : 0;
        int nextFilters = moreFilters || moreRows ? Math.Min(FilterBlock, filters - nextFilter) : 0;
        float* next = output + (long)nextFilter * s.Plane + (moreFilters ? 0 : (long)count * s.OutWidth);
        for (int v = 0; v < vectors; v += VectorBlock)
        {
            int v1 = Math.Min(v + 1, last), v2 = Math.Min(v + 2, last);
            int r0 = v / perRow, c0 = v % perRow, r1 = v1 / perRow, c1 = v1 % perRow, r2 = v2 / perRow, c2 = v2 % perRow;
            var vectors3 = new Vectors(
                rows + 2L * r0 * length + 16 * c0, rows + 2L * r1 * length + 16 * c1, rows + 2L * r2 * length + 16 * c2,
                (long)(oy0 + r0) * s.OutWidth + 16 * c0, (long)(oy0 + r1) * s.OutWidth + 16 * c1, (long)(oy0 + r2) * s.OutWidth + 16 * c2,
                c0 == perRow - 1 ? lastMask : all, c1 == perRow - 1 ? lastMask : all, c2 == perRow - 1 ? lastMask : all);
            for (int f = 0; f < nextFilters; f++)
            {
                float* plane = next + (long)f * s.Plane;
                Sse.Prefetch0(plane + vectors3.Out0); Sse.Prefetch0(plane + vectors3.Out1); Sse.Prefetch0(plane + vectors3.Out2);
            }
            if (c0 < perRow - 1 && c1 < perRow - 1 && c2 < perRow - 1 || s.OutWidth % 16 == 0)
                Eight3<Whole>(transposed, tapAt, filters8, vectors3, s, (long)rowCount * length);
            else
                Eight3<Masked>(transposed, tapAt, filters8, vectors3, s, (long)rowCount * length);
        }
    }

    /// <summary>How a group of three vectors loads a tap's values: whole vectors when every lane of the three is an output
    /// (MobileNetV2's and ResNet-18's rows of 112 are 7 whole vectors), else masked to the output lanes. A masked load took
    /// a conversion of its mask to a mask register and a copy of the zero it merges into, three of each per tap for 24
    /// multiply-adds.</summary>
    private interface ITapLoads
    {
        static abstract Vector512<float> Load(float* p, Vector512<float> mask);
    }

    private readonly struct Whole : ITapLoads
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Load(float* p, Vector512<float> mask) => Vector512.Load(p);
    }

    private readonly struct Masked : ITapLoads
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Load(float* p, Vector512<float> mask) => Avx512F.MaskLoad(p, mask, Vector512<float>.Zero);
    }

    /// <summary>Eight filters' biases and output planes.</summary>
    private readonly struct Filters(float* bias, float* o, int plane, int f0, int filters)
    {
        private static int Clamp(int f, int filters) => Math.Min(f, filters - 1);
        public readonly float B0 = bias[Clamp(f0, filters)], B1 = bias[Clamp(f0 + 1, filters)], B2 = bias[Clamp(f0 + 2, filters)], B3 = bias[Clamp(f0 + 3, filters)];
        public readonly float B4 = bias[Clamp(f0 + 4, filters)], B5 = bias[Clamp(f0 + 5, filters)], B6 = bias[Clamp(f0 + 6, filters)], B7 = bias[Clamp(f0 + 7, filters)];
        public readonly float* O0 = o + (long)Clamp(f0, filters) * plane, O1 = o + (long)Clamp(f0 + 1, filters) * plane;
        public readonly float* O2 = o + (long)Clamp(f0 + 2, filters) * plane, O3 = o + (long)Clamp(f0 + 3, filters) * plane;
        public readonly float* O4 = o + (long)Clamp(f0 + 4, filters) * plane, O5 = o + (long)Clamp(f0 + 5, filters) * plane;
        public readonly float* O6 = o + (long)Clamp(f0 + 6, filters) * plane, O7 = o + (long)Clamp(f0 + 7, filters) * plane;
    }

    /// <summary>Three vectors of 16 outputs: where each reads its first tap in the split rows, where it is stored in
    /// an output plane, and which of its lanes are outputs.</summary>
    private readonly struct Vectors(float* in0, float* in1, float* in2, long out0, long out1, long out2,
        Vector512<float> mask0, Vector512<float> mask1, Vector512<float> mask2)
    {
        public readonly float* In0 = in0, In1 = in1, In2 = in2;
        public readonly long Out0 = out0, Out1 = out1, Out2 = out2;
        public readonly Vector512<float> Mask0 = mask0, Mask1 = mask1, Mask2 = mask2;
    }

    /// <summary>The sum plus the filter's bias, then the activation.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Finish(Vector512<float> sum, float bias, FusedActivation activation) =>
        Activate.Apply(sum + Vector512.Create(bias), activation);

    /// <summary>Eight filters x three vectors of outputs: 24 sums over every tap, then stored.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Eight3<TLoads>(float* w, int* tapAt, in Filters f, in Vectors o, in Shape s, long channelStep) where TLoads : struct, ITapLoads
    {
        var zero = Vector512<float>.Zero;
        Vector512<float> a0 = zero, a1 = zero, a2 = zero, a3 = zero, a4 = zero, a5 = zero, a6 = zero, a7 = zero;
        Vector512<float> b0 = zero, b1 = zero, b2 = zero, b3 = zero, b4 = zero, b5 = zero, b6 = zero, b7 = zero;
        Vector512<float> c0 = zero, c1 = zero, c2 = zero, c3 = zero, c4 = zero, c5 = zero, c6 = zero, c7 = zero;
        Vector512<float> m0 = o.Mask0, m1 = o.Mask1, m2 = o.Mask2;
        int kernel = s.Kernel, length = s.RowLength;
        for (int c = 0; c < s.Channels; c++)
        for (int ky = 0; ky < kernel; ky++)
        {
            long row = c * channelStep + (long)ky * length;
            float* p0 = o.In0 + row, p1 = o.In1 + row, p2 = o.In2 + row;
            for (int kx = 0; kx < kernel; kx++, w += FilterBlock)
            {
                int at = tapAt[kx];
                var u = TLoads.Load(p0 + at, m0);
                var v = TLoads.Load(p1 + at, m1);
                var x = TLoads.Load(p2 + at, m2);
                var q = Vector512.Create(w[0]); a0 = Avx512F.FusedMultiplyAdd(q, u, a0); b0 = Avx512F.FusedMultiplyAdd(q, v, b0); c0 = Avx512F.FusedMultiplyAdd(q, x, c0);
                q = Vector512.Create(w[1]); a1 = Avx512F.FusedMultiplyAdd(q, u, a1); b1 = Avx512F.FusedMultiplyAdd(q, v, b1); c1 = Avx512F.FusedMultiplyAdd(q, x, c1);
                q = Vector512.Create(w[2]); a2 = Avx512F.FusedMultiplyAdd(q, u, a2); b2 = Avx512F.FusedMultiplyAdd(q, v, b2); c2 = Avx512F.FusedMultiplyAdd(q, x, c2);
                q = Vector512.Create(w[3]); a3 = Avx512F.FusedMultiplyAdd(q, u, a3); b3 = Avx512F.FusedMultiplyAdd(q, v, b3); c3 = Avx512F.FusedMultiplyAdd(q, x, c3);
                q = Vector512.Create(w[4]); a4 = Avx512F.FusedMultiplyAdd(q, u, a4); b4 = Avx512F.FusedMultiplyAdd(q, v, b4); c4 = Avx512F.FusedMultiplyAdd(q, x, c4);
                q = Vector512.Create(w[5]); a5 = Avx512F.FusedMultiplyAdd(q, u, a5); b5 = Avx512F.FusedMultiplyAdd(q, v, b5); c5 = Avx512F.FusedMultiplyAdd(q, x, c5);
                q = Vector512.Create(w[6]); a6 = Avx512F.FusedMultiplyAdd(q, u, a6); b6 = Avx512F.FusedMultiplyAdd(q, v, b6); c6 = Avx512F.FusedMultiplyAdd(q, x, c6);
                q = Vector512.Create(w[7]); a7 = Avx512F.FusedMultiplyAdd(q, u, a7); b7 = Avx512F.FusedMultiplyAdd(q, v, b7); c7 = Avx512F.FusedMultiplyAdd(q, x, c7);
            }
        }
        var act = s.Activation;
        Store(f.O0, f.B0, o, a0, b0, c0, act); Store(f.O1, f.B1, o, a1, b1, c1, act);
        Store(f.O2, f.B2, o, a2, b2, c2, act); Store(f.O3, f.B3, o, a3, b3, c3, act);
        Store(f.O4, f.B4, o, a4, b4, c4, act); Store(f.O5, f.B5, o, a5, b5, c5, act);
        Store(f.O6, f.B6, o, a6, b6, c6, act); Store(f.O7, f.B7, o, a7, b7, c7, act);
    }

    /// <summary>One filter's three finished vectors into its output plane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(float* plane, float bias, in Vectors o, Vector512<float> a, Vector512<float> b, Vector512<float> c, FusedActivation activation)
    {
        Avx512F.MaskStore(plane + o.Out0, o.Mask0, Finish(a, bias, activation));
        Avx512F.MaskStore(plane + o.Out1, o.Mask1, Finish(b, bias, activation));
        Avx512F.MaskStore(plane + o.Out2, o.Mask2, Finish(c, bias, activation));
    }
}
