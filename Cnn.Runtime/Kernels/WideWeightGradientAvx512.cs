using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CnnGen.Kernels;

/// <summary>
/// The AVX-512 kernel of <see cref="Gemm.AccumulateTransposedB"/> for whole blocks of 8 rows of B (a convolution's
/// weight gradient <c>dY x col^T</c>, B being the columns): 3 rows of A against 8 rows of B, twenty-four 16-lane sums
/// in registers, 11 loads per 24 fused multiply-adds. The 8 rows of B are the outer loop and are read a segment of
/// at most <see cref="SegmentFloats"/> positions at a time (32 KiB), so they stay in the first-level cache while every
/// row of A streams past from the second-level cache: 3 lines from there per 24 multiply-adds, where 4 rows against 4
/// read 4 per 16 and ran at a third of the core's peak. Between segments a block's lane sums wait in a buffer on the
/// stack. Every output's lanes still accumulate image after image, position after position, and are folded once:
/// the bits of <see cref="Gemm.Dot"/>'s order, the same as <see cref="WeightGradientAvx512"/>'s.
/// </summary>
[SkipLocalsInit]
internal static unsafe class WideWeightGradientAvx512
{
    /// <summary>Rows of A and of B in one register block.</summary>
    public const int RowBlock = 3, ColumnBlock = 8;

    /// <summary>Rows of A whose lane sums the stack buffer holds at once (16 blocks of 3).</summary>
    private const int RowChunk = 48;

    /// <summary>Positions of each row of B that one segment reads: 8 rows of 1024 floats are 32 KiB of the 48 KiB
    /// first-level cache (a CIFAR map's 32 x 32 positions in one segment; 512 measured slower there).</summary>
    private const int SegmentFloats = 1024;

    /// <summary>C[m, columns) += sum over images of A x B^T for the first <paramref name="columns"/> rows of B, a
    /// multiple of <see cref="ColumnBlock"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Accumulate(float* a, int aStride, float* b, int bStride, float* c, int m, int n, int k, int count, int columns)
    {
        var mask = LaneMask.Tail(k);
        Vector512<float>* lanes = stackalloc Vector512<float>[RowChunk * ColumnBlock];
        // A segment is either whole images (short rows: as many as fit) or a run of one image's positions, whole
        // chunks of 16, so the accumulation order of every output is unchanged.
        int imagesPerSegment = Math.Max(1, SegmentFloats / k);
        int positionsPerSegment = k <= SegmentFloats ? k : SegmentFloats;
        for (int j = 0; j < columns; j += ColumnBlock)
        {
            for (int chunk = 0; chunk < m; chunk += RowChunk)
            {
                int rows = Math.Min(RowChunk, m - chunk);
                bool first = true;
                for (int s = 0; s < count; s += imagesPerSegment)
                {
                    int end = Math.Min(count, s + imagesPerSegment);
                    for (int p = 0; p < k; p += positionsPerSegment)
                    {
                        int pEnd = Math.Min(k, p + positionsPerSegment);
                        RowsAgainstColumns(a, aStride, b, bStride, c, m, n, k, chunk, rows, j, s, end, p, pEnd, mask, lanes,
                            startFromZero: first, fold: end == count && pEnd == k);
                        first = false;
                    }
                }
            }
        }
    }

    /// <summary>Rows [chunk, chunk + rows) of A against rows [j, j + 8) of B over images [firstImage, endImage) and
    /// positions [start, end) of each, 3 x 8 outputs at a time; rows past A's last repeat it (their results are
    /// computed and dropped). The lane sums start from zero or from <paramref name="lanes"/>, and are either folded
    /// into C or left in <paramref name="lanes"/> for the next segment. Compiled fully optimised from its first call.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RowsAgainstColumns(float* a, int aStride, float* b, int bStride, float* c, int m, int n, int k,
        int chunk, int rows, int j, int firstImage, int endImage, int start, int end, Vector512<float> mask, Vector512<float>* lanes,
        bool startFromZero, bool fold)
    {
        // Whole chunks of 16 positions; the image's last, partial chunk (only in a segment that ends the row) is masked.
        int full = end == k ? k & ~15 : end;
        bool tail = full < end;
        for (int i = chunk; i < chunk + rows; i += RowBlock, lanes += RowBlock * ColumnBlock)
        {
            int a1 = Math.Min(1, m - i - 1) * k, a2 = Math.Min(2, m - i - 1) * k;
            Vector512<float> s00, s01, s02, s03, s04, s05, s06, s07;
            Vector512<float> s10, s11, s12, s13, s14, s15, s16, s17;
            Vector512<float> s20, s21, s22, s23, s24, s25, s26, s27;
            if (startFromZero)
            {
                s00 = s01 = s02 = s03 = s04 = s05 = s06 = s07 = Vector512<float>.Zero;
                s10 = s11 = s12 = s13 = s14 = s15 = s16 = s17 = Vector512<float>.Zero;
                s20 = s21 = s22 = s23 = s24 = s25 = s26 = s27 = Vector512<float>.Zero;
            }
            else
            {
                s00 = lanes[0]; s01 = lanes[1]; s02 = lanes[2]; s03 = lanes[3]; s04 = lanes[4]; s05 = lanes[5]; s06 = lanes[6]; s07 = lanes[7];
                s10 = lanes[8]; s11 = lanes[9]; s12 = lanes[10]; s13 = lanes[11]; s14 = lanes[12]; s15 = lanes[13]; s16 = lanes[14]; s17 = lanes[15];
                s20 = lanes[16]; s21 = lanes[17]; s22 = lanes[18]; s23 = lanes[19]; s24 = lanes[20]; s25 = lanes[21]; s26 = lanes[22]; s27 = lanes[23];
            }
            for (int s = firstImage; s < endImage; s++)
            {
                // One pointer per row, so each load in the loop is a pointer plus the position.
                float* x0p = a + (long)s * aStride + (long)i * k, x1p = x0p + a1, x2p = x0p + a2;
                float* y0p = b + (long)s * bStride + (long)j * k, y1p = y0p + k, y2p = y1p + k, y3p = y2p + k;
                float* y4p = y3p + k, y5p = y4p + k, y6p = y5p + k, y7p = y6p + k;
                for (int p = start; p < full; p += 16)
                {
                    var x0 = Vector512.Load(x0p + p); var x1 = Vector512.Load(x1p + p); var x2 = Vector512.Load(x2p + p);
                    var y0 = Vector512.Load(y0p + p);
                    s00 = Avx512F.FusedMultiplyAdd(x0, y0, s00); s10 = Avx512F.FusedMultiplyAdd(x1, y0, s10); s20 = Avx512F.FusedMultiplyAdd(x2, y0, s20);
                    var y1 = Vector512.Load(y1p + p);
                    s01 = Avx512F.FusedMultiplyAdd(x0, y1, s01); s11 = Avx512F.FusedMultiplyAdd(x1, y1, s11); s21 = Avx512F.FusedMultiplyAdd(x2, y1, s21);
                    var y2 = Vector512.Load(y2p + p);
                    s02 = Avx512F.FusedMultiplyAdd(x0, y2, s02); s12 = Avx512F.FusedMultiplyAdd(x1, y2, s12); s22 = Avx512F.FusedMultiplyAdd(x2, y2, s22);
                    var y3 = Vector512.Load(y3p + p);
                    s03 = Avx512F.FusedMultiplyAdd(x0, y3, s03); s13 = Avx512F.FusedMultiplyAdd(x1, y3, s13); s23 = Avx512F.FusedMultiplyAdd(x2, y3, s23);
                    var y4 = Vector512.Load(y4p + p);
                    s04 = Avx512F.FusedMultiplyAdd(x0, y4, s04); s14 = Avx512F.FusedMultiplyAdd(x1, y4, s14); s24 = Avx512F.FusedMultiplyAdd(x2, y4, s24);
                    var y5 = Vector512.Load(y5p + p);
                    s05 = Avx512F.FusedMultiplyAdd(x0, y5, s05); s15 = Avx512F.FusedMultiplyAdd(x1, y5, s15); s25 = Avx512F.FusedMultiplyAdd(x2, y5, s25);
                    var y6 = Vector512.Load(y6p + p);
                    s06 = Avx512F.FusedMultiplyAdd(x0, y6, s06); s16 = Avx512F.FusedMultiplyAdd(x1, y6, s16); s26 = Avx512F.FusedMultiplyAdd(x2, y6, s26);
                    var y7 = Vector512.Load(y7p + p);
                    s07 = Avx512F.FusedMultiplyAdd(x0, y7, s07); s17 = Avx512F.FusedMultiplyAdd(x1, y7, s17); s27 = Avx512F.FusedMultiplyAdd(x2, y7, s27);
                }
                if (tail)
                {
                    // The image's last, partial chunk of 16 positions, the missing lanes read as zeros.
                    int p = full;
                    var z = Vector512<float>.Zero;
                    var x0 = Avx512F.MaskLoad(x0p + p, mask, z); var x1 = Avx512F.MaskLoad(x1p + p, mask, z); var x2 = Avx512F.MaskLoad(x2p + p, mask, z);
                    var y0 = Avx512F.MaskLoad(y0p + p, mask, z);
                    s00 = Avx512F.FusedMultiplyAdd(x0, y0, s00); s10 = Avx512F.FusedMultiplyAdd(x1, y0, s10); s20 = Avx512F.FusedMultiplyAdd(x2, y0, s20);
                    var y1 = Avx512F.MaskLoad(y1p + p, mask, z);
                    s01 = Avx512F.FusedMultiplyAdd(x0, y1, s01); s11 = Avx512F.FusedMultiplyAdd(x1, y1, s11); s21 = Avx512F.FusedMultiplyAdd(x2, y1, s21);
                    var y2 = Avx512F.MaskLoad(y2p + p, mask, z);
                    s02 = Avx512F.FusedMultiplyAdd(x0, y2, s02); s12 = Avx512F.FusedMultiplyAdd(x1, y2, s12); s22 = Avx512F.FusedMultiplyAdd(x2, y2, s22);
                    var y3 = Avx512F.MaskLoad(y3p + p, mask, z);
                    s03 = Avx512F.FusedMultiplyAdd(x0, y3, s03); s13 = Avx512F.FusedMultiplyAdd(x1, y3, s13); s23 = Avx512F.FusedMultiplyAdd(x2, y3, s23);
                    var y4 = Avx512F.MaskLoad(y4p + p, mask, z);
                    s04 = Avx512F.FusedMultiplyAdd(x0, y4, s04); s14 = Avx512F.FusedMultiplyAdd(x1, y4, s14); s24 = Avx512F.FusedMultiplyAdd(x2, y4, s24);
                    var y5 = Avx512F.MaskLoad(y5p + p, mask, z);
                    s05 = Avx512F.FusedMultiplyAdd(x0, y5, s05); s15 = Avx512F.FusedMultiplyAdd(x1, y5, s15); s25 = Avx512F.FusedMultiplyAdd(x2, y5, s25);
                    var y6 = Avx512F.MaskLoad(y6p + p, mask, z);
                    s06 = Avx512F.FusedMultiplyAdd(x0, y6, s06); s16 = Avx512F.FusedMultiplyAdd(x1, y6, s16); s26 = Avx512F.FusedMultiplyAdd(x2, y6, s26);
                    var y7 = Avx512F.MaskLoad(y7p + p, mask, z);
                    s07 = Avx512F.FusedMultiplyAdd(x0, y7, s07); s17 = Avx512F.FusedMultiplyAdd(x1, y7, s17); s27 = Avx512F.FusedMultiplyAdd(x2, y7, s27);
                }
            }
            if (!fold)
            {
                lanes[0] = s00; lanes[1] = s01; lanes[2] = s02; lanes[3] = s03; lanes[4] = s04; lanes[5] = s05; lanes[6] = s06; lanes[7] = s07;
                lanes[8] = s10; lanes[9] = s11; lanes[10] = s12; lanes[11] = s13; lanes[12] = s14; lanes[13] = s15; lanes[14] = s16; lanes[15] = s17;
                lanes[16] = s20; lanes[17] = s21; lanes[18] = s22; lanes[19] = s23; lanes[20] = s24; lanes[21] = s25; lanes[22] = s26; lanes[23] = s27;
                continue;
            }
            float* row = c + (long)i * n + j;
            int valid = m - i;
            WeightGradientAvx512.AddRow8(row, ColumnBlock, s00, s01, s02, s03, s04, s05, s06, s07);
            if (valid > 1) WeightGradientAvx512.AddRow8(row + n, ColumnBlock, s10, s11, s12, s13, s14, s15, s16, s17);
            if (valid > 2) WeightGradientAvx512.AddRow8(row + 2 * n, ColumnBlock, s20, s21, s22, s23, s24, s25, s26, s27);
        }
    }
}
