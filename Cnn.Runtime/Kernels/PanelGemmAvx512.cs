using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CnnGen.Kernels;

/// <summary>
/// The panel path of <see cref="Gemm.Multiply"/> for B's full panels of 48 columns (then one of 32): every block of 8 rows of A runs down a
/// panel with 24 accumulators (16 on a panel of 32), reading B's rows where they lie. Each element of C gets one fused multiply-add per term
/// in index order; with a bias, each row's bias is added to the finished sums and the fused activation applied as they
/// are stored: the bits of the product followed by <see cref="Elementwise.AddBias"/> and the activation's own pass.
/// <see cref="MultiplyPanels"/> takes a B packed once ahead (Winograd's transformed weights).
/// </summary>
/// <remarks>
/// Panels used to be copied, 256 rows at a time, into a buffer on the stack first, so that their rows no longer sat a
/// row of B apart. Measured on this machine's products (same bits either way), the copy cost more than it saved, even
/// with rows exactly 4 KiB apart: 16 x 144 x 1024 63-65 -> 46-50 us, 24 x 144 x 3136 (a MobileNetV2 projection) 272 ->
/// 222, 64 x 576 x 1024 1,058-1,069 -> 919-1,002, 256 x 2304 x 196 3,026-3,229 -> 2,809-2,954; only 128 x 576 x 1024
/// came out even.
/// </remarks>
[SkipLocalsInit]
internal static unsafe class PanelGemmAvx512
{
    public const int PanelWidth = 32;
    private const int RowBlock = 8;
    /// <summary>Rows of a packed panel run at once: 256 x 32 floats = 32 KiB, within the first-level cache.</summary>
    private const int DepthBlock = 256;

    /// <summary>Whether the panel path takes the product: a whole block of rows and at least one panel.</summary>
    public static bool Suits(int m, int n, int k) => m >= RowBlock && n >= PanelWidth && k >= 4;

    /// <summary>Columns one wide panel holds: three vectors, so that eight rows keep 24 sums in registers and each row of
    /// B costs three loads for 24 fused multiply-adds (a panel of 32: two for 16).</summary>
    public const int WidePanelWidth = 48;

    /// <summary>Columns <see cref="Multiply"/> computes of <paramref name="n"/>: whole wide panels of 48, then one panel of
    /// 32 if 32 or more are left. The caller computes the rest.</summary>
    public static int ColumnsCovered(int n) => n / WidePanelWidth * WidePanelWidth + (n % WidePanelWidth >= PanelWidth ? PanelWidth : 0);

    /// <summary><c>C[:, 0 .. ColumnsCovered(n)) (+)= op(A) * B[:, 0 .. ColumnsCovered(n))</c> in wide panels of 48
    /// columns, then at most one panel of 32; element A(i, p) is at <c>a[i * rowStep + p * colStep]</c>. A non-null
    /// <paramref name="bias"/> (one value per row) is added to the finished sums, then <paramref name="activation"/>
    /// applied, as they are stored. B's rows are <paramref name="ldb"/> floats apart and C's <paramref name="ldc"/>.
    /// Returns the columns computed (<see cref="ColumnsCovered"/>).</summary>
    /// <remarks>Panels of 48 against 32, the same bits, both in one process (products of MobileNetV2's and ResNet-18's
    /// shapes, m x k x n, B and C in cache, bias and ReLU6): 32 x 192 x 768 60.1 -> 53.7 us, 64 x 384 x 192 59.3 -> 53.3,
    /// 96 x 576 x 192 134.2 -> 119.9, 160 x 960 x 48 91.4 -> 68.4, 24 x 144 x 3120 112.4 -> 109.4, 16 x 96 x 12528
    /// unchanged.
    /// Every block of rows runs down one wide panel before the next panel starts, so the panel (48 KiB per 256 rows) is
    /// read from cache by all blocks but the first, and only the last block asks for the next panel:
    /// asking for the panel after next in every block, as this path did, brought two panels into a cache that holds one.
    /// Thread CPU time per product, the same bits (<c>Cnn.TrainProfile products</c>, two runs alternating, m x n x k):
    /// 128 x 784 x 256 (GoogLeNet's 256->128 1x1 @28) 295 / 291 -> 256 / 244 us, 96 x 784 x 192 196 / 198 -> 145 / 141,
    /// 192 x 196 x 480 256 / 249 -> 187 / 181, ResNet-18's 3x3 @14 as im2col (256 x 196 x 2304) 1,608 / 1,681 -> 1,254 /
    /// 1,194. Small B used to run block of rows by block of rows along all of B; that no longer pays (96 x 12544 x 16
    /// 267 / 255 against 249 / 245 us, 144 x 3136 x 24 119 / 125 against 124 / 123).</remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static int Multiply(float* a, float* b, int ldb, float* c, int ldc, int m, int n, int k, int rowStep, int colStep, bool accumulate,
        float* bias = null, FusedActivation activation = FusedActivation.None)
    {
        int wide = n / WidePanelWidth, narrowAt = wide * WidePanelWidth, covered = ColumnsCovered(n);
        bool narrow = covered > narrowAt;
        int lastBlock = (m - 1) / RowBlock * RowBlock;
        for (int jp = 0; jp < wide; jp++)
        {
            for (int i = 0; i < lastBlock; i += RowBlock)
                EightRowsWide<NoPrefetch>(a, b + jp * WidePanelWidth, ldb, c + jp * WidePanelWidth, i, m, ldc, k, rowStep, colStep, accumulate, bias, activation);
            EightRowsWide<OneWidePanelAhead>(a, b + jp * WidePanelWidth, ldb, c + jp * WidePanelWidth, lastBlock, m, ldc, k, rowStep, colStep, accumulate, bias, activation);
        }
        if (narrow)
            RowBlocks<AheadInPlace>(a, b + narrowAt, ldb, c + narrowAt, m, ldc, k, rowStep, colStep, accumulate, bias, activation, ahead: 0);
        return covered;
    }

    /// <summary>
    /// <c>C[m, n] = op(A) * B</c> with B given already packed: panel <c>j</c> (columns <c>32j .. 32j + 31</c>) is
    /// <c>panels[j * k * 32 ..]</c>, its <c>k</c> rows of 32 floats next to each other (a depth block is then a run of
    /// them, so nothing is copied). When <paramref name="n"/> is not a multiple of 32, the last panel holds the
    /// <c>n % 32</c> columns left in rows that long, multiplied in place by the general product's masked columns. Eight
    /// rows at a time over the panels, or four when there are fewer than eight; every element gets the chain of
    /// <see cref="Gemm.Multiply"/>. Each block
    /// asks for the block after it (<see cref="NextBlock"/>); an address past the panels' end is asked for
    /// <paramref name="jumpAfterEnd"/> floats further on, where the caller's next product reads.
    /// </summary>
    /// <remarks>A range of a Winograd layer's filters reads its share of each point's transformed weights, the next
    /// point's share a whole point further on: asking right past its own share, each range asked for the other's
    /// weights and met its next point's uncached. GoogLeNet's inception 4c 3x3 (128 -> 256 at 14x14), filters [0, 128)
    /// alone with the caches flushed before each call, four runs of each build alternating: 438, 445, 447 -> 349, 349,
    /// 375 us, and 325 -> 173 in a faster state of the machine (all 256 filters, whose points follow each other,
    /// 425-595 against 325-605).</remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MultiplyPanels(float* a, float* panels, float* c, int m, int n, int k, int rowStep, int colStep, long jumpAfterEnd = 0)
    {
        int count = n / PanelWidth, whole = count * PanelWidth;
        if (m < RowBlock)
            GemmAvx512.PanelsFewRows(a, panels, c, m, n, k, rowStep, colStep);
        else
        {
            float* end = panels + (long)n * k;
            for (int jp = 0; jp < count; jp++)
            {
                float* panel = panels + (long)jp * k * PanelWidth;
                for (int p0 = 0; p0 < k; p0 += DepthBlock)
                {
                    int depth = Math.Min(DepthBlock, k - p0);
                    float* block = panel + (long)p0 * PanelWidth;
                    if (jumpAfterEnd == 0 || block + NextBlock.Floats < end)
                        RowBlocks<NextBlock>(a + (long)p0 * colStep, block, PanelWidth, c + jp * PanelWidth, m, n, depth, rowStep, colStep, p0 > 0,
                            null, FusedActivation.None, ahead: 0);
                    else
                        RowBlocks<GivenDistance>(a + (long)p0 * colStep, block, PanelWidth, c + jp * PanelWidth, m, n, depth, rowStep, colStep, p0 > 0,
                            null, FusedActivation.None, ahead: NextBlock.Floats + jumpAfterEnd);
                }
            }
        }
        // The narrower last panel (it follows the whole ones, which asked for it ahead), its rows n - whole floats apart:
        // read in place as the columns of a [k, n - whole] matrix, C's rows n apart.
        if (whole < n)
            GemmAvx512.Multiply(a, panels + (long)whole * k, n - whole, c + whole, n, m, n - whole, k, rowStep, colStep, accumulate: false,
                bias: null, FusedActivation.None);
    }

    /// <summary>All rows of A, 8 at a time, against one panel whose rows are <paramref name="bStride"/> floats apart
    /// (32 when packed); past the last row a block repeats it (the same values are written twice). A non-null
    /// <paramref name="bias"/> finishes the sums as they are stored. <paramref name="ahead"/> is the distance each row
    /// asks ahead when <typeparamref name="TAhead"/> is <see cref="GivenDistance"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RowBlocks<TAhead>(float* a, float* panel, int bStride, float* c, int m, int n, int depth, int rowStep, int colStep, bool accumulate,
        float* bias, FusedActivation activation, long ahead) where TAhead : struct, IPrefetchDistance
    {
        for (int i = 0; i < m; i += RowBlock)
            EightRows<TAhead>(a, panel, bStride, c, i, m, n, depth, rowStep, colStep, accumulate, bias, activation, ahead);
    }

    /// <summary>Rows <c>i .. i + 7</c> of A (the last row repeated past the end) against one panel: 8 x 32 sums in 16
    /// accumulators, one fused multiply-add per term in index order. (Too many locals to be inlined: a call, compiled
    /// optimised from the first.)</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void EightRows<TAhead>(float* a, float* panel, int bStride, float* c, int i, int m, int n, int depth, int rowStep, int colStep, bool accumulate,
        float* bias, FusedActivation activation, long ahead) where TAhead : struct, IPrefetchDistance
    {
        var (r0, r1, r2, r3, r4, r5, r6, r7) = BlockRows(i, m);
        float* a0 = a + r0 * rowStep, a1 = a + r1 * rowStep, a2 = a + r2 * rowStep, a3 = a + r3 * rowStep;
        float* a4 = a + r4 * rowStep, a5 = a + r5 * rowStep, a6 = a + r6 * rowStep, a7 = a + r7 * rowStep;
        float* c0 = c + r0 * n, c1 = c + r1 * n, c2 = c + r2 * n, c3 = c + r3 * n;
        float* c4 = c + r4 * n, c5 = c + r5 * n, c6 = c + r6 * n, c7 = c + r7 * n;
        Vector512<float> s00, s01, s10, s11, s20, s21, s30, s31, s40, s41, s50, s51, s60, s61, s70, s71;
        if (accumulate)
        {
            s00 = Vector512.Load(c0); s01 = Vector512.Load(c0 + 16); s10 = Vector512.Load(c1); s11 = Vector512.Load(c1 + 16);
            s20 = Vector512.Load(c2); s21 = Vector512.Load(c2 + 16); s30 = Vector512.Load(c3); s31 = Vector512.Load(c3 + 16);
            s40 = Vector512.Load(c4); s41 = Vector512.Load(c4 + 16); s50 = Vector512.Load(c5); s51 = Vector512.Load(c5 + 16);
            s60 = Vector512.Load(c6); s61 = Vector512.Load(c6 + 16); s70 = Vector512.Load(c7); s71 = Vector512.Load(c7 + 16);
        }
        else s00 = s01 = s10 = s11 = s20 = s21 = s30 = s31 = s40 = s41 = s50 = s51 = s60 = s61 = s70 = s71 = Vector512<float>.Zero;
        float* bp = panel;
        long ap = 0;
        for (int p = 0; p < depth; p++, bp += bStride, ap += colStep)
        {
            if (TAhead.Floats != 0)
            {
                long distance = TAhead.Floats > 0 ? TAhead.Floats : ahead; // a constant but for GivenDistance
                Sse.Prefetch0(bp + distance);
                Sse.Prefetch0(bp + distance + 16);
            }
            var b0 = Vector512.Load(bp);
            var b1 = Vector512.Load(bp + 16);
            var x = Vector512.Create(a0[ap]); s00 = Avx512F.FusedMultiplyAdd(x, b0, s00); s01 = Avx512F.FusedMultiplyAdd(x, b1, s01);
            x = Vector512.Create(a1[ap]); s10 = Avx512F.FusedMultiplyAdd(x, b0, s10); s11 = Avx512F.FusedMultiplyAdd(x, b1, s11);
            x = Vector512.Create(a2[ap]); s20 = Avx512F.FusedMultiplyAdd(x, b0, s20); s21 = Avx512F.FusedMultiplyAdd(x, b1, s21);
            x = Vector512.Create(a3[ap]); s30 = Avx512F.FusedMultiplyAdd(x, b0, s30); s31 = Avx512F.FusedMultiplyAdd(x, b1, s31);
            x = Vector512.Create(a4[ap]); s40 = Avx512F.FusedMultiplyAdd(x, b0, s40); s41 = Avx512F.FusedMultiplyAdd(x, b1, s41);
            x = Vector512.Create(a5[ap]); s50 = Avx512F.FusedMultiplyAdd(x, b0, s50); s51 = Avx512F.FusedMultiplyAdd(x, b1, s51);
            x = Vector512.Create(a6[ap]); s60 = Avx512F.FusedMultiplyAdd(x, b0, s60); s61 = Avx512F.FusedMultiplyAdd(x, b1, s61);
            x = Vector512.Create(a7[ap]); s70 = Avx512F.FusedMultiplyAdd(x, b0, s70); s71 = Avx512F.FusedMultiplyAdd(x, b1, s71);
        }
        if (bias != null)
        {
            var v = Vector512.Create(bias[r0]); s00 = Activate.Apply(s00 + v, activation); s01 = Activate.Apply(s01 + v, activation);
            v = Vector512.Create(bias[r1]); s10 = Activate.Apply(s10 + v, activation); s11 = Activate.Apply(s11 + v, activation);
            v = Vector512.Create(bias[r2]); s20 = Activate.Apply(s20 + v, activation); s21 = Activate.Apply(s21 + v, activation);
            v = Vector512.Create(bias[r3]); s30 = Activate.Apply(s30 + v, activation); s31 = Activate.Apply(s31 + v, activation);
            v = Vector512.Create(bias[r4]); s40 = Activate.Apply(s40 + v, activation); s41 = Activate.Apply(s41 + v, activation);
            v = Vector512.Create(bias[r5]); s50 = Activate.Apply(s50 + v, activation); s51 = Activate.Apply(s51 + v, activation);
            v = Vector512.Create(bias[r6]); s60 = Activate.Apply(s60 + v, activation); s61 = Activate.Apply(s61 + v, activation);
            v = Vector512.Create(bias[r7]); s70 = Activate.Apply(s70 + v, activation); s71 = Activate.Apply(s71 + v, activation);
        }
        s70.Store(c7); s71.Store(c7 + 16); s60.Store(c6); s61.Store(c6 + 16);
        s50.Store(c5); s51.Store(c5 + 16); s40.Store(c4); s41.Store(c4 + 16);
        s30.Store(c3); s31.Store(c3 + 16); s20.Store(c2); s21.Store(c2 + 16);
        s10.Store(c1); s11.Store(c1 + 16); s00.Store(c0); s01.Store(c0 + 16);
    }

    /// <summary>Rows <c>i .. i + 7</c> of A (the last row repeated past the end) against one wide panel of 48 columns read
    /// in place: 8 x 48 sums in 24 accumulators, one fused multiply-add per term in index order, so each element has the
    /// bits of <see cref="EightRows{TAhead}"/>. <typeparamref name="TAhead"/> says how far ahead each row asks for B's
    /// values.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void EightRowsWide<TAhead>(float* a, float* panel, int bStride, float* c, int i, int m, int n, int depth, int rowStep, int colStep, bool accumulate,
        float* bias, FusedActivation activation) where TAhead : struct, IPrefetchDistance
    {
        var (r0, r1, r2, r3, r4, r5, r6, r7) = BlockRows(i, m);
        float* a0 = a + r0 * rowStep, a1 = a + r1 * rowStep, a2 = a + r2 * rowStep, a3 = a + r3 * rowStep;
        float* a4 = a + r4 * rowStep, a5 = a + r5 * rowStep, a6 = a + r6 * rowStep, a7 = a + r7 * rowStep;
        float* c0 = c + r0 * n, c1 = c + r1 * n, c2 = c + r2 * n, c3 = c + r3 * n;
        float* c4 = c + r4 * n, c5 = c + r5 * n, c6 = c + r6 * n, c7 = c + r7 * n;
        Vector512<float> s00, s01, s02, s10, s11, s12, s20, s21, s22, s30, s31, s32;
        Vector512<float> s40, s41, s42, s50, s51, s52, s60, s61, s62, s70, s71, s72;
        if (accumulate)
        {
            (s00, s01, s02) = Load3(c0); (s10, s11, s12) = Load3(c1); (s20, s21, s22) = Load3(c2); (s30, s31, s32) = Load3(c3);
            (s40, s41, s42) = Load3(c4); (s50, s51, s52) = Load3(c5); (s60, s61, s62) = Load3(c6); (s70, s71, s72) = Load3(c7);
        }
        else
        {
            s00 = s01 = s02 = s10 = s11 = s12 = s20 = s21 = s22 = s30 = s31 = s32 = Vector512<float>.Zero;
            s40 = s41 = s42 = s50 = s51 = s52 = s60 = s61 = s62 = s70 = s71 = s72 = Vector512<float>.Zero;
        }
        float* bp = panel;
        long ap = 0;
        for (int p = 0; p < depth; p++, bp += bStride, ap += colStep)
        {
            if (TAhead.Floats > 0)
            {
                Sse.Prefetch0(bp + TAhead.Floats);
                Sse.Prefetch0(bp + TAhead.Floats + 16);
                Sse.Prefetch0(bp + TAhead.Floats + 32);
            }
            var b0 = Vector512.Load(bp);
            var b1 = Vector512.Load(bp + 16);
            var b2 = Vector512.Load(bp + 32);
            var x = Vector512.Create(a0[ap]); s00 = Avx512F.FusedMultiplyAdd(x, b0, s00); s01 = Avx512F.FusedMultiplyAdd(x, b1, s01); s02 = Avx512F.FusedMultiplyAdd(x, b2, s02);
            x = Vector512.Create(a1[ap]); s10 = Avx512F.FusedMultiplyAdd(x, b0, s10); s11 = Avx512F.FusedMultiplyAdd(x, b1, s11); s12 = Avx512F.FusedMultiplyAdd(x, b2, s12);
            x = Vector512.Create(a2[ap]); s20 = Avx512F.FusedMultiplyAdd(x, b0, s20); s21 = Avx512F.FusedMultiplyAdd(x, b1, s21); s22 = Avx512F.FusedMultiplyAdd(x, b2, s22);
            x = Vector512.Create(a3[ap]); s30 = Avx512F.FusedMultiplyAdd(x, b0, s30); s31 = Avx512F.FusedMultiplyAdd(x, b1, s31); s32 = Avx512F.FusedMultiplyAdd(x, b2, s32);
            x = Vector512.Create(a4[ap]); s40 = Avx512F.FusedMultiplyAdd(x, b0, s40); s41 = Avx512F.FusedMultiplyAdd(x, b1, s41); s42 = Avx512F.FusedMultiplyAdd(x, b2, s42);
            x = Vector512.Create(a5[ap]); s50 = Avx512F.FusedMultiplyAdd(x, b0, s50); s51 = Avx512F.FusedMultiplyAdd(x, b1, s51); s52 = Avx512F.FusedMultiplyAdd(x, b2, s52);
            x = Vector512.Create(a6[ap]); s60 = Avx512F.FusedMultiplyAdd(x, b0, s60); s61 = Avx512F.FusedMultiplyAdd(x, b1, s61); s62 = Avx512F.FusedMultiplyAdd(x, b2, s62);
            x = Vector512.Create(a7[ap]); s70 = Avx512F.FusedMultiplyAdd(x, b0, s70); s71 = Avx512F.FusedMultiplyAdd(x, b1, s71); s72 = Avx512F.FusedMultiplyAdd(x, b2, s72);
        }
        // Stored from the last row back, as EightRows does: a repeated row is written last by its first copy.
        Store3(c7, bias, r7, s70, s71, s72, activation); Store3(c6, bias, r6, s60, s61, s62, activation);
        Store3(c5, bias, r5, s50, s51, s52, activation); Store3(c4, bias, r4, s40, s41, s42, activation);
        Store3(c3, bias, r3, s30, s31, s32, activation); Store3(c2, bias, r2, s20, s21, s22, activation);
        Store3(c1, bias, r1, s10, s11, s12, activation); Store3(c0, bias, r0, s00, s01, s02, activation);
    }

    /// <summary>Rows <c>i .. i + 7</c> of a block of eight, the matrix's last row standing in for those past its end.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (long, long, long, long, long, long, long, long) BlockRows(int i, int m)
    {
        int last = m - 1;
        return (i, Math.Min(i + 1, last), Math.Min(i + 2, last), Math.Min(i + 3, last),
            Math.Min(i + 4, last), Math.Min(i + 5, last), Math.Min(i + 6, last), Math.Min(i + 7, last));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector512<float>, Vector512<float>, Vector512<float>) Load3(float* c) =>
        (Vector512.Load(c), Vector512.Load(c + 16), Vector512.Load(c + 32));

    /// <summary>One row's three finished vectors: with a bias, plus the row's bias and then the activation.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store3(float* c, float* bias, long row, Vector512<float> u, Vector512<float> v, Vector512<float> w, FusedActivation activation)
    {
        if (bias != null)
        {
            var b = Vector512.Create(bias[row]);
            u = Activate.Apply(u + b, activation); v = Activate.Apply(v + b, activation); w = Activate.Apply(w + b, activation);
        }
        u.Store(c); v.Store(c + 16); w.Store(c + 32);
    }

    /// <summary>How far ahead of the row it multiplies a block asks for B's values, in floats (0: it does not; negative:
    /// as far as the caller says, <see cref="GivenDistance"/>). A type argument, so that the compiler drops the
    /// prefetches where there are none and keeps the distance a constant where it is one.</summary>
    private interface IPrefetchDistance
    {
        static abstract int Floats { get; }
    }

    /// <summary>B read where it lies: a panel's rows sit a row of B apart, too many streams for the hardware's
    /// prefetcher to follow when B is not in cache (a layer's output of 1 MB or more, just written), so each row asks
    /// for the same row of the panel after next. Prefetching past B's end is harmless: the instruction never faults.
    /// 24 x 3136 x 144 with B and C out of cache: 580 -> 300 us; in cache, unchanged.</summary>
    private struct AheadInPlace : IPrefetchDistance
    {
        public static int Floats => 2 * PanelWidth;
    }

    /// <summary>A wide panel's blocks of rows but the last: the panel is already in the first-level cache.</summary>
    private struct NoPrefetch : IPrefetchDistance
    {
        public static int Floats => 0;
    }

    /// <summary>A wide panel's last block of rows: each row asks for the same row of the next panel, which the next
    /// blocks read.</summary>
    private struct OneWidePanelAhead : IPrefetchDistance
    {
        public static int Floats => WidePanelWidth;
    }

    /// <summary>B packed panel after panel (Winograd's transformed weights): each row asks for the same row of the next
    /// depth block (of this panel, or the next panel's first), 32 KiB ahead. The hardware's prefetcher follows the
    /// sequential reads by itself, but a layer's weights read once per image (ResNet-18's 14 x 14 maps: 9 MiB per layer,
    /// 36 products of 16 tiles) come from memory, and asking a block ahead keeps more of it in flight: 256 x 14 x 14,
    /// weights out of cache, 790-799 -> 567-594 us; 128 x 28 x 28 605-615 -> 504-515; in cache 520-524 -> 545-550 and
    /// 476-499 -> 487-492; 64 x 56 x 56 unchanged.</summary>
    private struct NextBlock : IPrefetchDistance
    {
        public static int Floats => DepthBlock * PanelWidth;
    }

    /// <summary>The blocks of <see cref="MultiplyPanels"/> whose next block lies past the product's panels: each row asks
    /// as far ahead as the caller's next product lies (a distance given at run time, kept out of the other blocks' loops,
    /// where one more value live in the loop measured slower).</summary>
    private struct GivenDistance : IPrefetchDistance
    {
        public static int Floats => -1;
    }
}
