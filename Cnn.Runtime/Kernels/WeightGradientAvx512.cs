using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CnnGen.Kernels;

/// <summary>
/// The AVX-512 kernel of <see cref="Gemm.AccumulateTransposedB"/> (<c>C += sum_s A_s * B_s^T</c>, a convolution's
/// weight gradient <c>dY x col^T</c> over images): 4 rows of A against 4 rows of B, sixteen 16-lane sums held in
/// registers, 8 loads per 16 fused multiply-adds. Blocks of 4 rows of B are the outer loop, so those rows stay in the
/// first-level cache while every row of A passes by. Over many images the images go in groups whose rows fit in the
/// second-level cache; between groups a block's lane sums wait in a small buffer on the stack. Every output's lanes
/// still accumulate image after image, position after position, and are folded once: the bits of
/// <see cref="Gemm.Dot"/>'s order. Whole blocks of 8 rows of B go to <see cref="WideWeightGradientAvx512"/> (3 rows
/// of A against 8, the same order and bits); this kernel takes the rows of B after the last whole block of 8.
/// </summary>
[SkipLocalsInit]
internal static unsafe class WeightGradientAvx512
{
    private const int RowBlock = 4, ColumnBlock = 4;
    /// <summary>Rows of A whose lane sums the stack buffer holds at once.</summary>
    private const int RowChunk = 64;
    /// <summary>Floats of A's and B's rows that one group of images may read (256 KiB).</summary>
    private const int GroupFloats = 64 * 1024;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Accumulate(float* a, int aStride, float* b, int bStride, float* c, int m, int n, int k, int count)
    {
        int wide = n - n % WideWeightGradientAvx512.ColumnBlock;
        if (wide > 0) WideWeightGradientAvx512.Accumulate(a, aStride, b, bStride, c, m, n, k, count, wide);
        if (wide == n) return;
        var mask = LaneMask.Tail(k);
        Vector512<float>* lanes = stackalloc Vector512<float>[RowChunk * ColumnBlock];
        for (int j = wide; j < n; j += ColumnBlock)
        {
            int columns = Math.Min(ColumnBlock, n - j);
            for (int chunk = 0; chunk < m; chunk += RowChunk)
            {
                int rows = Math.Min(RowChunk, m - chunk);
                int group = (int)Math.Clamp(GroupFloats / ((long)(rows + columns) * k), 1, count);
                for (int first = 0; first < count; first += group)
                {
                    int end = Math.Min(count, first + group);
                    RowsAgainstColumns(a, aStride, b, bStride, c, m, n, k, chunk, rows, j, columns, first, end, mask, lanes,
                        startFromZero: first == 0, fold: end == count);
                }
            }
        }
    }

    /// <summary>Rows [chunk, chunk + rows) of A against rows [j, j + columns) of B (at most 4) over images
    /// [firstImage, endImage), 4 x 4 outputs at a time; rows and columns past the matrix repeat the last one (their
    /// results are computed and dropped). The lane sums start from zero or from <paramref name="lanes"/>, and are
    /// either folded into C or left in <paramref name="lanes"/> for the next group of images. Compiled fully optimised
    /// from its first call rather than tiered up later.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RowsAgainstColumns(float* a, int aStride, float* b, int bStride, float* c, int m, int n, int k,
        int chunk, int rows, int j, int columns, int firstImage, int endImage, Vector512<float> mask, Vector512<float>* lanes,
        bool startFromZero, bool fold)
    {
        int full = k & ~15;
        int b1 = Math.Min(1, columns - 1) * k, b2 = Math.Min(2, columns - 1) * k, b3 = Math.Min(3, columns - 1) * k;
        for (int i = chunk; i < chunk + rows; i += RowBlock, lanes += RowBlock * ColumnBlock)
        {
            int a1 = Math.Min(1, m - i - 1) * k, a2 = Math.Min(2, m - i - 1) * k, a3 = Math.Min(3, m - i - 1) * k;
            Vector512<float> s00, s01, s02, s03, s10, s11, s12, s13, s20, s21, s22, s23, s30, s31, s32, s33;
            if (startFromZero)
                s00 = s01 = s02 = s03 = s10 = s11 = s12 = s13 = s20 = s21 = s22 = s23 = s30 = s31 = s32 = s33 = Vector512<float>.Zero;
            else
            {
                s00 = lanes[0]; s01 = lanes[1]; s02 = lanes[2]; s03 = lanes[3];
                s10 = lanes[4]; s11 = lanes[5]; s12 = lanes[6]; s13 = lanes[7];
                s20 = lanes[8]; s21 = lanes[9]; s22 = lanes[10]; s23 = lanes[11];
                s30 = lanes[12]; s31 = lanes[13]; s32 = lanes[14]; s33 = lanes[15];
            }
            for (int s = firstImage; s < endImage; s++)
            {
                float* x = a + (long)s * aStride + (long)i * k;
                float* y = b + (long)s * bStride + (long)j * k;
                for (int p = 0; p < full; p += 16)
                {
                    var x0 = Vector512.Load(x + p); var x1 = Vector512.Load(x + a1 + p);
                    var x2 = Vector512.Load(x + a2 + p); var x3 = Vector512.Load(x + a3 + p);
                    var y0 = Vector512.Load(y + p);
                    s00 = Avx512F.FusedMultiplyAdd(x0, y0, s00); s10 = Avx512F.FusedMultiplyAdd(x1, y0, s10);
                    s20 = Avx512F.FusedMultiplyAdd(x2, y0, s20); s30 = Avx512F.FusedMultiplyAdd(x3, y0, s30);
                    var y1 = Vector512.Load(y + b1 + p);
                    s01 = Avx512F.FusedMultiplyAdd(x0, y1, s01); s11 = Avx512F.FusedMultiplyAdd(x1, y1, s11);
                    s21 = Avx512F.FusedMultiplyAdd(x2, y1, s21); s31 = Avx512F.FusedMultiplyAdd(x3, y1, s31);
                    var y2 = Vector512.Load(y + b2 + p);
                    s02 = Avx512F.FusedMultiplyAdd(x0, y2, s02); s12 = Avx512F.FusedMultiplyAdd(x1, y2, s12);
                    s22 = Avx512F.FusedMultiplyAdd(x2, y2, s22); s32 = Avx512F.FusedMultiplyAdd(x3, y2, s32);
                    var y3 = Vector512.Load(y + b3 + p);
                    s03 = Avx512F.FusedMultiplyAdd(x0, y3, s03); s13 = Avx512F.FusedMultiplyAdd(x1, y3, s13);
                    s23 = Avx512F.FusedMultiplyAdd(x2, y3, s23); s33 = Avx512F.FusedMultiplyAdd(x3, y3, s33);
                }
                if (full < k)
                {
                    // The last, partial chunk of 16 positions, the missing lanes read as zeros.
                    var z = Vector512<float>.Zero;
                    var x0 = Avx512F.MaskLoad(x + full, mask, z); var x1 = Avx512F.MaskLoad(x + a1 + full, mask, z);
                    var x2 = Avx512F.MaskLoad(x + a2 + full, mask, z); var x3 = Avx512F.MaskLoad(x + a3 + full, mask, z);
                    var y0 = Avx512F.MaskLoad(y + full, mask, z);
                    s00 = Avx512F.FusedMultiplyAdd(x0, y0, s00); s10 = Avx512F.FusedMultiplyAdd(x1, y0, s10);
                    s20 = Avx512F.FusedMultiplyAdd(x2, y0, s20); s30 = Avx512F.FusedMultiplyAdd(x3, y0, s30);
                    var y1 = Avx512F.MaskLoad(y + b1 + full, mask, z);
                    s01 = Avx512F.FusedMultiplyAdd(x0, y1, s01); s11 = Avx512F.FusedMultiplyAdd(x1, y1, s11);
                    s21 = Avx512F.FusedMultiplyAdd(x2, y1, s21); s31 = Avx512F.FusedMultiplyAdd(x3, y1, s31);
                    var y2 = Avx512F.MaskLoad(y + b2 + full, mask, z);
                    s02 = Avx512F.FusedMultiplyAdd(x0, y2, s02); s12 = Avx512F.FusedMultiplyAdd(x1, y2, s12);
                    s22 = Avx512F.FusedMultiplyAdd(x2, y2, s22); s32 = Avx512F.FusedMultiplyAdd(x3, y2, s32);
                    var y3 = Avx512F.MaskLoad(y + b3 + full, mask, z);
                    s03 = Avx512F.FusedMultiplyAdd(x0, y3, s03); s13 = Avx512F.FusedMultiplyAdd(x1, y3, s13);
                    s23 = Avx512F.FusedMultiplyAdd(x2, y3, s23); s33 = Avx512F.FusedMultiplyAdd(x3, y3, s33);
                }
            }
            if (!fold)
            {
                lanes[0] = s00; lanes[1] = s01; lanes[2] = s02; lanes[3] = s03;
                lanes[4] = s10; lanes[5] = s11; lanes[6] = s12; lanes[7] = s13;
                lanes[8] = s20; lanes[9] = s21; lanes[10] = s22; lanes[11] = s23;
                lanes[12] = s30; lanes[13] = s31; lanes[14] = s32; lanes[15] = s33;
                continue;
            }
            float* row = c + (long)i * n + j;
            int valid = m - i;
            AddRow(row, columns, s00, s01, s02, s03);
            if (valid > 1) AddRow(row + n, columns, s10, s11, s12, s13);
            if (valid > 2) AddRow(row + 2 * n, columns, s20, s21, s22, s23);
            if (valid > 3) AddRow(row + 3 * n, columns, s30, s31, s32, s33);
        }
    }

    /// <summary>Folds one row's lane sums and adds them to C's first <paramref name="columns"/> entries of that row.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AddRow(float* c, int columns, Vector512<float> l0, Vector512<float> l1, Vector512<float> l2, Vector512<float> l3)
    {
        if (columns == ColumnBlock)
        {
            (Vector128.Load(c) + Fold4(l0, l1, l2, l3)).Store(c);
            return;
        }
        c[0] += Fold(l0);
        if (columns > 1) c[1] += Fold(l1);
        if (columns > 2) c[2] += Fold(l2);
        if (columns > 3) c[3] += Fold(l3);
    }

    /// <summary>Folds one row's 8 lane sums (<see cref="Fold4"/>, four at a time: each the fold of <see cref="Gemm.Dot"/>)
    /// and adds the first <paramref name="columns"/> of them to C's entries of that row: the 3 x 8 blocks of
    /// <see cref="WideWeightGradientAvx512"/> and <see cref="DirectWeightGradientAvx512"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void AddRow8(float* c, int columns, Vector512<float> l0, Vector512<float> l1, Vector512<float> l2, Vector512<float> l3,
        Vector512<float> l4, Vector512<float> l5, Vector512<float> l6, Vector512<float> l7)
    {
        var low = Fold4(l0, l1, l2, l3);
        var high = Fold4(l4, l5, l6, l7);
        if (columns == 8)
        {
            (Vector128.Load(c) + low).Store(c);
            (Vector128.Load(c + 4) + high).Store(c + 4);
            return;
        }
        for (int q = 0; q < columns; q++) c[q] += q < 4 ? low.GetElement(q) : high.GetElement(q - 4);
    }

    /// <summary>
    /// <see cref="Fold"/> of four lane sums at once, every step the same additions: the 256-bit halves of two sums
    /// side by side added (lanes l + (l+8)), then the 128-bit halves of four (l + (l+4)), then within each 128-bit
    /// block lanes 0 + 2 and 1 + 3, and their sum. Addition commutes exactly, so the order of the operands in a
    /// lane does not change the bits.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector128<float> Fold4(Vector512<float> l0, Vector512<float> l1, Vector512<float> l2, Vector512<float> l3)
    {
        const byte LowHalves = 0b01_00_01_00, HighHalves = 0b11_10_11_10, EvenQuarters = 0b10_00_10_00, OddQuarters = 0b11_01_11_01;
        var v01 = Avx512F.Shuffle4x128(l0, l1, LowHalves) + Avx512F.Shuffle4x128(l0, l1, HighHalves);
        var v23 = Avx512F.Shuffle4x128(l2, l3, LowHalves) + Avx512F.Shuffle4x128(l2, l3, HighHalves);
        var v4 = Avx512F.Shuffle4x128(v01, v23, EvenQuarters) + Avx512F.Shuffle4x128(v01, v23, OddQuarters);
        var pairs = v4 + Avx512F.Permute4x32(v4, 0b01_00_11_10);       // [0+2, 1+3, 2+0, 3+1] in each block
        var sums = pairs + Avx512F.Permute4x32(pairs, 0b10_11_00_01);  // [(0+2)+(1+3), ...] in each block
        return Vector512.Shuffle(sums, Vector512.Create(0, 4, 8, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)).GetLower().GetLower();
    }

    /// <summary>The fold of <see cref="Gemm.Dot"/>: lanes l and l+8, then l and l+4, then (0 + 2) + (1 + 3).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Fold(Vector512<float> lanes)
    {
        var v8 = lanes.GetLower() + lanes.GetUpper();
        var v4 = v8.GetLower() + v8.GetUpper();
        return (v4.GetElement(0) + v4.GetElement(2)) + (v4.GetElement(1) + v4.GetElement(3));
    }
}
