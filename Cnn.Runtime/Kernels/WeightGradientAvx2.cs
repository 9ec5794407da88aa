using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CnnGen.Kernels;

/// <summary>
/// The kernel of <see cref="Gemm.AccumulateTransposedB"/> (<c>C += sum_s A_s * B_s^T</c>, a convolution's weight
/// gradient <c>dY x col^T</c> over images) on machines with AVX2 and FMA but not AVX-512: 2 rows of A against 3 rows of
/// B, each output's 16 lane sums held as two 8-lane halves, twelve registers; per chunk of 16 terms each half takes 2
/// loads of A and 3 of B for 6 fused multiply-adds. The layout of the work is <see cref="WeightGradientAvx512"/>'s:
/// blocks of B's rows are the outer loop, so they stay in the first-level cache while A's rows pass; over many images
/// the images go in groups whose rows fit in the second-level cache, a block's lane sums waiting in a buffer on the
/// stack between groups. Each product's last chunk is loaded under a mask, its missing terms zeros, as
/// <see cref="Gemm.Dot"/> pads them. Every output's lanes accumulate image after image, chunk after chunk, and are
/// folded once as <see cref="Gemm.Dot"/> folds its 16 lanes: the bits of the portable path.
/// </summary>
[SkipLocalsInit]
internal static unsafe class WeightGradientAvx2
{
    private const int RowBlock = 2, ColumnBlock = 3;

    /// <summary>Vectors of lane sums per block: two halves of each output.</summary>
    private const int BlockVectors = RowBlock * ColumnBlock * 2;

    /// <summary>Rows of A whose lane sums the stack buffer holds at once (32 blocks of 2).</summary>
    private const int RowChunk = 64;

    /// <summary>Floats of A's and B's rows that one group of images may read (256 KiB).</summary>
    private const int GroupFloats = 64 * 1024;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Accumulate(float* a, int aStride, float* b, int bStride, float* c, int m, int n, int k, int count)
    {
        Vector256<float>* lanes = stackalloc Vector256<float>[RowChunk / RowBlock * BlockVectors];
        int tail = k & 15;
        // The last chunk's masks: its first k mod 16 terms, in the low half and in the high one.
        var index = Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7);
        var lowMask = Vector256.LessThan(index, Vector256.Create(tail)).AsSingle();
        var highMask = Vector256.LessThan(index, Vector256.Create(tail - 8)).AsSingle();
        for (int j = 0; j < n; j += ColumnBlock)
        {
            int columns = Math.Min(ColumnBlock, n - j);
            for (int chunk = 0; chunk < m; chunk += RowChunk)
            {
                int rows = Math.Min(RowChunk, m - chunk);
                int group = (int)Math.Clamp(GroupFloats / ((long)(rows + columns) * k), 1, count);
                for (int first = 0; first < count; first += group)
                {
                    int end = Math.Min(count, first + group);
                    RowsAgainstColumns(a, aStride, b, bStride, c, m, n, k, chunk, rows, j, columns, first, end, lowMask, highMask,
                        lanes, startFromZero: first == 0, fold: end == count);
                }
            }
        }
    }

    /// <summary>Rows [chunk, chunk + rows) of A against rows [j, j + columns) of B (at most 3) over images
    /// [firstImage, endImage), 2 x 3 outputs at a time; rows and columns past the matrix repeat the last one (their
    /// results are computed and dropped). The lane sums start from zero or from <paramref name="lanes"/>, and are either
    /// folded into C or left in <paramref name="lanes"/> for the next group of images.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RowsAgainstColumns(float* a, int aStride, float* b, int bStride, float* c, int m, int n, int k,
        int chunk, int rows, int j, int columns, int firstImage, int endImage, Vector256<float> lowMask, Vector256<float> highMask,
        Vector256<float>* lanes, bool startFromZero, bool fold)
    {
        int full = k & ~15;
        int b1 = Math.Min(1, columns - 1) * k, b2 = Math.Min(2, columns - 1) * k;
        for (int i = chunk; i < chunk + rows; i += RowBlock, lanes += BlockVectors)
        {
            int a1 = Math.Min(1, m - i - 1) * k;
            // l: lanes 0-7 of an output's sums, h: lanes 8-15; first digit the row of A, second the row of B.
            Vector256<float> l00, l01, l02, l10, l11, l12, h00, h01, h02, h10, h11, h12;
            DirectWeightGradientAvx2.StartSums(lanes, startFromZero, out l00, out l01, out l02, out l10, out l11, out l12, out h00, out h01, out h02, out h10, out h11, out h12);
            for (int s = firstImage; s < endImage; s++)
            {
                float* x0p = a + (long)s * aStride + (long)i * k, x1p = x0p + a1;
                float* y0p = b + (long)s * bStride + (long)j * k, y1p = y0p + b1, y2p = y0p + b2;
                for (int p = 0; p < full; p += 16)
                {
                    DirectWeightGradientAvx2.Half(x0p + p, x1p + p, y0p + p, y1p + p, y2p + p, default, masked: false,
                        ref l00, ref l01, ref l02, ref l10, ref l11, ref l12);
                    DirectWeightGradientAvx2.Half(x0p + p + 8, x1p + p + 8, y0p + p + 8, y1p + p + 8, y2p + p + 8, default, masked: false,
                        ref h00, ref h01, ref h02, ref h10, ref h11, ref h12);
                }
                if (full < k)
                {
                    // The last, partial chunk of 16 terms, the missing ones read as zeros (both halves, as the portable path
                    // multiplies and adds its zeros too).
                    int p = full;
                    DirectWeightGradientAvx2.Half(x0p + p, x1p + p, y0p + p, y1p + p, y2p + p, lowMask, masked: true,
                        ref l00, ref l01, ref l02, ref l10, ref l11, ref l12);
                    DirectWeightGradientAvx2.Half(x0p + p + 8, x1p + p + 8, y0p + p + 8, y1p + p + 8, y2p + p + 8, highMask, masked: true,
                        ref h00, ref h01, ref h02, ref h10, ref h11, ref h12);
                }
            }
            DirectWeightGradientAvx2.EndSums(lanes, fold, c + (long)i * n + j, n, columns, m - i > 1,
                l00, l01, l02, l10, l11, l12, h00, h01, h02, h10, h11, h12);
        }
    }
}
