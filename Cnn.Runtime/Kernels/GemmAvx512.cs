using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CnnGen.Kernels;

/// <summary>
/// The AVX-512 micro-kernels behind <see cref="Gemm"/>. Each output element gets exactly the fused multiply-add
/// chain (or the 16-lane dot product) of the portable paths; only the register blocking differs:
/// <see cref="Multiply(float*, float*, float*, int, int, int, int, int, bool, float*, FusedActivation)"/> sends B's full panels (of 48 columns, then one of 32) through <see cref="PanelGemmAvx512"/> and keeps a 4 x 32
/// block of C in eight registers for the columns left (8 x 32 in sixteen, when there are eight rows or more), masking
/// the last, partial ones; 1 to 8 columns left under 16 rows or more go to <see cref="ColumnTailAvx512"/>. Given a bias, every path adds
/// it to the finished sums and applies the fused activation as it stores them.
/// </summary>
internal static unsafe class GemmAvx512
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Multiply(float* a, float* b, float* c, int m, int n, int k, int rowStep, int colStep, bool accumulate,
        float* bias = null, FusedActivation activation = FusedActivation.None) =>
        Multiply(a, b, ldb: n, c, ldc: n, m, n, k, rowStep, colStep, accumulate, bias, activation);

    /// <summary><see cref="Multiply(float*, float*, float*, int, int, int, int, int, bool, float*, FusedActivation)"/> with
    /// B's rows <paramref name="ldb"/> floats apart and C's <paramref name="ldc"/> apart (a block of columns of wider
    /// matrices); the same chains and bits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Multiply(float* a, float* b, int ldb, float* c, int ldc, int m, int n, int k, int rowStep, int colStep, bool accumulate,
        float* bias, FusedActivation activation)
    {
        int tail = n & 15;
        var tailMask = LaneMask.First(tail);
        if (ldb == n && ldc == n && NarrowGemmAvx512.Suits(m, n, k, colStep)
            && !ColumnTailAvx512.Suits(m, n - PanelGemmAvx512.ColumnsCovered(n), k, colStep))
        {
            NarrowGemmAvx512.Multiply(a, b, c, m, n, k, rowStep, accumulate, bias, activation);
            return;
        }
        // Full panels (of 48 columns, then one of 32) through the panel path; the rest below.
        int start = 0;
        if (PanelGemmAvx512.Suits(m, n, k))
        {
            start = PanelGemmAvx512.Multiply(a, b, ldb, c, ldc, m, n, k, rowStep, colStep, accumulate, bias, activation);
            if (start == n) return;
        }
        if (ColumnTailAvx512.Suits(m, n - start, k, colStep))
        {
            ColumnTailAvx512.Multiply(a, b + start, ldb, c + start, ldc, m, n - start, k, rowStep, accumulate, bias, activation);
            return;
        }
        if (m >= 8)
        {
            Columns8(a, b, ldb, c, ldc, m, n, k, rowStep, colStep, accumulate, bias, activation, start);
            return;
        }
        for (int i = 0; i < m; i += 4)
        {
            // Four rows at a time; past the last row the block repeats it, which writes the same values twice.
            var rows = new Rows(a, c, Math.Min(i, m - 1), Math.Min(i + 1, m - 1), Math.Min(i + 2, m - 1), Math.Min(i + 3, m - 1), rowStep, ldc);
            var finish = new Epilogue(bias, activation, Math.Min(i, m - 1), Math.Min(i + 1, m - 1), Math.Min(i + 2, m - 1), Math.Min(i + 3, m - 1));
            int j = start;
            for (; j + 32 <= n; j += 32) Block4x32(rows, finish, b + j, j, ldb, k, colStep, accumulate);
            for (; j + 16 <= n; j += 16) Block4x16(rows, finish, b + j, j, ldb, k, colStep, accumulate, Vector512<float>.AllBitsSet, false);
            if (tail != 0) Block4x16(rows, finish, b + j, j, ldb, k, colStep, accumulate, tailMask, true);
        }
    }

    /// <summary>The product of <see cref="PanelGemmAvx512.MultiplyPanels"/> for fewer than eight rows: four at a time
    /// against each whole panel of the <paramref name="n"/> columns (C's rows are n apart), read in place (its rows are 32
    /// floats apart); a narrower last panel is the caller's.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void PanelsFewRows(float* a, float* panels, float* c, int m, int n, int k, int rowStep, int colStep)
    {
        var none = new Epilogue(null, FusedActivation.None, 0, 0, 0, 0);
        for (int i = 0; i < m; i += 4)
        {
            var rows = new Rows(a, c, Math.Min(i, m - 1), Math.Min(i + 1, m - 1), Math.Min(i + 2, m - 1), Math.Min(i + 3, m - 1), rowStep, n);
            for (int j = 0; j + PanelGemmAvx512.PanelWidth <= n; j += PanelGemmAvx512.PanelWidth)
                Block4x32(rows, none, panels + (long)j * k, j, PanelGemmAvx512.PanelWidth, k, colStep, false);
        }
    }

    /// <summary>
    /// Columns [start, n) eight rows at a time (eight or sixteen accumulators, enough to keep both FMA pipes busy, where
    /// four rows would leave them half idle): 32 columns per block, then the last up to 32 in one block whose last vector
    /// is masked. Past the last row a block repeats it, which writes the same values twice.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Columns8(float* a, float* b, int ldb, float* c, int ldc, int m, int n, int k, int rowStep, int colStep, bool accumulate,
        float* bias, FusedActivation activation, int start)
    {
        for (int i = 0; i < m; i += 8)
        {
            int last = m - 1;
            int r0 = i, r1 = Math.Min(i + 1, last), r2 = Math.Min(i + 2, last), r3 = Math.Min(i + 3, last);
            int r4 = Math.Min(i + 4, last), r5 = Math.Min(i + 5, last), r6 = Math.Min(i + 6, last), r7 = Math.Min(i + 7, last);
            var lo = new Rows(a, c, r0, r1, r2, r3, rowStep, ldc);
            var hi = new Rows(a, c, r4, r5, r6, r7, rowStep, ldc);
            var finishLo = new Epilogue(bias, activation, r0, r1, r2, r3);
            var finishHi = new Epilogue(bias, activation, r4, r5, r6, r7);
            int j = start;
            for (; j + 32 <= n; j += 32) Block8x32(lo, hi, finishLo, finishHi, b + j, j, ldb, k, colStep, accumulate, Vector512<float>.AllBitsSet, false);
            int left = n - j;
            if (left > 16) Block8x32(lo, hi, finishLo, finishHi, b + j, j, ldb, k, colStep, accumulate, LaneMask.First(left - 16), true);
            else if (left > 0) Block8x16(lo, hi, finishLo, finishHi, b + j, j, ldb, k, colStep, accumulate, LaneMask.First(left), left < 16);
        }
    }

    /// <summary>Eight rows by 32 columns in sixteen accumulators; the second 16 columns under <paramref name="mask1"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Block8x32(in Rows lo, in Rows hi, in Epilogue flo, in Epilogue fhi, float* b, int j, int n, int k, int colStep, bool accumulate,
        Vector512<float> mask1, bool masked1)
    {
        Vector512<float> c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51, c60, c61, c70, c71;
        if (accumulate)
        {
            c00 = Vector512.Load(lo.C0 + j); c01 = Load(lo.C0 + j + 16, mask1, masked1);
            c10 = Vector512.Load(lo.C1 + j); c11 = Load(lo.C1 + j + 16, mask1, masked1);
            c20 = Vector512.Load(lo.C2 + j); c21 = Load(lo.C2 + j + 16, mask1, masked1);
            c30 = Vector512.Load(lo.C3 + j); c31 = Load(lo.C3 + j + 16, mask1, masked1);
            c40 = Vector512.Load(hi.C0 + j); c41 = Load(hi.C0 + j + 16, mask1, masked1);
            c50 = Vector512.Load(hi.C1 + j); c51 = Load(hi.C1 + j + 16, mask1, masked1);
            c60 = Vector512.Load(hi.C2 + j); c61 = Load(hi.C2 + j + 16, mask1, masked1);
            c70 = Vector512.Load(hi.C3 + j); c71 = Load(hi.C3 + j + 16, mask1, masked1);
        }
        else c00 = c01 = c10 = c11 = c20 = c21 = c30 = c31 = c40 = c41 = c50 = c51 = c60 = c61 = c70 = c71 = Vector512<float>.Zero;
        float* a0 = lo.A0, a1 = lo.A1, a2 = lo.A2, a3 = lo.A3, a4 = hi.A0, a5 = hi.A1, a6 = hi.A2, a7 = hi.A3;
        long ap = 0;
        for (int p = 0; p < k; p++, ap += colStep)
        {
            float* bp = b + (long)p * n;
            var b0 = Vector512.Load(bp);
            var b1 = Load(bp + 16, mask1, masked1);
            var x = Vector512.Create(a0[ap]); c00 = Avx512F.FusedMultiplyAdd(x, b0, c00); c01 = Avx512F.FusedMultiplyAdd(x, b1, c01);
            x = Vector512.Create(a1[ap]); c10 = Avx512F.FusedMultiplyAdd(x, b0, c10); c11 = Avx512F.FusedMultiplyAdd(x, b1, c11);
            x = Vector512.Create(a2[ap]); c20 = Avx512F.FusedMultiplyAdd(x, b0, c20); c21 = Avx512F.FusedMultiplyAdd(x, b1, c21);
            x = Vector512.Create(a3[ap]); c30 = Avx512F.FusedMultiplyAdd(x, b0, c30); c31 = Avx512F.FusedMultiplyAdd(x, b1, c31);
            x = Vector512.Create(a4[ap]); c40 = Avx512F.FusedMultiplyAdd(x, b0, c40); c41 = Avx512F.FusedMultiplyAdd(x, b1, c41);
            x = Vector512.Create(a5[ap]); c50 = Avx512F.FusedMultiplyAdd(x, b0, c50); c51 = Avx512F.FusedMultiplyAdd(x, b1, c51);
            x = Vector512.Create(a6[ap]); c60 = Avx512F.FusedMultiplyAdd(x, b0, c60); c61 = Avx512F.FusedMultiplyAdd(x, b1, c61);
            x = Vector512.Create(a7[ap]); c70 = Avx512F.FusedMultiplyAdd(x, b0, c70); c71 = Avx512F.FusedMultiplyAdd(x, b1, c71);
        }
        if (flo.Active)
        {
            c00 = Activate.Apply(c00 + flo.B0, flo.Activation); c01 = Activate.Apply(c01 + flo.B0, flo.Activation);
            c10 = Activate.Apply(c10 + flo.B1, flo.Activation); c11 = Activate.Apply(c11 + flo.B1, flo.Activation);
            c20 = Activate.Apply(c20 + flo.B2, flo.Activation); c21 = Activate.Apply(c21 + flo.B2, flo.Activation);
            c30 = Activate.Apply(c30 + flo.B3, flo.Activation); c31 = Activate.Apply(c31 + flo.B3, flo.Activation);
            c40 = Activate.Apply(c40 + fhi.B0, fhi.Activation); c41 = Activate.Apply(c41 + fhi.B0, fhi.Activation);
            c50 = Activate.Apply(c50 + fhi.B1, fhi.Activation); c51 = Activate.Apply(c51 + fhi.B1, fhi.Activation);
            c60 = Activate.Apply(c60 + fhi.B2, fhi.Activation); c61 = Activate.Apply(c61 + fhi.B2, fhi.Activation);
            c70 = Activate.Apply(c70 + fhi.B3, fhi.Activation); c71 = Activate.Apply(c71 + fhi.B3, fhi.Activation);
        }
        c70.Store(hi.C3 + j); Store(hi.C3 + j + 16, c71, mask1, masked1); c60.Store(hi.C2 + j); Store(hi.C2 + j + 16, c61, mask1, masked1);
        c50.Store(hi.C1 + j); Store(hi.C1 + j + 16, c51, mask1, masked1); c40.Store(hi.C0 + j); Store(hi.C0 + j + 16, c41, mask1, masked1);
        c30.Store(lo.C3 + j); Store(lo.C3 + j + 16, c31, mask1, masked1); c20.Store(lo.C2 + j); Store(lo.C2 + j + 16, c21, mask1, masked1);
        c10.Store(lo.C1 + j); Store(lo.C1 + j + 16, c11, mask1, masked1); c00.Store(lo.C0 + j); Store(lo.C0 + j + 16, c01, mask1, masked1);
    }

    /// <summary>Eight rows by up to 16 columns (under <paramref name="mask"/>) in eight accumulators.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Block8x16(in Rows lo, in Rows hi, in Epilogue flo, in Epilogue fhi, float* b, int j, int n, int k, int colStep, bool accumulate,
        Vector512<float> mask, bool masked)
    {
        Vector512<float> c0, c1, c2, c3, c4, c5, c6, c7;
        if (accumulate)
        {
            c0 = Load(lo.C0 + j, mask, masked); c1 = Load(lo.C1 + j, mask, masked); c2 = Load(lo.C2 + j, mask, masked); c3 = Load(lo.C3 + j, mask, masked);
            c4 = Load(hi.C0 + j, mask, masked); c5 = Load(hi.C1 + j, mask, masked); c6 = Load(hi.C2 + j, mask, masked); c7 = Load(hi.C3 + j, mask, masked);
        }
        else c0 = c1 = c2 = c3 = c4 = c5 = c6 = c7 = Vector512<float>.Zero;
        float* a0 = lo.A0, a1 = lo.A1, a2 = lo.A2, a3 = lo.A3, a4 = hi.A0, a5 = hi.A1, a6 = hi.A2, a7 = hi.A3;
        long ap = 0;
        for (int p = 0; p < k; p++, ap += colStep)
        {
            var bv = Load(b + (long)p * n, mask, masked);
            c0 = Avx512F.FusedMultiplyAdd(Vector512.Create(a0[ap]), bv, c0);
            c1 = Avx512F.FusedMultiplyAdd(Vector512.Create(a1[ap]), bv, c1);
            c2 = Avx512F.FusedMultiplyAdd(Vector512.Create(a2[ap]), bv, c2);
            c3 = Avx512F.FusedMultiplyAdd(Vector512.Create(a3[ap]), bv, c3);
            c4 = Avx512F.FusedMultiplyAdd(Vector512.Create(a4[ap]), bv, c4);
            c5 = Avx512F.FusedMultiplyAdd(Vector512.Create(a5[ap]), bv, c5);
            c6 = Avx512F.FusedMultiplyAdd(Vector512.Create(a6[ap]), bv, c6);
            c7 = Avx512F.FusedMultiplyAdd(Vector512.Create(a7[ap]), bv, c7);
        }
        if (flo.Active)
        {
            c0 = Activate.Apply(c0 + flo.B0, flo.Activation); c1 = Activate.Apply(c1 + flo.B1, flo.Activation);
            c2 = Activate.Apply(c2 + flo.B2, flo.Activation); c3 = Activate.Apply(c3 + flo.B3, flo.Activation);
            c4 = Activate.Apply(c4 + fhi.B0, fhi.Activation); c5 = Activate.Apply(c5 + fhi.B1, fhi.Activation);
            c6 = Activate.Apply(c6 + fhi.B2, fhi.Activation); c7 = Activate.Apply(c7 + fhi.B3, fhi.Activation);
        }
        Store(hi.C3 + j, c7, mask, masked); Store(hi.C2 + j, c6, mask, masked); Store(hi.C1 + j, c5, mask, masked); Store(hi.C0 + j, c4, mask, masked);
        Store(lo.C3 + j, c3, mask, masked); Store(lo.C2 + j, c2, mask, masked); Store(lo.C1 + j, c1, mask, masked); Store(lo.C0 + j, c0, mask, masked);
    }

    /// <summary>Four rows of A and the matching rows of C.</summary>
    private readonly struct Rows(float* a, float* c, int r0, int r1, int r2, int r3, int rowStep, int n)
    {
        public readonly float* A0 = a + (long)r0 * rowStep, A1 = a + (long)r1 * rowStep, A2 = a + (long)r2 * rowStep, A3 = a + (long)r3 * rowStep;
        public readonly float* C0 = c + (long)r0 * n, C1 = c + (long)r1 * n, C2 = c + (long)r2 * n, C3 = c + (long)r3 * n;
    }

    /// <summary>What four rows' finished sums get before they are stored: nothing, or their bias and the activation.</summary>
    private readonly struct Epilogue
    {
        public readonly bool Active;
        public readonly FusedActivation Activation;
        public readonly Vector512<float> B0, B1, B2, B3;

        public Epilogue(float* bias, FusedActivation activation, int r0, int r1, int r2, int r3)
        {
            Active = bias != null;
            Activation = activation;
            if (!Active) return;
            B0 = Vector512.Create(bias[r0]); B1 = Vector512.Create(bias[r1]); B2 = Vector512.Create(bias[r2]); B3 = Vector512.Create(bias[r3]);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Block4x32(in Rows r, in Epilogue f, float* b, int j, int n, int k, int colStep, bool accumulate)
    {
        Vector512<float> c00, c01, c10, c11, c20, c21, c30, c31;
        if (accumulate)
        {
            c00 = Vector512.Load(r.C0 + j); c01 = Vector512.Load(r.C0 + j + 16);
            c10 = Vector512.Load(r.C1 + j); c11 = Vector512.Load(r.C1 + j + 16);
            c20 = Vector512.Load(r.C2 + j); c21 = Vector512.Load(r.C2 + j + 16);
            c30 = Vector512.Load(r.C3 + j); c31 = Vector512.Load(r.C3 + j + 16);
        }
        else c00 = c01 = c10 = c11 = c20 = c21 = c30 = c31 = Vector512<float>.Zero;
        float* a0 = r.A0, a1 = r.A1, a2 = r.A2, a3 = r.A3;
        for (int p = 0; p < k; p++)
        {
            float* bp = b + (long)p * n;
            var b0 = Vector512.Load(bp);
            var b1 = Vector512.Load(bp + 16);
            int ap = p * colStep;
            var x0 = Vector512.Create(a0[ap]);
            c00 = Avx512F.FusedMultiplyAdd(x0, b0, c00); c01 = Avx512F.FusedMultiplyAdd(x0, b1, c01);
            var x1 = Vector512.Create(a1[ap]);
            c10 = Avx512F.FusedMultiplyAdd(x1, b0, c10); c11 = Avx512F.FusedMultiplyAdd(x1, b1, c11);
            var x2 = Vector512.Create(a2[ap]);
            c20 = Avx512F.FusedMultiplyAdd(x2, b0, c20); c21 = Avx512F.FusedMultiplyAdd(x2, b1, c21);
            var x3 = Vector512.Create(a3[ap]);
            c30 = Avx512F.FusedMultiplyAdd(x3, b0, c30); c31 = Avx512F.FusedMultiplyAdd(x3, b1, c31);
        }
        if (f.Active)
        {
            c00 = Activate.Apply(c00 + f.B0, f.Activation); c01 = Activate.Apply(c01 + f.B0, f.Activation);
            c10 = Activate.Apply(c10 + f.B1, f.Activation); c11 = Activate.Apply(c11 + f.B1, f.Activation);
            c20 = Activate.Apply(c20 + f.B2, f.Activation); c21 = Activate.Apply(c21 + f.B2, f.Activation);
            c30 = Activate.Apply(c30 + f.B3, f.Activation); c31 = Activate.Apply(c31 + f.B3, f.Activation);
        }
        c00.Store(r.C0 + j); c01.Store(r.C0 + j + 16);
        c10.Store(r.C1 + j); c11.Store(r.C1 + j + 16);
        c20.Store(r.C2 + j); c21.Store(r.C2 + j + 16);
        c30.Store(r.C3 + j); c31.Store(r.C3 + j + 16);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Block4x16(in Rows r, in Epilogue f, float* b, int j, int n, int k, int colStep, bool accumulate,
        Vector512<float> mask, bool masked)
    {
        Vector512<float> c0, c1, c2, c3;
        if (accumulate)
        {
            c0 = Load(r.C0 + j, mask, masked); c1 = Load(r.C1 + j, mask, masked);
            c2 = Load(r.C2 + j, mask, masked); c3 = Load(r.C3 + j, mask, masked);
        }
        else c0 = c1 = c2 = c3 = Vector512<float>.Zero;
        float* a0 = r.A0, a1 = r.A1, a2 = r.A2, a3 = r.A3;
        for (int p = 0; p < k; p++)
        {
            var bv = Load(b + (long)p * n, mask, masked);
            int ap = p * colStep;
            c0 = Avx512F.FusedMultiplyAdd(Vector512.Create(a0[ap]), bv, c0);
            c1 = Avx512F.FusedMultiplyAdd(Vector512.Create(a1[ap]), bv, c1);
            c2 = Avx512F.FusedMultiplyAdd(Vector512.Create(a2[ap]), bv, c2);
            c3 = Avx512F.FusedMultiplyAdd(Vector512.Create(a3[ap]), bv, c3);
        }
        if (f.Active)
        {
            c0 = Activate.Apply(c0 + f.B0, f.Activation); c1 = Activate.Apply(c1 + f.B1, f.Activation);
            c2 = Activate.Apply(c2 + f.B2, f.Activation); c3 = Activate.Apply(c3 + f.B3, f.Activation);
        }
        Store(r.C0 + j, c0, mask, masked); Store(r.C1 + j, c1, mask, masked);
        Store(r.C2 + j, c2, mask, masked); Store(r.C3 + j, c3, mask, masked);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Load(float* p, Vector512<float> mask, bool masked) =>
        masked ? Avx512F.MaskLoad(p, mask, Vector512<float>.Zero) : Vector512.Load(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(float* p, Vector512<float> value, Vector512<float> mask, bool masked)
    {
        if (masked) Avx512F.MaskStore(p, mask, value);
        else value.Store(p);
    }

    /// <summary>The 16 lane sums of one dot product (see <see cref="Gemm.Dot"/>), the last chunk loaded under a mask; with
    /// <paramref name="fetch"/>, each chunk of 16 also asks for the 64 bytes at <c>fetch + p</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Lanes(float* x, float* y, int k, Vector512<float> mask, Vector512<float> acc, float* fetch = null)
    {
        int p = 0;
        for (; p + 16 <= k; p += 16)
        {
            if (fetch != null) Sse.Prefetch0(fetch + p);
            acc = Avx512F.FusedMultiplyAdd(Vector512.Load(x + p), Vector512.Load(y + p), acc);
        }
        if (p < k)
            acc = Avx512F.FusedMultiplyAdd(Avx512F.MaskLoad(x + p, mask, Vector512<float>.Zero), Avx512F.MaskLoad(y + p, mask, Vector512<float>.Zero), acc);
        return acc;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Dot(float* x, float* y, int k) => Fold(Lanes(x, y, k, LaneMask.Tail(k), Vector512<float>.Zero));

    /// <summary><c>C (+)= A * B^T</c> as dot products of rows; see <see cref="Gemm.MultiplyTransposedB"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MultiplyTransposedB(float* a, float* b, float* c, int m, int n, int k, bool accumulate, bool bFromMemory = false)
    {
        if (m == 1 && bFromMemory)
        {
            // B from memory: one stream, asked for ahead (see RowsOneByOne).
            RowsOneByOne(a, b, c, k, LaneMask.Tail(k), accumulate, 0, n, fetchAhead: true);
            return;
        }
        if (m < 2)
        {
            RowsTimesTransposedB(a, b, c, m, n, k, accumulate, 0, n);
            return;
        }
        // Several rows of A (a dense layer's images): B's rows in chunks of about 256 KB, each chunk against every row of A
        // before the next, so B comes from memory once and each chunk is read again from the second-level cache, instead of
        // all of B streaming past once per pair of A's rows. Each value is the same dot product either way.
        int chunk = System.Math.Max(4, UnitChunkFloats / System.Math.Max(k, 1) & ~3);
        for (int first = 0; first < n; first += chunk)
            RowsTimesTransposedB(a, b, c, m, n, k, accumulate, first, System.Math.Min(n, first + chunk));
    }

    /// <summary>
    /// One row of A against rows [<paramref name="firstColumn"/>, <paramref name="endColumn"/>) of B, each row of B read to
    /// its end before the next: one chain per output, so latency-bound from the caches, but B then passes as one stream,
    /// which the hardware prefetcher follows (a dense layer's one image whose weights come from memory, and the last rows
    /// that make no block of eight). Eight rows
    /// side by side (<see cref="Block1x8"/>) open eight streams and came from memory slower, in thread CPU time, medians of
    /// 14 rounds, B cycled through copies of 96 MiB in all (2-core Zen 4; n x k, one stream against eight): 1000 x 1280
    /// (MobileNetV2's classifier) 254 against 286 us, 1000 x 1024 (GoogLeNet's, DenseNet-121's) 167 against 191, 1000 x
    /// 512 (ResNet-18's) 108 against 171. From the caches, eight rows win on small B (LeNet-5's 120 x 400 1.9 against 2.5
    /// us, 256 x 512 5.2 against 6.7, 256 x 1024 13.0 against 15.1), so the caller, which knows how large its B is, says
    /// which applies. In the pass (<c>Cnn.Latency --layers</c>, one thread, 3 to 8 runs of each build alternating):
    /// ResNet-18's fc 135-153 -> 97-108 us; the classifiers of MobileNetV2, GoogLeNet and DenseNet-121 within the noise
    /// (286-351 against 269-449 us, 233-283 against 168-302, 300-314 against 178-371).
    /// <para>With <paramref name="fetchAhead"/> (B from memory), each 64 bytes of B are asked for <see cref="StreamAhead"/>
    /// floats (8 KB) before they are read: the hardware prefetcher alone left the stream short of lines. In the pass
    /// (<c>Cnn.Latency --layers --fixed</c>, one thread, 2-core Zen 5, three runs of each in turn, thread CPU time):
    /// ResNet-18's fc (1000 x 512) 100-110 -> 75-82 us, MobileNetV2's classifier (1000 x 1280) 214-242 -> 132-217 (4 KB
    /// ahead: 80-83 and 191-217). The same operations in the same order, so the same bits; a request past B's end is only
    /// a hint, which the processor drops.</para>
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RowsOneByOne(float* x, float* b, float* c, int k, Vector512<float> mask, bool accumulate, int firstColumn, int endColumn,
        bool fetchAhead = false)
    {
        for (int j = firstColumn; j < endColumn; j++)
        {
            float* y = b + (long)j * k;
            Finish(c + j, Fold(Lanes(x, y, k, mask, Vector512<float>.Zero, fetchAhead ? y + StreamAhead : null)), accumulate);
        }
    }

    /// <summary>How far ahead of its reads <see cref="RowsOneByOne"/> asks for a B from memory: 2,048 floats, 8 KB.</summary>
    private const int StreamAhead = 2048;

    /// <summary>Floats of B one chunk of <see cref="MultiplyTransposedB"/> holds: 256 KB, a quarter of a core's second-level cache.</summary>
    private const int UnitChunkFloats = 64 * 1024;

    /// <summary>Columns [<paramref name="firstColumn"/>, <paramref name="endColumn"/>) of <c>C (+)= A * B^T</c>, every row.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RowsTimesTransposedB(float* a, float* b, float* c, int m, int n, int k, bool accumulate, int firstColumn, int endColumn)
    {
        var mask = LaneMask.Tail(k);
        int i = 0;
        for (; i + 2 <= m; i += 2)
        {
            float* x0 = a + (long)i * k, x1 = x0 + k;
            float* c0 = c + (long)i * n, c1 = c0 + n;
            int j = firstColumn;
            for (; j + 4 <= endColumn; j += 4)
            {
                Vector512<float> s00 = default, s01 = default, s02 = default, s03 = default;
                Vector512<float> s10 = default, s11 = default, s12 = default, s13 = default;
                Block2x4(x0, x1, b + (long)j * k, k, mask, ref s00, ref s01, ref s02, ref s03, ref s10, ref s11, ref s12, ref s13);
                Finish(c0 + j, Fold(s00), accumulate); Finish(c0 + j + 1, Fold(s01), accumulate);
                Finish(c0 + j + 2, Fold(s02), accumulate); Finish(c0 + j + 3, Fold(s03), accumulate);
                Finish(c1 + j, Fold(s10), accumulate); Finish(c1 + j + 1, Fold(s11), accumulate);
                Finish(c1 + j + 2, Fold(s12), accumulate); Finish(c1 + j + 3, Fold(s13), accumulate);
            }
            for (; j < endColumn; j++)
            {
                float* y = b + (long)j * k;
                Finish(c0 + j, Fold(Lanes(x0, y, k, mask, Vector512<float>.Zero)), accumulate);
                Finish(c1 + j, Fold(Lanes(x1, y, k, mask, Vector512<float>.Zero)), accumulate);
            }
        }
        for (; i < m; i++)
        {
            float* x = a + (long)i * k;
            float* ci = c + (long)i * n;
            int j = firstColumn;
            for (; j + 8 <= endColumn; j += 8)
            {
                // One row of A against eight rows of B: eight independent chains instead of one latency-bound chain, which
                // from the caches is faster than one stream, and kept more in flight than four did (1000 x 1280 from memory:
                // 302-319 -> 248-288 us; a B the caller says comes from memory now goes one row at a time instead); the last
                // rows (at most 7) go one at a time.
                Block1x8(x, b + (long)j * k, k, mask, ci + j, accumulate);
            }
            RowsOneByOne(x, b, ci, k, mask, accumulate, j, endColumn);
        }
    }

    /// <summary>One row of A against eight consecutive rows of B (length k each): eight dot products, each its own chain in
    /// the order of <see cref="Gemm.Dot"/>, finished into <paramref name="c"/>[0..8).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Block1x8(float* x, float* y0, int k, Vector512<float> mask, float* c, bool accumulate)
    {
        float* y1 = y0 + k, y2 = y1 + k, y3 = y2 + k, y4 = y3 + k, y5 = y4 + k, y6 = y5 + k, y7 = y6 + k;
        Vector512<float> s0 = default, s1 = default, s2 = default, s3 = default, s4 = default, s5 = default, s6 = default, s7 = default;
        int p = 0;
        for (; p + 16 <= k; p += 16)
        {
            var u = Vector512.Load(x + p);
            s0 = Avx512F.FusedMultiplyAdd(u, Vector512.Load(y0 + p), s0);
            s1 = Avx512F.FusedMultiplyAdd(u, Vector512.Load(y1 + p), s1);
            s2 = Avx512F.FusedMultiplyAdd(u, Vector512.Load(y2 + p), s2);
            s3 = Avx512F.FusedMultiplyAdd(u, Vector512.Load(y3 + p), s3);
            s4 = Avx512F.FusedMultiplyAdd(u, Vector512.Load(y4 + p), s4);
            s5 = Avx512F.FusedMultiplyAdd(u, Vector512.Load(y5 + p), s5);
            s6 = Avx512F.FusedMultiplyAdd(u, Vector512.Load(y6 + p), s6);
            s7 = Avx512F.FusedMultiplyAdd(u, Vector512.Load(y7 + p), s7);
        }
        if (p < k)
        {
            var z = Vector512<float>.Zero;
            var u = Avx512F.MaskLoad(x + p, mask, z);
            s0 = Avx512F.FusedMultiplyAdd(u, Avx512F.MaskLoad(y0 + p, mask, z), s0);
            s1 = Avx512F.FusedMultiplyAdd(u, Avx512F.MaskLoad(y1 + p, mask, z), s1);
            s2 = Avx512F.FusedMultiplyAdd(u, Avx512F.MaskLoad(y2 + p, mask, z), s2);
            s3 = Avx512F.FusedMultiplyAdd(u, Avx512F.MaskLoad(y3 + p, mask, z), s3);
            s4 = Avx512F.FusedMultiplyAdd(u, Avx512F.MaskLoad(y4 + p, mask, z), s4);
            s5 = Avx512F.FusedMultiplyAdd(u, Avx512F.MaskLoad(y5 + p, mask, z), s5);
            s6 = Avx512F.FusedMultiplyAdd(u, Avx512F.MaskLoad(y6 + p, mask, z), s6);
            s7 = Avx512F.FusedMultiplyAdd(u, Avx512F.MaskLoad(y7 + p, mask, z), s7);
        }
        Finish(c, Fold(s0), accumulate); Finish(c + 1, Fold(s1), accumulate);
        Finish(c + 2, Fold(s2), accumulate); Finish(c + 3, Fold(s3), accumulate);
        Finish(c + 4, Fold(s4), accumulate); Finish(c + 5, Fold(s5), accumulate);
        Finish(c + 6, Fold(s6), accumulate); Finish(c + 7, Fold(s7), accumulate);
    }

    /// <summary>Lane sums of two rows of A against four consecutive rows of B (length k each): eight dot products at once.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Block2x4(float* x0, float* x1, float* y0, int k, Vector512<float> mask,
        ref Vector512<float> s00, ref Vector512<float> s01, ref Vector512<float> s02, ref Vector512<float> s03,
        ref Vector512<float> s10, ref Vector512<float> s11, ref Vector512<float> s12, ref Vector512<float> s13)
    {
        float* y1 = y0 + k, y2 = y1 + k, y3 = y2 + k;
        Vector512<float> a00 = s00, a01 = s01, a02 = s02, a03 = s03, a10 = s10, a11 = s11, a12 = s12, a13 = s13;
        int p = 0;
        for (; p + 16 <= k; p += 16)
        {
            var u = Vector512.Load(x0 + p);
            var v = Vector512.Load(x1 + p);
            var w0 = Vector512.Load(y0 + p);
            a00 = Avx512F.FusedMultiplyAdd(u, w0, a00); a10 = Avx512F.FusedMultiplyAdd(v, w0, a10);
            var w1 = Vector512.Load(y1 + p);
            a01 = Avx512F.FusedMultiplyAdd(u, w1, a01); a11 = Avx512F.FusedMultiplyAdd(v, w1, a11);
            var w2 = Vector512.Load(y2 + p);
            a02 = Avx512F.FusedMultiplyAdd(u, w2, a02); a12 = Avx512F.FusedMultiplyAdd(v, w2, a12);
            var w3 = Vector512.Load(y3 + p);
            a03 = Avx512F.FusedMultiplyAdd(u, w3, a03); a13 = Avx512F.FusedMultiplyAdd(v, w3, a13);
        }
        if (p < k)
        {
            var z = Vector512<float>.Zero;
            var u = Avx512F.MaskLoad(x0 + p, mask, z);
            var v = Avx512F.MaskLoad(x1 + p, mask, z);
            var w0 = Avx512F.MaskLoad(y0 + p, mask, z);
            a00 = Avx512F.FusedMultiplyAdd(u, w0, a00); a10 = Avx512F.FusedMultiplyAdd(v, w0, a10);
            var w1 = Avx512F.MaskLoad(y1 + p, mask, z);
            a01 = Avx512F.FusedMultiplyAdd(u, w1, a01); a11 = Avx512F.FusedMultiplyAdd(v, w1, a11);
            var w2 = Avx512F.MaskLoad(y2 + p, mask, z);
            a02 = Avx512F.FusedMultiplyAdd(u, w2, a02); a12 = Avx512F.FusedMultiplyAdd(v, w2, a12);
            var w3 = Avx512F.MaskLoad(y3 + p, mask, z);
            a03 = Avx512F.FusedMultiplyAdd(u, w3, a03); a13 = Avx512F.FusedMultiplyAdd(v, w3, a13);
        }
        s00 = a00; s01 = a01; s02 = a02; s03 = a03; s10 = a10; s11 = a11; s12 = a12; s13 = a13;
    }

    /// <summary>The fold of <see cref="Gemm.Dot"/>: lanes l and l+8, then l and l+4, then (0 + 2) + (1 + 3).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Fold(Vector512<float> lanes)
    {
        var v8 = lanes.GetLower() + lanes.GetUpper();
        var v4 = v8.GetLower() + v8.GetUpper();
        return (v4.GetElement(0) + v4.GetElement(2)) + (v4.GetElement(1) + v4.GetElement(3));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Finish(float* c, float value, bool accumulate) => *c = accumulate ? *c + value : value;
}
