using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CnnGen.Kernels;

/// <summary>
/// The AVX-512 kernel of <see cref="DirectWeightGradient.Accumulate"/>: <see cref="WideWeightGradientAvx512"/>'s block
/// of 3 filters (rows of the output gradient) against 8 columns (kernel taps <c>(c, ky, kx)</c>), twenty-four 16-lane
/// sums in registers, with each column's chunk of 16 positions loaded from its padded image row (<c>padded[c, oy + ky,
/// ox + kx ..]</c>) instead of from an im2col column. The 8 columns are the outer loop; their padded rows are a few KiB
/// per image and stay in the first-level cache while the output gradient's rows stream past, a segment of at most <see
/// cref="SegmentFloats"/> positions (whole images, or whole output rows of one image) at a time, the lane sums of a
/// block waiting in a buffer on the stack between segments (<see cref="DirectWeightGradientBlocks"/>). Every output's
/// lanes accumulate image after image, position after position, and are folded once: the bits of im2col + <see
/// cref="WideWeightGradientAvx512"/>.
/// </summary>
[SkipLocalsInit]
internal static unsafe class DirectWeightGradientAvx512
{
    /// <summary>Filters and columns in one register block.</summary>
    public const int RowBlock = 3, ColumnBlock = 8;

    /// <summary>Filters whose lane sums the stack buffer holds at once (16 blocks of 3).</summary>
    private const int RowChunk = 48;

    /// <summary>Positions of the output gradient's rows that one segment reads (a CIFAR map's 32 x 32 in one).</summary>
    private const int SegmentFloats = 1024;

    /// <summary>C[m, channels * kernel * kernel] += the weight gradient of <paramref name="count"/> images: padded images
    /// <paramref name="x"/> (<c>[channels, ph, pw]</c>, <paramref name="xStride"/> apart), output gradients
    /// <paramref name="a"/> (<c>[m, oh, ow]</c>, <paramref name="aStride"/> apart); <paramref name="ow"/> a multiple of 16.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Accumulate(float* x, int xStride, float* a, int aStride, float* c, int m, int channels, int kernel,
        int ph, int pw, int oh, int ow, int count)
    {
        Vector512<float>* lanes = stackalloc Vector512<float>[RowChunk * ColumnBlock];
        DirectWeightGradientBlocks.Run(x, xStride, a, aStride, c, m, channels, kernel, ph, pw, oh, ow, count, ColumnBlock, RowChunk,
            SegmentFloats, lanes, &RowsAgainstColumns);
    }

    /// <summary>Filters [chunk, chunk + rows) against columns [j, j + 8) over images [firstImage, endImage) and output
    /// rows [firstRow, endRow) of each, 3 x 8 outputs at a time; filters past the last repeat it (their results are
    /// computed and dropped). The lane sums start from zero or from <paramref name="lanesBuffer"/>, and are either folded into
    /// C or left in <paramref name="lanesBuffer"/> for the next segment.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RowsAgainstColumns(float* x, int xStride, float* a, int aStride, float* c, int m, int n, int positions,
        int pw, int ow, int* offsets, int chunk, int rows, int j, int columns, int firstImage, int endImage, int firstRow, int endRow,
        void* lanesBuffer, bool startFromZero, bool fold)
    {
        var lanes = (Vector512<float>*)lanesBuffer;
        for (int i = chunk; i < chunk + rows; i += RowBlock, lanes += RowBlock * ColumnBlock)
        {
            int a1 = Math.Min(1, m - i - 1) * positions, a2 = Math.Min(2, m - i - 1) * positions;
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
                float* x0p = a + (long)s * aStride + (long)i * positions + (long)firstRow * ow;
                float* image = x + (long)s * xStride + (long)firstRow * pw;
                if (ow == 16)
                {
                    // One chunk per row: the pointers set once per image, the rows one index into A and one into the image.
                    float* x1p = x0p + a1, x2p = x0p + a2;
                    float* y0p = image + offsets[0], y1p = image + offsets[1], y2p = image + offsets[2], y3p = image + offsets[3];
                    float* y4p = image + offsets[4], y5p = image + offsets[5], y6p = image + offsets[6], y7p = image + offsets[7];
                    int endP = (endRow - firstRow) * 16;
                    for (int p = 0, q = 0; p < endP; p += 16, q += pw)
                    {
                        var x0 = Vector512.Load(x0p + p); var x1 = Vector512.Load(x1p + p); var x2 = Vector512.Load(x2p + p);
                        var y0 = Vector512.Load(y0p + q);
                        s00 = Avx512F.FusedMultiplyAdd(x0, y0, s00); s10 = Avx512F.FusedMultiplyAdd(x1, y0, s10); s20 = Avx512F.FusedMultiplyAdd(x2, y0, s20);
                        var y1 = Vector512.Load(y1p + q);
                        s01 = Avx512F.FusedMultiplyAdd(x0, y1, s01); s11 = Avx512F.FusedMultiplyAdd(x1, y1, s11); s21 = Avx512F.FusedMultiplyAdd(x2, y1, s21);
                        var y2 = Vector512.Load(y2p + q);
                        s02 = Avx512F.FusedMultiplyAdd(x0, y2, s02); s12 = Avx512F.FusedMultiplyAdd(x1, y2, s12); s22 = Avx512F.FusedMultiplyAdd(x2, y2, s22);
                        var y3 = Vector512.Load(y3p + q);
                        s03 = Avx512F.FusedMultiplyAdd(x0, y3, s03); s13 = Avx512F.FusedMultiplyAdd(x1, y3, s13); s23 = Avx512F.FusedMultiplyAdd(x2, y3, s23);
                        var y4 = Vector512.Load(y4p + q);
                        s04 = Avx512F.FusedMultiplyAdd(x0, y4, s04); s14 = Avx512F.FusedMultiplyAdd(x1, y4, s14); s24 = Avx512F.FusedMultiplyAdd(x2, y4, s24);
                        var y5 = Vector512.Load(y5p + q);
                        s05 = Avx512F.FusedMultiplyAdd(x0, y5, s05); s15 = Avx512F.FusedMultiplyAdd(x1, y5, s15); s25 = Avx512F.FusedMultiplyAdd(x2, y5, s25);
                        var y6 = Vector512.Load(y6p + q);
                        s06 = Avx512F.FusedMultiplyAdd(x0, y6, s06); s16 = Avx512F.FusedMultiplyAdd(x1, y6, s16); s26 = Avx512F.FusedMultiplyAdd(x2, y6, s26);
                        var y7 = Vector512.Load(y7p + q);
                        s07 = Avx512F.FusedMultiplyAdd(x0, y7, s07); s17 = Avx512F.FusedMultiplyAdd(x1, y7, s17); s27 = Avx512F.FusedMultiplyAdd(x2, y7, s27);
                    }
                    continue;
                }
                for (int oy = firstRow; oy < endRow; oy++, x0p += ow, image += pw)
                {
                    // One pointer per row of A and per column, so each load in the loop is a pointer plus the position.
                    float* x1p = x0p + a1, x2p = x0p + a2;
                    float* y0p = image + offsets[0], y1p = image + offsets[1], y2p = image + offsets[2], y3p = image + offsets[3];
                    float* y4p = image + offsets[4], y5p = image + offsets[5], y6p = image + offsets[6], y7p = image + offsets[7];
                    for (int p = 0; p < ow; p += 16)
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
            WeightGradientAvx512.AddRow8(row, columns, s00, s01, s02, s03, s04, s05, s06, s07);
            if (valid > 1) WeightGradientAvx512.AddRow8(row + n, columns, s10, s11, s12, s13, s14, s15, s16, s17);
            if (valid > 2) WeightGradientAvx512.AddRow8(row + 2 * n, columns, s20, s21, s22, s23, s24, s25, s26, s27);
        }
    }
}
