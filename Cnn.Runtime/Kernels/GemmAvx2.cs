using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CnnGen.Kernels;

/// <summary>
/// The matrix product of <see cref="Gemm"/> on machines with AVX2 and FMA but not AVX-512 (Zen 1 to 3, most laptops):
/// <c>C (+)= A * B</c>, then, given a bias, <c>activation(C + bias[row])</c>, with A's element (i, p) at
/// <c>a[i * rowStep + p * colStep]</c>, B's rows <c>ldb</c> floats apart and C's <c>ldc</c> apart. A block of 6 rows by
/// 16 columns of C sits in twelve registers while 256 rows of B go by (6 broadcasts and 2 loads per 12 fused
/// multiply-adds); the product runs over B in blocks of 256 rows by 256 columns (256 KiB, kept in the second-level
/// cache while every block of 6 rows of A passes over it). Each element of C gets the chain of the portable path: a
/// fused multiply-add per p in order, from zero (or from C when accumulating), a block's sums stored and read back
/// unchanged between blocks of B's rows, then the bias and the activation: the same bits. Rows left over take blocks of
/// 4 (32 rows as 6, 6, 6, 6, 4, 4, not 6 x 6 with 4 repeated) and up to 8 columns left over one vector per row.
/// </summary>
internal static unsafe class GemmAvx2
{
    /// <summary>Whether this machine runs these kernels in hardware.</summary>
    public static bool IsSupported => Avx2.IsSupported && Fma.IsSupported;

    /// <summary>Rows of B (terms of every sum) per pass over C.</summary>
    private const int DepthBlock = 256;

    /// <summary>Columns of B and C per block.</summary>
    private const int ColumnBlock = 256;

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

    /// <summary>Where row i of A starts: <c>(i / PanelRows) * PanelStride + (i % PanelRows) * RowStep</c>.</summary>
    private readonly record struct RowLayout(int RowStep, int PanelRows, long PanelStride)
    {
        public long Offset(int i) => i / PanelRows * PanelStride + (long)(i % PanelRows) * RowStep;
    }

    // Compiled on its own, never inlined into a caller: inside a caller's body the blocks' inlining ran out of budget
    // and their flags stayed variables in the inner loop (the panel products of ResNet-18's 7x7 layers 6 -> 16 ms).
    [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.NoInlining)]
    private static void Multiply(float* a, RowLayout layout, float* b, int ldb, float* c, int ldc, int m, int n, int k, int colStep, bool accumulate,
        float* bias, FusedActivation activation)
    {
        if (m <= 0 || n <= 0) return;
        for (int j0 = 0; j0 < n; j0 += ColumnBlock)
        {
            int columns = Math.Min(ColumnBlock, n - j0);
            // One pass even when k is 0: C is then zero (or kept), and still gets its bias.
            for (int p0 = 0; p0 == 0 || p0 < k; p0 += DepthBlock)
            {
                int depth = Math.Min(DepthBlock, k - p0);
                bool load = accumulate || p0 > 0, last = p0 + DepthBlock >= k;
                float* bBlock = b + (long)p0 * ldb + j0;
                for (int i = 0; i < m; )
                {
                    // Blocks of 6 rows, or of 4 where 6 would leave rows over: 32 rows as 6, 6, 6, 6, 4, 4. Past the last
                    // row a block repeats it, which writes the same values twice.
                    int left = m - i;
                    bool six = left > 4 && left != 7 && left != 8;
                    var rows = new Rows(a + (long)p0 * colStep, layout, c + j0, i, m - 1, ldc);
                    var finish = new Epilogue(last ? bias : null, activation, i, m - 1);
                    if (six) Columns(rows, finish, bBlock, ldb, columns, depth, colStep, load, six: true);
                    else Columns(rows, finish, bBlock, ldb, columns, depth, colStep, load, six: false);
                    i += six ? 6 : 4;
                }
            }
        }
    }

    /// <summary>One block of rows across the columns: 16 at a time, then the last up to 16 under masks (up to 8 in one
    /// vector per row).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Columns(in Rows rows, in Epilogue finish, float* b, int ldb, int columns, int depth, int colStep, bool load, bool six)
    {
        int j = 0;
        for (; j + 16 <= columns; j += 16)
            Block(rows, finish, b + j, j, ldb, depth, colStep, load, default, default, masked: false, six, wide: true);
        int left = columns - j;
        if (left > 8)
            Block(rows, finish, b + j, j, ldb, depth, colStep, load, StridedLanes256.First(8), StridedLanes256.First(left - 8), masked: true, six, wide: true);
        else if (left > 0)
            Block(rows, finish, b + j, j, ldb, depth, colStep, load, StridedLanes256.First(left), default, masked: true, six, wide: false);
    }

    /// <summary>Six rows of A (from the current block of B's rows) and of C.</summary>
    private readonly struct Rows
    {
        public readonly float* A0, A1, A2, A3, A4, A5, C0, C1, C2, C3, C4, C5;

        public Rows(float* a, in RowLayout layout, float* c, int i, int last, int ldc)
        {
            int r1 = Math.Min(i + 1, last), r2 = Math.Min(i + 2, last), r3 = Math.Min(i + 3, last), r4 = Math.Min(i + 4, last), r5 = Math.Min(i + 5, last);
            A0 = a + layout.Offset(i); A1 = a + layout.Offset(r1); A2 = a + layout.Offset(r2);
            A3 = a + layout.Offset(r3); A4 = a + layout.Offset(r4); A5 = a + layout.Offset(r5);
            C0 = c + (long)i * ldc; C1 = c + (long)r1 * ldc; C2 = c + (long)r2 * ldc;
            C3 = c + (long)r3 * ldc; C4 = c + (long)r4 * ldc; C5 = c + (long)r5 * ldc;
        }
    }

    /// <summary>What six rows' finished sums get before they are stored: nothing, or their bias and the activation.</summary>
    private readonly struct Epilogue
    {
        public readonly bool Active;
        public readonly FusedActivation Activation;
        public readonly Vector256<float> B0, B1, B2, B3, B4, B5;

        public Epilogue(float* bias, FusedActivation activation, int i, int last)
        {
            Active = bias != null;
            Activation = activation;
            if (!Active) return;
            B0 = Vector256.Create(bias[i]); B1 = Vector256.Create(bias[Math.Min(i + 1, last)]);
            B2 = Vector256.Create(bias[Math.Min(i + 2, last)]); B3 = Vector256.Create(bias[Math.Min(i + 3, last)]);
            B4 = Vector256.Create(bias[Math.Min(i + 4, last)]); B5 = Vector256.Create(bias[Math.Min(i + 5, last)]);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Load(float* p, Vector256<float> mask, bool masked) => masked ? Avx.MaskLoad(p, mask) : Avx.LoadVector256(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(float* p, Vector256<float> v, Vector256<float> mask, bool masked)
    {
        if (masked) Avx.MaskStore(p, mask, v);
        else Avx.Store(p, v);
    }

    /// <summary>Six rows (or, without <paramref name="six"/>, four) by 16 columns (without <paramref name="wide"/>, 8), the
    /// first 8 under <paramref name="mask0"/> and the next under <paramref name="mask1"/> when <paramref name="masked"/>,
    /// over <paramref name="depth"/> rows of B. The flags are constants at every call, so each call compiles to a kernel
    /// without the registers and instructions it does not use.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Block(in Rows r, in Epilogue f, float* b, int j, int ldb, int depth, int colStep, bool load,
        Vector256<float> mask0, Vector256<float> mask1, bool masked, bool six, bool wide)
    {
        var zero = Vector256<float>.Zero;
        Vector256<float> c00 = zero, c01 = zero, c10 = zero, c11 = zero, c20 = zero, c21 = zero, c30 = zero, c31 = zero;
        Vector256<float> c40 = zero, c41 = zero, c50 = zero, c51 = zero;
        if (load)
        {
            c00 = Load(r.C0 + j, mask0, masked); c10 = Load(r.C1 + j, mask0, masked);
            c20 = Load(r.C2 + j, mask0, masked); c30 = Load(r.C3 + j, mask0, masked);
            if (six) { c40 = Load(r.C4 + j, mask0, masked); c50 = Load(r.C5 + j, mask0, masked); }
            if (wide)
            {
                c01 = Load(r.C0 + j + 8, mask1, masked); c11 = Load(r.C1 + j + 8, mask1, masked);
                c21 = Load(r.C2 + j + 8, mask1, masked); c31 = Load(r.C3 + j + 8, mask1, masked);
                if (six) { c41 = Load(r.C4 + j + 8, mask1, masked); c51 = Load(r.C5 + j + 8, mask1, masked); }
            }
        }
        float* a0 = r.A0, a1 = r.A1, a2 = r.A2, a3 = r.A3, a4 = r.A4, a5 = r.A5;
        long ap = 0;
        for (int p = 0; p < depth; p++, ap += colStep, b += ldb)
        {
            var b0 = Load(b, mask0, masked);
            var b1 = wide ? Load(b + 8, mask1, masked) : zero;
            var x = Vector256.Create(a0[ap]); c00 = Fma.MultiplyAdd(x, b0, c00); if (wide) c01 = Fma.MultiplyAdd(x, b1, c01);
            x = Vector256.Create(a1[ap]); c10 = Fma.MultiplyAdd(x, b0, c10); if (wide) c11 = Fma.MultiplyAdd(x, b1, c11);
            x = Vector256.Create(a2[ap]); c20 = Fma.MultiplyAdd(x, b0, c20); if (wide) c21 = Fma.MultiplyAdd(x, b1, c21);
            x = Vector256.Create(a3[ap]); c30 = Fma.MultiplyAdd(x, b0, c30); if (wide) c31 = Fma.MultiplyAdd(x, b1, c31);
            if (six)
            {
                x = Vector256.Create(a4[ap]); c40 = Fma.MultiplyAdd(x, b0, c40); if (wide) c41 = Fma.MultiplyAdd(x, b1, c41);
                x = Vector256.Create(a5[ap]); c50 = Fma.MultiplyAdd(x, b0, c50); if (wide) c51 = Fma.MultiplyAdd(x, b1, c51);
            }
        }
        if (f.Active)
        {
            c00 = Activate.Apply(c00 + f.B0, f.Activation); c01 = Activate.Apply(c01 + f.B0, f.Activation);
            c10 = Activate.Apply(c10 + f.B1, f.Activation); c11 = Activate.Apply(c11 + f.B1, f.Activation);
            c20 = Activate.Apply(c20 + f.B2, f.Activation); c21 = Activate.Apply(c21 + f.B2, f.Activation);
            c30 = Activate.Apply(c30 + f.B3, f.Activation); c31 = Activate.Apply(c31 + f.B3, f.Activation);
            c40 = Activate.Apply(c40 + f.B4, f.Activation); c41 = Activate.Apply(c41 + f.B4, f.Activation);
            c50 = Activate.Apply(c50 + f.B5, f.Activation); c51 = Activate.Apply(c51 + f.B5, f.Activation);
        }
        // The repeated rows of a last block hold the same sums as the row they repeat; stored last row first, the
        // first row's own values land last.
        if (six)
        {
            Store(r.C5 + j, c50, mask0, masked); if (wide) Store(r.C5 + j + 8, c51, mask1, masked);
            Store(r.C4 + j, c40, mask0, masked); if (wide) Store(r.C4 + j + 8, c41, mask1, masked);
        }
        Store(r.C3 + j, c30, mask0, masked); if (wide) Store(r.C3 + j + 8, c31, mask1, masked);
        Store(r.C2 + j, c20, mask0, masked); if (wide) Store(r.C2 + j + 8, c21, mask1, masked);
        Store(r.C1 + j, c10, mask0, masked); if (wide) Store(r.C1 + j + 8, c11, mask1, masked);
        Store(r.C0 + j, c00, mask0, masked); if (wide) Store(r.C0 + j + 8, c01, mask1, masked);
    }
}
