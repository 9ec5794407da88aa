using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CnnGen.Kernels;

/// <summary>
/// The last few columns of a product (1 to <see cref="MaxColumns"/>, after the panels' blocks of 48), sixteen rows of A
/// in one vector: each 16 x 16 block of A is transposed (<see cref="Transpose16"/>, into a block on the stack) so that
/// lane <c>l</c> of a column's accumulator holds row <c>i + l</c>'s sum, and every term is one fused multiply-add by
/// B's value broadcast. Where a vector along the columns spends a multiply-add of 16 lanes per row and term on one to
/// eight values (a 7x7 map's 49th position, a 14x14 map's last 4 of 196), this spends the transpose, about a sixth of
/// a multiply-add per row and term, and a fraction of one. Each element of C gets one fused multiply-add per term in
/// index order, then its bias and activation: the bits of every other path.
/// </summary>
/// <remarks>The product with bias and ReLU6, one thread, A, B and C in cache, medians of 36 calls, two runs of each build
/// in turn (m x k x n, masked columns -> this path; the same bits): 960 x 160 x 49 97-102 -> 83-85 us, 320 x 960 x 49
/// 200-202 -> 166-167, 1280 x 320 x 49 263-267 -> 228-230, 512 x 4608 x 49 1,545-1,617 -> 1,445-1,449, 32 x 1152 x 49
/// 25-27 -> 19, 384 x 64 x 196 54-58 -> 49-50, 576 x 96 x 196 118-119 -> 111, 128 x 512 x 4 16.7-16.9 -> 7.6-8.0;
/// with 8 columns left (160 x 960 x 56) even, 94-95 against 93-98. The products that take the filter-lane kernel
/// (<see cref="FilterLanes"/>) were faster still there and keep it.</remarks>
[SkipLocalsInit]
internal static unsafe class ColumnTailAvx512
{
    /// <summary>The most columns this path takes: past eight, the accumulators of sixteen rows cost about what a masked
    /// vector of the columns costs.</summary>
    public const int MaxColumns = 8;

    /// <summary>Whether this path takes columns [<c>n - columns</c>, <c>n</c>): a whole vector of rows, a depth of a
    /// block or more, and A's rows read along (a forward product, not backward-data's transposed A).</summary>
    public static bool Suits(int m, int columns, int k, int colStep) =>
        m >= 16 && columns >= 1 && columns <= MaxColumns && k >= 16 && colStep == 1;

    /// <summary><c>C[:, 0 .. columns) (+)= A * B[:, 0 .. columns)</c>, B's rows <paramref name="ldb"/> floats apart and
    /// C's <paramref name="ldc"/>; element A(i, p) at <c>a[i * rowStep + p]</c>. A non-null <paramref name="bias"/>
    /// (one value per row) is added to the finished sums and <paramref name="activation"/> applied as they are stored.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Multiply(float* a, float* b, int ldb, float* c, int ldc, int m, int columns, int k, int rowStep, bool accumulate,
        float* bias, FusedActivation activation)
    {
        if (columns == 1) Rows<One>(a, b, ldb, c, ldc, m, columns, k, rowStep, accumulate, bias, activation);
        else if (columns == 2) Rows<Two>(a, b, ldb, c, ldc, m, columns, k, rowStep, accumulate, bias, activation);
        else if (columns <= 4) Rows<Four>(a, b, ldb, c, ldc, m, columns, k, rowStep, accumulate, bias, activation);
        else Rows<Eight>(a, b, ldb, c, ldc, m, columns, k, rowStep, accumulate, bias, activation);
    }

    /// <summary>Every group of 16 rows (the last one's rows past <paramref name="m"/> repeat its last row and are not
    /// stored) with <typeparamref name="TWidth"/> accumulators; those past <paramref name="columns"/> read the last
    /// column and are not stored either.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Rows<TWidth>(float* a, float* b, int ldb, float* c, int ldc, int m, int columns, int k, int rowStep, bool accumulate,
        float* bias, FusedActivation activation) where TWidth : struct, IWidth
    {
        float* block = stackalloc float[16 * 16];
        float* staged = stackalloc float[16 * 16];
        float* sums = stackalloc float[16 * 8];
        int o1 = Math.Min(1, columns - 1), o2 = Math.Min(2, columns - 1), o3 = Math.Min(3, columns - 1);
        int o4 = Math.Min(4, columns - 1), o5 = Math.Min(5, columns - 1), o6 = Math.Min(6, columns - 1), o7 = Math.Min(7, columns - 1);
        for (int i = 0; i < m; i += 16)
        {
            int rows = Math.Min(16, m - i);
            Vector512<float> s0, s1 = default, s2 = default, s3 = default, s4 = default, s5 = default, s6 = default, s7 = default;
            if (accumulate)
            {
                for (int l = 0; l < 16; l++)
                {
                    float* row = c + (long)(i + Math.Min(l, rows - 1)) * ldc;
                    for (int j = 0; j < TWidth.Count; j++) sums[j * 16 + l] = row[Math.Min(j, columns - 1)];
                }
                s0 = Vector512.Load(sums);
                if (TWidth.Count > 1) s1 = Vector512.Load(sums + 16);
                if (TWidth.Count > 2) { s2 = Vector512.Load(sums + 32); s3 = Vector512.Load(sums + 48); }
                if (TWidth.Count > 4)
                {
                    s4 = Vector512.Load(sums + 64); s5 = Vector512.Load(sums + 80);
                    s6 = Vector512.Load(sums + 96); s7 = Vector512.Load(sums + 112);
                }
            }
            else s0 = s1 = s2 = s3 = s4 = s5 = s6 = s7 = Vector512<float>.Zero;
            for (int p0 = 0; p0 < k; p0 += 16)
            {
                int depth = Math.Min(16, k - p0);
                float* first = a + (long)i * rowStep + p0;
                if (rows == 16 && depth == 16) Transpose16.Block(first, rowStep, block, 16);
                else
                {
                    // A short last group or the depth's last terms: the rows (the last one repeated) and terms there
                    // are, zeros after them, through a block of their own.
                    var mask = LaneMask.First(depth);
                    for (int l = 0; l < 16; l++)
                        Avx512F.MaskLoad(first + (long)Math.Min(l, rows - 1) * rowStep, mask, Vector512<float>.Zero).Store(staged + l * 16);
                    Transpose16.Block(staged, 16, block, 16);
                }
                float* bp = b + (long)p0 * ldb;
                for (int q = 0; q < depth; q++, bp += ldb)
                {
                    var x = Vector512.Load(block + q * 16);
                    s0 = Avx512F.FusedMultiplyAdd(x, Vector512.Create(bp[0]), s0);
                    if (TWidth.Count > 1) s1 = Avx512F.FusedMultiplyAdd(x, Vector512.Create(bp[o1]), s1);
                    if (TWidth.Count > 2)
                    {
                        s2 = Avx512F.FusedMultiplyAdd(x, Vector512.Create(bp[o2]), s2);
                        s3 = Avx512F.FusedMultiplyAdd(x, Vector512.Create(bp[o3]), s3);
                    }
                    if (TWidth.Count > 4)
                    {
                        s4 = Avx512F.FusedMultiplyAdd(x, Vector512.Create(bp[o4]), s4);
                        s5 = Avx512F.FusedMultiplyAdd(x, Vector512.Create(bp[o5]), s5);
                        s6 = Avx512F.FusedMultiplyAdd(x, Vector512.Create(bp[o6]), s6);
                        s7 = Avx512F.FusedMultiplyAdd(x, Vector512.Create(bp[o7]), s7);
                    }
                }
            }
            if (bias != null)
            {
                for (int l = 0; l < 16; l++) staged[l] = bias[i + Math.Min(l, rows - 1)];
                var rowBias = Vector512.Load(staged);
                s0 = Activate.Apply(s0 + rowBias, activation);
                s1 = Activate.Apply(s1 + rowBias, activation);
                s2 = Activate.Apply(s2 + rowBias, activation);
                s3 = Activate.Apply(s3 + rowBias, activation);
                s4 = Activate.Apply(s4 + rowBias, activation);
                s5 = Activate.Apply(s5 + rowBias, activation);
                s6 = Activate.Apply(s6 + rowBias, activation);
                s7 = Activate.Apply(s7 + rowBias, activation);
            }
            s0.Store(sums); s1.Store(sums + 16); s2.Store(sums + 32); s3.Store(sums + 48);
            s4.Store(sums + 64); s5.Store(sums + 80); s6.Store(sums + 96); s7.Store(sums + 112);
            for (int l = 0; l < rows; l++)
            {
                float* row = c + (long)(i + l) * ldc;
                for (int j = 0; j < columns; j++) row[j] = sums[j * 16 + l];
            }
        }
    }

    /// <summary>Accumulators per group of rows, a constant of each compiled copy.</summary>
    private interface IWidth
    {
        static abstract int Count { get; }
    }

    private struct One : IWidth { public static int Count => 1; }
    private struct Two : IWidth { public static int Count => 2; }
    private struct Four : IWidth { public static int Count => 4; }
    private struct Eight : IWidth { public static int Count => 8; }
}
