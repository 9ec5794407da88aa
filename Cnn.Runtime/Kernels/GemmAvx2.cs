using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CnnGen.Kernels;

/// <summary>
/// The matrix product of <see cref="Gemm"/> on machines with AVX2 and FMA but not AVX-512 (Zen 1 to 3, most laptops):
/// <c>C (+)= A * B</c>, then, given a bias, <c>activation(C + bias[row])</c>, with A's element (i, p) at
/// <c>a[i * rowStep + p * colStep]</c>, B's rows <c>ldb</c> floats apart and C's <c>ldc</c> apart. The product runs over
/// B in blocks of 256 rows by 256 columns, each copied first into panels of 16 columns whose rows follow one another
/// (256 KiB, kept in the second-level cache; the last panel padded with zeros), so the kernel reads B in one stream
/// and never under a mask; rows of B at most 64 floats long, or of a product of at most 24 rows, with no columns left
/// over are read in place. A block of 6 rows by 16 columns of C sits in twelve registers while a panel goes by (6
/// broadcasts and 2 loads per 12 fused multiply-adds), its six rows of A read through two pointers and a stride, or,
/// where they lie next to each other (the panels of 32 filters of <see cref="MultiplyPanels"/>), at constant offsets
/// while the kernel fetches the next panel's terms ahead.
/// Each element of C gets the chain of the portable path: a fused multiply-add per p in order, from zero (or from C
/// when accumulating), a block's sums stored and read back unchanged between blocks of B's rows, then the bias and the
/// activation: the same bits. Rows left over take blocks of 4 (32 rows as 6, 6, 6, 6, 4, 4, not 6 x 6 with 4
/// repeated), a block with fewer rows than that reads copies of its rows, and up to 8 columns left over take one
/// vector per row.
/// </summary>
internal static unsafe class GemmAvx2
{
    /// <summary>Whether this machine runs these kernels in hardware.</summary>
    public static bool IsSupported => Avx2.IsSupported && Fma.IsSupported;

    /// <summary>Rows of B (terms of every sum) per pass over C.</summary>
    private const int DepthBlock = 256;

    /// <summary>Columns of B and C per block.</summary>
    private const int ColumnBlock = 256;

    /// <summary>Columns of a panel of B: two vectors.</summary>
    private const int PanelColumns = 16;

    /// <summary>The longest rows of B read in place, without a copy into panels.</summary>
    private const int InPlaceRowLength = 64;

    /// <summary>
    /// Rows of C up to which B is read in place however long its rows: four blocks of 6 read each panel of B, too few to
    /// pay for its copy. Alternating per call with the copy in one process (medians of 30, two runs), with a ReLU6:
    /// 24 x 3136 x 144 1.04x, 24 x 3136 x 96 1.03-1.04x, 24 x 12544 x 64 1.12-1.13x, 16 x 12544 x 32 1.09-1.10x,
    /// 12 x 3136 x 512 1.17-1.20x; at 32 rows 0.98-1.04x (32 x 3136 x 576, 32 x 784 x 192), so those keep the copy.
    /// </summary>
    private const int InPlaceRows = 24;

    /// <summary>This thread's copy of a block of B, in panels, then room for six rows of A.</summary>
    [ThreadStatic] private static float[]? t_panels;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Multiply(float* a, float* b, int ldb, float* c, int ldc, int m, int n, int k, int rowStep, int colStep, bool accumulate,
        float* bias, FusedActivation activation) =>
        Multiply(a, new RowLayout(rowStep, int.MaxValue, 0), b, ldb, c, ldc, m, n, k, colStep, accumulate, bias, activation);

    /// <summary>
    /// The product with A in <see cref="FilterLanes.Layout"/>'s panels: element (i, p) at
    /// <c>(i / 32) * 32k + p * 32 + i % 32</c>. One call over all the rows, so each block of B's rows stays in the cache
    /// while every panel passes over it (a call per panel read the whole of B once per panel).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MultiplyPanels(float* panels, float* b, int ldb, float* c, int ldc, int m, int n, int k, float* bias, FusedActivation activation) =>
        Multiply(panels, new RowLayout(1, FilterLanes.PanelFilters, (long)FilterLanes.PanelFilters * k), b, ldb, c, ldc, m, n, k,
            colStep: FilterLanes.PanelFilters, accumulate: false, bias, activation);

    /// <summary>Where row i of A starts: <c>(i / PanelRows) * PanelStride + (i % PanelRows) * RowStep</c>; rows of one
    /// group of <c>PanelRows</c> are <c>RowStep</c> apart.</summary>
    private readonly record struct RowLayout(int RowStep, int PanelRows, long PanelStride)
    {
        public long Offset(int i) => i / PanelRows * PanelStride + (long)(i % PanelRows) * RowStep;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.NoInlining)]
    private static void Multiply(float* a, RowLayout layout, float* b, int ldb, float* c, int ldc, int m, int n, int k, int colStep, bool accumulate,
        float* bias, FusedActivation activation)
    {
        if (m <= 0 || n <= 0) return;
        // A block of fewer rows than its kernel's reads copies of them, the last one repeated: [6][depth], or [depth][6]
        // when the rows are adjacent (RowStep 1), which a block then reads at constant offsets.
        fixed (float* panels = ThreadScratch.AtLeast(ref t_panels, (long)DepthBlock * ColumnBlock + 6 * DepthBlock))
        {
            float* fewRows = panels + (long)DepthBlock * ColumnBlock;
            bool adjacent = layout.RowStep == 1;
            for (int j0 = 0; j0 < n; j0 += ColumnBlock)
            {
                int columns = Math.Min(ColumnBlock, n - j0);
                // One pass even when k is 0: C is then zero (or kept), and still gets its bias.
                for (int p0 = 0; p0 == 0 || p0 < k; p0 += DepthBlock)
                {
                    int depth = Math.Max(0, Math.Min(DepthBlock, k - p0));
                    bool load = accumulate || p0 > 0, last = p0 + DepthBlock >= k;
                    // Rows of B at most 64 floats apart with no columns left over are read where they are (the weights of
                    // Winograd's products, panels of 32 filters), as are those of a product of few rows; otherwise they
                    // are copied into panels first.
                    float* bBlock = b + (long)p0 * ldb + j0;
                    bool inPlace = (ldb <= InPlaceRowLength || m <= InPlaceRows) && columns % PanelColumns == 0;
                    if (!inPlace) CopyPanels(bBlock, ldb, depth, columns, panels);
                    var bPanels = inPlace ? new Panels(bBlock, ldb, PanelColumns) : new Panels(panels, PanelColumns, (long)depth * PanelColumns);
                    float* aBlock = a + (long)p0 * colStep;
                    // Row blocks stay inside a group of rows that are RowStep apart (a panel of 32 filters).
                    for (int group = 0; group < m; )
                    {
                        int groupEnd = m - group > layout.PanelRows ? group + layout.PanelRows : m;
                        var fetch = NextGroup(a, layout, colStep, k, m, p0, depth, group, groupEnd, columns);
                        for (int i = group; i < groupEnd; )
                        {
                            // Blocks of 6 rows, or of 4 where 6 would leave rows over: 32 rows as 6, 6, 6, 6, 4, 4. Past the
                            // last row a block repeats it, which writes the same values twice.
                            int left = groupEnd - i;
                            bool six = left > 4 && left != 7 && left != 8;
                            int blockRows = six ? 6 : 4;
                            float* rows = aBlock + layout.Offset(i);
                            long rowStep = layout.RowStep, step = colStep;
                            if (left < blockRows && adjacent)
                            {
                                CopyRows(rows, rowStep: 1, colStep, left, blockRows, depth, fewRows, toRowStep: 1, toColStep: blockRows);
                                rows = fewRows; step = blockRows;
                            }
                            else if (left < blockRows)
                            {
                                CopyRows(rows, layout.RowStep, colStep, left, blockRows, depth, fewRows, toRowStep: depth, toColStep: 1);
                                rows = fewRows; rowStep = depth; step = 1;
                            }
                            var cRows = new CRows(c + j0, i, groupEnd - 1, ldc);
                            var finish = new Epilogue(last ? bias : null, activation, i, groupEnd - 1);
                            if (fetch.At >= fetch.End) fetch = new Fetch((byte*)rows, (byte*)rows, 0);
                            if (adjacent && six) SixAdjacentRows(rows, step, cRows, finish, bPanels, columns, depth, load, fetch.At, fetch.Step);
                            else if (adjacent) FourAdjacentRows(rows, step, cRows, finish, bPanels, columns, depth, load, fetch.At, fetch.Step);
                            else if (six) SixRows(rows, rowStep, step, cRows, finish, bPanels, columns, depth, load);
                            else FourRows(rows, rowStep, step, cRows, finish, bPanels, columns, depth, load);
                            fetch = fetch.After((long)(columns + PanelColumns - 1) / PanelColumns * depth);
                            i += blockRows;
                        }
                        group = groupEnd;
                    }
                }
            }
        }
    }

    /// <summary>What a block's terms fetch ahead: a line at <c>At</c>, then <c>Step</c> bytes on for the next term,
    /// until <c>End</c>.</summary>
    private readonly struct Fetch(byte* at, byte* end, long step)
    {
        public readonly byte* At = at, End = end;
        public readonly long Step = step;

        /// <summary>Where the next block starts, after <paramref name="terms"/> terms of this one.</summary>
        public Fetch After(long terms) => new(At + Step * terms, End, Step);
    }

    /// <summary>
    /// For A in panels of rows (<c>PanelRows</c> less than <paramref name="m"/>): the next group's terms of this block of
    /// B's rows, or past the last group the first group's next terms, a share of them for each block of rows of this group,
    /// spread over the terms of the block's passes over the panels of B. The first block of a group alone used to read all of the
    /// group's terms (ResNet-18's 512 x 512 x 3 x 3 weights, 9.4 MB, from memory 32 KiB at a time), every other block
    /// finding them in the cache: the product of 512 x 49 x 4608 took 4.3-4.7 ms, against 3.2-3.4 ms with A in rows,
    /// whose blocks each read their own; with the fetch ahead, 3.5-3.6 ms. Otherwise nothing: the lines fetched are the
    /// block's own.
    /// </summary>
    private static Fetch NextGroup(float* a, RowLayout layout, long colStep, int k, int m, int p0, int depth, int group, int groupEnd, int columns)
    {
        if (layout.PanelRows >= m) return default;
        bool lastGroup = groupEnd >= m;
        float* next = !lastGroup ? a + p0 * colStep + layout.Offset(groupEnd) : a + (long)(p0 + DepthBlock) * colStep;
        long bytes = (long)layout.PanelRows * Math.Max(0, Math.Min(DepthBlock, k - p0 - (lastGroup ? DepthBlock : 0))) * sizeof(float);
        int blocks = (groupEnd - group + 5) / 6;
        long terms = (long)(columns + PanelColumns - 1) / PanelColumns * depth;
        return terms == 0 ? default : new Fetch((byte*)next, (byte*)next + bytes, (bytes / blocks / terms + sizeof(float)) & ~(sizeof(float) - 1L));
    }

    /// <summary>B's block of <paramref name="depth"/> rows by <paramref name="columns"/> into panels of 16 columns, panel q
    /// at <c>q * depth * 16</c>, row p of it at <c>p * 16</c>; columns past the last are zero.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CopyPanels(float* b, int ldb, int depth, int columns, float* panels)
    {
        for (int j = 0; j < columns; j += PanelColumns, panels += (long)depth * PanelColumns)
        {
            int width = columns - j;
            float* from = b + j, to = panels;
            if (width >= PanelColumns)
            {
                for (int p = 0; p < depth; p++, from += ldb, to += PanelColumns)
                {
                    Avx.Store(to, Avx.LoadVector256(from));
                    Avx.Store(to + 8, Avx.LoadVector256(from + 8));
                }
                continue;
            }
            var mask0 = StridedLanes256.First(Math.Min(width, 8));
            var mask1 = StridedLanes256.First(Math.Max(width - 8, 0));
            for (int p = 0; p < depth; p++, from += ldb, to += PanelColumns)
            {
                Avx.Store(to, Avx.MaskLoad(from, mask0));
                Avx.Store(to + 8, Avx.MaskLoad(from + 8, mask1));
            }
        }
    }

    /// <summary>The <paramref name="count"/> rows of A from <paramref name="rows"/> (over <paramref name="depth"/> terms)
    /// into <paramref name="blockRows"/> rows at <paramref name="to"/>, the last repeated: row r's term p at
    /// <c>r * toRowStep + p * toColStep</c>.</summary>
    private static void CopyRows(float* rows, long rowStep, long colStep, int count, int blockRows, int depth, float* to, int toRowStep, int toColStep)
    {
        for (int r = 0; r < blockRows; r++)
        {
            float* from = rows + Math.Min(r, count - 1) * rowStep;
            for (int p = 0; p < depth; p++) to[r * toRowStep + p * toColStep] = from[p * colStep];
        }
    }

    // A block of rows across the block's panels, in four kernels, each compiled on its own: one method holding all of
    // them ran out of inlining budget, and the flags of the blocks left as calls stayed variables in the inner loop (the
    // panel products of ResNet-18's 7x7 layers 6 -> 16 ms). A call per block of rows costs one per pass of its terms
    // over every panel of B.
    [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.NoInlining)]
    private static void SixRows(float* a, long rowStep, long colStep, in CRows rows, in Epilogue finish, in Panels b, int columns, int depth, bool load) =>
        Columns(a, rowStep, colStep, rows, finish, b, columns, depth, load, (byte*)a, 0, six: true, adjacent: false);

    [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.NoInlining)]
    private static void FourRows(float* a, long rowStep, long colStep, in CRows rows, in Epilogue finish, in Panels b, int columns, int depth, bool load) =>
        Columns(a, rowStep, colStep, rows, finish, b, columns, depth, load, (byte*)a, 0, six: false, adjacent: false);

    [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.NoInlining)]
    private static void SixAdjacentRows(float* a, long colStep, in CRows rows, in Epilogue finish, in Panels b, int columns, int depth, bool load,
        byte* fetch, long fetchStep) =>
        Columns(a, 1, colStep, rows, finish, b, columns, depth, load, fetch, fetchStep, six: true, adjacent: true);

    [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.NoInlining)]
    private static void FourAdjacentRows(float* a, long colStep, in CRows rows, in Epilogue finish, in Panels b, int columns, int depth, bool load,
        byte* fetch, long fetchStep) =>
        Columns(a, 1, colStep, rows, finish, b, columns, depth, load, fetch, fetchStep, six: false, adjacent: true);

    /// <summary>One block of rows across the block's panels: 16 columns at a time, the last up to 16 stored in part
    /// (up to 8 in one vector per row).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Columns(float* a, long rowStep, long colStep, in CRows rows, in Epilogue finish, in Panels b, int columns, int depth,
        bool load, byte* fetch, long fetchStep, bool six, bool adjacent)
    {
        int j = 0;
        float* panel = b.First;
        long fetchPass = fetchStep * depth;
        for (; j + PanelColumns <= columns; j += PanelColumns, panel += b.Next, fetch += fetchPass)
            Block(a, rowStep, colStep, rows, finish, panel, b.RowStep, j, depth, load, 0, 0, fetch, fetchStep, masked: false, six, wide: true, adjacent);
        int left = columns - j;
        if (left > 8)
            Block(a, rowStep, colStep, rows, finish, panel, b.RowStep, j, depth, load, 8, left - 8, fetch, fetchStep, masked: true, six, wide: true, adjacent);
        else if (left > 0)
            Block(a, rowStep, colStep, rows, finish, panel, b.RowStep, j, depth, load, left, 0, fetch, fetchStep, masked: true, six,
                wide: false, adjacent);
    }

    /// <summary>Where a block's panels of B are: the first at <c>First</c>, the next <c>Next</c> floats on, the rows of
    /// each <c>RowStep</c> floats apart.</summary>
    private readonly struct Panels(float* first, long rowStep, long next)
    {
        public readonly float* First = first;
        public readonly long RowStep = rowStep, Next = next;
    }

    /// <summary>Six rows of C (past the last row, the last again).</summary>
    private readonly struct CRows(float* c, int i, int last, int ldc)
    {
        private readonly float* _first = c + (long)i * ldc;
        private readonly int _more = last - i, _ldc = ldc;

        /// <summary>Row i + r of C (past the last row, the last), computed where it is read or written, so that no row's
        /// address holds a register through a block's loop.</summary>
        public float* this[int r]
        {
            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            get => _first + (long)(r < _more ? r : _more) * _ldc;
        }
    }

    /// <summary>What six rows' finished sums get before they are stored: nothing, or their bias and the activation.</summary>
    private readonly struct Epilogue(float* bias, FusedActivation activation, int i, int last)
    {
        public readonly bool Active = bias != null;
        public readonly FusedActivation Activation = activation;
        private readonly float* _first = bias + i;
        private readonly int _more = last - i;

        /// <summary>Row i + r's bias in every lane, read after the block's loop (held through it, six vectors of
        /// bias took registers from the sums).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector256<float> Bias(int r) => Vector256.Create(_first[r < _more ? r : _more]);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Load(float* p, int count, bool masked) =>
        masked ? Avx.MaskLoad(p, StridedLanes256.First(count)) : Avx.LoadVector256(p);

    /// <summary>A vector, or under <paramref name="masked"/> its first <paramref name="count"/> (1 to 8) lanes (4, 2 and
    /// 1 at a time: masked stores are slow on AMD's cores).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(float* p, Vector256<float> v, int count, bool masked)
    {
        if (masked && count < 8) StridedLanes256.StoreFirst(p, v, count);
        else Avx.Store(p, v);
    }

    /// <summary>Six rows (or, without <paramref name="six"/>, four) by 16 columns (without <paramref name="wide"/>, 8) of
    /// C, only the first <paramref name="count0"/> and <paramref name="count1"/> columns of its two vectors when
    /// <paramref name="masked"/>, over
    /// <paramref name="depth"/> rows of a panel of B, <paramref name="bStep"/> floats apart. Row r of A is
    /// <c>a + r * rowStep</c> (through two pointers, rows 0 and 3, and the strides 1 and 2 rows; with
    /// <paramref name="adjacent"/>, <c>a + r</c>, and a line at <paramref name="fetch"/> fetched per term,
    /// <paramref name="fetchStep"/> bytes apart), its terms <paramref name="colStep"/> apart. The flags are constants at
    /// every call, so each call compiles to a kernel without the registers and instructions it does not use.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Block(float* a, long rowStep, long colStep, in CRows r, in Epilogue f, float* b, long bStep, int j, int depth, bool load,
        int count0, int count1, byte* fetch, long fetchStep, bool masked, bool six, bool wide, bool adjacent)
    {
        var zero = Vector256<float>.Zero;
        Vector256<float> c00 = zero, c01 = zero, c10 = zero, c11 = zero, c20 = zero, c21 = zero, c30 = zero, c31 = zero;
        Vector256<float> c40 = zero, c41 = zero, c50 = zero, c51 = zero;
        if (load)
        {
            c00 = Load(r[0] + j, count0, masked); c10 = Load(r[1] + j, count0, masked);
            c20 = Load(r[2] + j, count0, masked); c30 = Load(r[3] + j, count0, masked);
            if (six) { c40 = Load(r[4] + j, count0, masked); c50 = Load(r[5] + j, count0, masked); }
            if (wide)
            {
                c01 = Load(r[0] + j + 8, count1, masked); c11 = Load(r[1] + j + 8, count1, masked);
                c21 = Load(r[2] + j + 8, count1, masked); c31 = Load(r[3] + j + 8, count1, masked);
                if (six) { c41 = Load(r[4] + j + 8, count1, masked); c51 = Load(r[5] + j + 8, count1, masked); }
            }
        }
        float* end = b + depth * bStep;
        if (adjacent)
        {
            // Rows at a, a + 1, ...: constant offsets; one line fetched ahead per term.
            for (; b < end; b += bStep, a += colStep, fetch += fetchStep)
            {
                Sse.Prefetch0(fetch);
                var b0 = Avx.LoadVector256(b);
                var b1 = wide ? Avx.LoadVector256(b + 8) : zero;
                var x = Vector256.Create(a[0]); c00 = Fma.MultiplyAdd(x, b0, c00); if (wide) c01 = Fma.MultiplyAdd(x, b1, c01);
                x = Vector256.Create(a[1]); c10 = Fma.MultiplyAdd(x, b0, c10); if (wide) c11 = Fma.MultiplyAdd(x, b1, c11);
                x = Vector256.Create(a[2]); c20 = Fma.MultiplyAdd(x, b0, c20); if (wide) c21 = Fma.MultiplyAdd(x, b1, c21);
                x = Vector256.Create(a[3]); c30 = Fma.MultiplyAdd(x, b0, c30); if (wide) c31 = Fma.MultiplyAdd(x, b1, c31);
                if (six)
                {
                    x = Vector256.Create(a[4]); c40 = Fma.MultiplyAdd(x, b0, c40); if (wide) c41 = Fma.MultiplyAdd(x, b1, c41);
                    x = Vector256.Create(a[5]); c50 = Fma.MultiplyAdd(x, b0, c50); if (wide) c51 = Fma.MultiplyAdd(x, b1, c51);
                }
            }
        }
        float* a0 = a, a3 = a + 3 * rowStep;
        long one = rowStep, two = 2 * rowStep;
        for (; !adjacent && b < end; b += bStep, a0 += colStep, a3 += colStep)
        {
            var b0 = Avx.LoadVector256(b);
            var b1 = wide ? Avx.LoadVector256(b + 8) : zero;
            var x = Vector256.Create(a0[0]); c00 = Fma.MultiplyAdd(x, b0, c00); if (wide) c01 = Fma.MultiplyAdd(x, b1, c01);
            x = Vector256.Create(a0[one]); c10 = Fma.MultiplyAdd(x, b0, c10); if (wide) c11 = Fma.MultiplyAdd(x, b1, c11);
            x = Vector256.Create(a0[two]); c20 = Fma.MultiplyAdd(x, b0, c20); if (wide) c21 = Fma.MultiplyAdd(x, b1, c21);
            x = Vector256.Create(a3[0]); c30 = Fma.MultiplyAdd(x, b0, c30); if (wide) c31 = Fma.MultiplyAdd(x, b1, c31);
            if (six)
            {
                x = Vector256.Create(a3[one]); c40 = Fma.MultiplyAdd(x, b0, c40); if (wide) c41 = Fma.MultiplyAdd(x, b1, c41);
                x = Vector256.Create(a3[two]); c50 = Fma.MultiplyAdd(x, b0, c50); if (wide) c51 = Fma.MultiplyAdd(x, b1, c51);
            }
        }
        if (f.Active)
        {
            var b0 = f.Bias(0); var b1 = f.Bias(1); var b2 = f.Bias(2); var b3 = f.Bias(3); var b4 = f.Bias(4); var b5 = f.Bias(5);
            c00 = Activate.Apply(c00 + b0, f.Activation); c01 = Activate.Apply(c01 + b0, f.Activation);
            c10 = Activate.Apply(c10 + b1, f.Activation); c11 = Activate.Apply(c11 + b1, f.Activation);
            c20 = Activate.Apply(c20 + b2, f.Activation); c21 = Activate.Apply(c21 + b2, f.Activation);
            c30 = Activate.Apply(c30 + b3, f.Activation); c31 = Activate.Apply(c31 + b3, f.Activation);
            c40 = Activate.Apply(c40 + b4, f.Activation); c41 = Activate.Apply(c41 + b4, f.Activation);
            c50 = Activate.Apply(c50 + b5, f.Activation); c51 = Activate.Apply(c51 + b5, f.Activation);
        }
        // The repeated rows of a last block hold the same sums as the row they repeat; stored last row first, the
        // first row's own values land last.
        if (six)
        {
            Store(r[5] + j, c50, count0, masked); if (wide) Store(r[5] + j + 8, c51, count1, masked);
            Store(r[4] + j, c40, count0, masked); if (wide) Store(r[4] + j + 8, c41, count1, masked);
        }
        Store(r[3] + j, c30, count0, masked); if (wide) Store(r[3] + j + 8, c31, count1, masked);
        Store(r[2] + j, c20, count0, masked); if (wide) Store(r[2] + j + 8, c21, count1, masked);
        Store(r[1] + j, c10, count0, masked); if (wide) Store(r[1] + j + 8, c11, count1, masked);
        Store(r[0] + j, c00, count0, masked); if (wide) Store(r[0] + j + 8, c01, count1, masked);
    }
}
