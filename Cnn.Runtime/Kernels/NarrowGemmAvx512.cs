using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CnnGen.Kernels;

/// <summary>
/// The path of <see cref="Gemm.Multiply"/> for a narrow B of 49 to 64 columns (an 8x8 map's 64 positions) under many
/// rows of A (a deep layer's filters), unless a panel of 48 and <see cref="ColumnTailAvx512"/> take them (a 7x7 map's
/// 49 under 16 rows or more): B is packed, <see cref="DepthBlock"/> rows at a time, into
/// a 64-column buffer padded with zeros, and every block of 4 rows of A runs over all its columns with 16 accumulators,
/// the last two vectors masked. A is read once in all, where 32-column panels and the columns after them read it
/// twice, each time with lanes or accumulators to spare. Each element of C gets one fused multiply-add per term in
/// index order (a later depth block continues from the value the previous one stored); with a bias, the last depth
/// block adds it and applies the activation as it stores: the bits of every other path.
/// </summary>
[SkipLocalsInit]
internal static unsafe class NarrowGemmAvx512
{
    private const int Width = 64;
    /// <summary>Rows of B packed at once: 128 x 64 floats = 32 KiB, within the first-level cache.</summary>
    private const int DepthBlock = 128;

    /// <summary>Whether this path takes the product: 49 to 64 columns (with fewer, a whole vector of every row block
    /// would be padding: 36 columns measured 0.93x), at least 8 rows, a depth worth packing, and A's rows read along (a
    /// forward product, not the transposed A of backward-data).</summary>
    public static bool Suits(int m, int n, int k, int colStep) => n > 48 && n <= Width && m >= 8 && k >= 16 && colStep == 1;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Multiply(float* a, float* b, float* c, int m, int n, int k, int rowStep, bool accumulate, float* bias, FusedActivation activation)
    {
        float* panel = stackalloc float[DepthBlock * Width];
        var mask2 = LaneMask.First(n - 32);
        var mask3 = LaneMask.First(n - 48);
        for (int p0 = 0; p0 < k; p0 += DepthBlock)
        {
            int depth = Math.Min(DepthBlock, k - p0);
            Pack(b + (long)p0 * n, n, panel, depth, mask2, mask3);
            float* finishBias = p0 + depth >= k ? bias : null;
            for (int i = 0; i < m; i += 4)
                Block(a + p0, panel, c, i, m, n, depth, rowStep, accumulate || p0 > 0, finishBias, activation, mask2, mask3);
        }
    }

    /// <summary><paramref name="depth"/> rows of B's <paramref name="n"/> columns into rows of 64, zeros after them.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Pack(float* b, int n, float* panel, int depth, Vector512<float> mask2, Vector512<float> mask3)
    {
        for (int p = 0; p < depth; p++, b += n, panel += Width)
        {
            Vector512.Load(b).Store(panel);
            Vector512.Load(b + 16).Store(panel + 16);
            Avx512F.MaskLoad(b + 32, mask2, Vector512<float>.Zero).Store(panel + 32);
            Avx512F.MaskLoad(b + 48, mask3, Vector512<float>.Zero).Store(panel + 48);
        }
    }

    /// <summary>Rows <paramref name="i"/> .. <paramref name="i"/> + 3 of C (past the last row the block repeats it, which
    /// writes the same values twice) over one packed depth block. Too large to be inlined, so compiled optimised at
    /// once (a tiered first compile of this loop runs ten times slower until it is replaced).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Block(float* a, float* panel, float* c, int i, int m, int n, int depth, int rowStep, bool accumulate,
        float* bias, FusedActivation activation, Vector512<float> mask2, Vector512<float> mask3)
    {
        int last = m - 1;
        int r0 = i, r1 = Math.Min(i + 1, last), r2 = Math.Min(i + 2, last), r3 = Math.Min(i + 3, last);
        float* a0 = a + (long)r0 * rowStep, a1 = a + (long)r1 * rowStep, a2 = a + (long)r2 * rowStep, a3 = a + (long)r3 * rowStep;
        float* c0 = c + (long)r0 * n, c1 = c + (long)r1 * n, c2 = c + (long)r2 * n, c3 = c + (long)r3 * n;
        Vector512<float> s00, s01, s02, s03, s10, s11, s12, s13, s20, s21, s22, s23, s30, s31, s32, s33;
        if (accumulate)
        {
            s00 = Vector512.Load(c0); s01 = Vector512.Load(c0 + 16); s02 = Avx512F.MaskLoad(c0 + 32, mask2, Vector512<float>.Zero); s03 = Avx512F.MaskLoad(c0 + 48, mask3, Vector512<float>.Zero);
            s10 = Vector512.Load(c1); s11 = Vector512.Load(c1 + 16); s12 = Avx512F.MaskLoad(c1 + 32, mask2, Vector512<float>.Zero); s13 = Avx512F.MaskLoad(c1 + 48, mask3, Vector512<float>.Zero);
            s20 = Vector512.Load(c2); s21 = Vector512.Load(c2 + 16); s22 = Avx512F.MaskLoad(c2 + 32, mask2, Vector512<float>.Zero); s23 = Avx512F.MaskLoad(c2 + 48, mask3, Vector512<float>.Zero);
            s30 = Vector512.Load(c3); s31 = Vector512.Load(c3 + 16); s32 = Avx512F.MaskLoad(c3 + 32, mask2, Vector512<float>.Zero); s33 = Avx512F.MaskLoad(c3 + 48, mask3, Vector512<float>.Zero);
        }
        else s00 = s01 = s02 = s03 = s10 = s11 = s12 = s13 = s20 = s21 = s22 = s23 = s30 = s31 = s32 = s33 = Vector512<float>.Zero;
        float* bp = panel;
        for (int p = 0; p < depth; p++, bp += Width)
        {
            var b0 = Vector512.Load(bp);
            var b1 = Vector512.Load(bp + 16);
            var b2 = Vector512.Load(bp + 32);
            var b3 = Vector512.Load(bp + 48);
            var x = Vector512.Create(a0[p]);
            s00 = Avx512F.FusedMultiplyAdd(x, b0, s00); s01 = Avx512F.FusedMultiplyAdd(x, b1, s01); s02 = Avx512F.FusedMultiplyAdd(x, b2, s02); s03 = Avx512F.FusedMultiplyAdd(x, b3, s03);
            x = Vector512.Create(a1[p]);
            s10 = Avx512F.FusedMultiplyAdd(x, b0, s10); s11 = Avx512F.FusedMultiplyAdd(x, b1, s11); s12 = Avx512F.FusedMultiplyAdd(x, b2, s12); s13 = Avx512F.FusedMultiplyAdd(x, b3, s13);
            x = Vector512.Create(a2[p]);
            s20 = Avx512F.FusedMultiplyAdd(x, b0, s20); s21 = Avx512F.FusedMultiplyAdd(x, b1, s21); s22 = Avx512F.FusedMultiplyAdd(x, b2, s22); s23 = Avx512F.FusedMultiplyAdd(x, b3, s23);
            x = Vector512.Create(a3[p]);
            s30 = Avx512F.FusedMultiplyAdd(x, b0, s30); s31 = Avx512F.FusedMultiplyAdd(x, b1, s31); s32 = Avx512F.FusedMultiplyAdd(x, b2, s32); s33 = Avx512F.FusedMultiplyAdd(x, b3, s33);
        }
        if (bias != null)
        {
            var v = Vector512.Create(bias[r0]);
            s00 = Activate.Apply(s00 + v, activation); s01 = Activate.Apply(s01 + v, activation); s02 = Activate.Apply(s02 + v, activation); s03 = Activate.Apply(s03 + v, activation);
            v = Vector512.Create(bias[r1]);
            s10 = Activate.Apply(s10 + v, activation); s11 = Activate.Apply(s11 + v, activation); s12 = Activate.Apply(s12 + v, activation); s13 = Activate.Apply(s13 + v, activation);
            v = Vector512.Create(bias[r2]);
            s20 = Activate.Apply(s20 + v, activation); s21 = Activate.Apply(s21 + v, activation); s22 = Activate.Apply(s22 + v, activation); s23 = Activate.Apply(s23 + v, activation);
            v = Vector512.Create(bias[r3]);
            s30 = Activate.Apply(s30 + v, activation); s31 = Activate.Apply(s31 + v, activation); s32 = Activate.Apply(s32 + v, activation); s33 = Activate.Apply(s33 + v, activation);
        }
        s00.Store(c0); s01.Store(c0 + 16); Avx512F.MaskStore(c0 + 32, mask2, s02); Avx512F.MaskStore(c0 + 48, mask3, s03);
        s10.Store(c1); s11.Store(c1 + 16); Avx512F.MaskStore(c1 + 32, mask2, s12); Avx512F.MaskStore(c1 + 48, mask3, s13);
        s20.Store(c2); s21.Store(c2 + 16); Avx512F.MaskStore(c2 + 32, mask2, s22); Avx512F.MaskStore(c2 + 48, mask3, s23);
        s30.Store(c3); s31.Store(c3 + 16); Avx512F.MaskStore(c3 + 32, mask2, s32); Avx512F.MaskStore(c3 + 48, mask3, s33);
    }
}
