using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CnnGen.Kernels;

/// <summary>
/// The kernel of <see cref="DirectWeightGradient.Accumulate"/> on machines with AVX2 and FMA but not AVX-512: 2 filters
/// (rows of the output gradient) against 3 columns (kernel taps <c>(c, ky, kx)</c>), each output's 16 lane sums held as
/// two 8-lane halves, twelve registers, with each column's chunk of 16 positions loaded from its padded image row
/// (<c>padded[c, oy + ky, ox + kx ..]</c>). Per chunk, each half takes 2 loads of the output gradient and 3 of the
/// image for 6 fused multiply-adds. The order of the work is <see cref="DirectWeightGradientBlocks"/>', as on AVX-512:
/// the columns are the outer loop, the output gradient's rows stream past a segment of at most <see
/// cref="SegmentFloats"/> positions at a time, and a block's lane sums wait in a buffer on the stack between segments.
/// Lane <c>l</c> of an output still accumulates the products at positions <c>l, l + 16, ...</c> of each row, image
/// after image and row after row, and the two halves are folded once as <see cref="Gemm.Dot"/> folds its 16 lanes: the
/// bits of the portable path.
/// </summary>
[SkipLocalsInit]
internal static unsafe class DirectWeightGradientAvx2
{
    /// <summary>Filters and columns in one register block.</summary>
    public const int RowBlock = 2, ColumnBlock = 3;

    /// <summary>Vectors of lane sums per block: two halves of each output.</summary>
    private const int BlockVectors = RowBlock * ColumnBlock * 2;

    /// <summary>Filters whose lane sums the stack buffer holds at once (24 blocks of 2).</summary>
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
        Vector256<float>* lanes = stackalloc Vector256<float>[RowChunk / RowBlock * BlockVectors];
        DirectWeightGradientBlocks.Run(x, xStride, a, aStride, c, m, channels, kernel, ph, pw, oh, ow, count, ColumnBlock, RowChunk,
            SegmentFloats, lanes, &RowsAgainstColumns);
    }

    /// <summary>Filters [chunk, chunk + rows) against columns [j, j + 3) over images [firstImage, endImage) and output
    /// rows [firstRow, endRow) of each, 2 x 3 outputs at a time; a filter past the last repeats it (its results are
    /// computed and dropped). The lane sums start from zero or from <paramref name="lanesBuffer"/>, and are either folded into
    /// C or left in <paramref name="lanesBuffer"/> for the next segment.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RowsAgainstColumns(float* x, int xStride, float* a, int aStride, float* c, int m, int n, int positions,
        int pw, int ow, int* offsets, int chunk, int rows, int j, int columns, int firstImage, int endImage, int firstRow, int endRow,
        void* lanesBuffer, bool startFromZero, bool fold)
    {
        var lanes = (Vector256<float>*)lanesBuffer;
        for (int i = chunk; i < chunk + rows; i += RowBlock, lanes += BlockVectors)
        {
            int a1 = Math.Min(1, m - i - 1) * positions;
            // l: lanes 0-7 of an output's sums, h: lanes 8-15; first digit the filter, second the column.
            Vector256<float> l00, l01, l02, l10, l11, l12, h00, h01, h02, h10, h11, h12;
            StartSums(lanes, startFromZero, out l00, out l01, out l02, out l10, out l11, out l12, out h00, out h01, out h02, out h10, out h11, out h12);
            for (int s = firstImage; s < endImage; s++)
            {
                float* dout0 = a + (long)s * aStride + (long)i * positions + (long)firstRow * ow;
                float* image = x + (long)s * xStride + (long)firstRow * pw;
                for (int oy = firstRow; oy < endRow; oy++, dout0 += ow, image += pw)
                {
                    float* dout1 = dout0 + a1;
                    float* y0p = image + offsets[0], y1p = image + offsets[1], y2p = image + offsets[2];
                    for (int p = 0; p < ow; p += 16)
                    {
                        Half(dout0 + p, dout1 + p, y0p + p, y1p + p, y2p + p, default, masked: false, ref l00, ref l01, ref l02, ref l10, ref l11, ref l12);
                        Half(dout0 + p + 8, dout1 + p + 8, y0p + p + 8, y1p + p + 8, y2p + p + 8, default, masked: false,
                            ref h00, ref h01, ref h02, ref h10, ref h11, ref h12);
                    }
                }
            }
            EndSums(lanes, fold, c + (long)i * n + j, n, columns, m - i > 1, l00, l01, l02, l10, l11, l12, h00, h01, h02, h10, h11, h12);
        }
    }

    // The 2 x 3 register block's steps, shared with WeightGradientAvx2: l holds lanes 0-7 of an output's sums, h lanes
    // 8-15; first digit the row of the block, second its column.

    /// <summary>A block's twelve sums: zeros, or the ones <see cref="EndSums"/> left in <paramref name="lanes"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void StartSums(Vector256<float>* lanes, bool fromZero, out Vector256<float> l00, out Vector256<float> l01, out Vector256<float> l02,
        out Vector256<float> l10, out Vector256<float> l11, out Vector256<float> l12, out Vector256<float> h00, out Vector256<float> h01,
        out Vector256<float> h02, out Vector256<float> h10, out Vector256<float> h11, out Vector256<float> h12)
    {
        if (fromZero)
        {
            l00 = l01 = l02 = l10 = l11 = l12 = Vector256<float>.Zero;
            h00 = h01 = h02 = h10 = h11 = h12 = Vector256<float>.Zero;
            return;
        }
        l00 = lanes[0]; l01 = lanes[1]; l02 = lanes[2]; l10 = lanes[3]; l11 = lanes[4]; l12 = lanes[5];
        h00 = lanes[6]; h01 = lanes[7]; h02 = lanes[8]; h10 = lanes[9]; h11 = lanes[10]; h12 = lanes[11];
    }

    /// <summary>Eight terms of a block's chunk of 16 (one half of every output's lanes): rows <paramref name="x0"/> and
    /// <paramref name="x1"/> against columns <paramref name="y0"/> to <paramref name="y2"/>, 2 + 3 loads for 6 fused
    /// multiply-adds; with <paramref name="masked"/>, every load under <paramref name="mask"/>, the missing terms zeros.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Half(float* x0, float* x1, float* y0, float* y1, float* y2, Vector256<float> mask, bool masked,
        ref Vector256<float> s00, ref Vector256<float> s01, ref Vector256<float> s02, ref Vector256<float> s10, ref Vector256<float> s11,
        ref Vector256<float> s12)
    {
        var a0 = Load(x0, mask, masked); var a1 = Load(x1, mask, masked);
        var y = Load(y0, mask, masked);
        s00 = Fma.MultiplyAdd(a0, y, s00); s10 = Fma.MultiplyAdd(a1, y, s10);
        y = Load(y1, mask, masked);
        s01 = Fma.MultiplyAdd(a0, y, s01); s11 = Fma.MultiplyAdd(a1, y, s11);
        y = Load(y2, mask, masked);
        s02 = Fma.MultiplyAdd(a0, y, s02); s12 = Fma.MultiplyAdd(a1, y, s12);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Load(float* p, Vector256<float> mask, bool masked) => masked ? Avx.MaskLoad(p, mask) : Avx.LoadVector256(p);

    /// <summary>A block's sums after its last terms of this call: left in <paramref name="lanes"/> for the next call
    /// unless <paramref name="fold"/>, else folded and added to the first <paramref name="columns"/> entries of C's row
    /// <paramref name="row"/> and, with <paramref name="secondRow"/>, of the row <paramref name="n"/> after it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void EndSums(Vector256<float>* lanes, bool fold, float* row, int n, int columns, bool secondRow,
        Vector256<float> l00, Vector256<float> l01, Vector256<float> l02, Vector256<float> l10, Vector256<float> l11, Vector256<float> l12,
        Vector256<float> h00, Vector256<float> h01, Vector256<float> h02, Vector256<float> h10, Vector256<float> h11, Vector256<float> h12)
    {
        if (!fold)
        {
            lanes[0] = l00; lanes[1] = l01; lanes[2] = l02; lanes[3] = l10; lanes[4] = l11; lanes[5] = l12;
            lanes[6] = h00; lanes[7] = h01; lanes[8] = h02; lanes[9] = h10; lanes[10] = h11; lanes[11] = h12;
            return;
        }
        AddRow(row, columns, l00, h00, l01, h01, l02, h02);
        if (secondRow) AddRow(row + n, columns, l10, h10, l11, h11, l12, h12);
    }

    /// <summary>Folds one row's sums for its first <paramref name="columns"/> columns and adds them to C's entries.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AddRow(float* c, int columns, Vector256<float> low0, Vector256<float> high0, Vector256<float> low1,
        Vector256<float> high1, Vector256<float> low2, Vector256<float> high2)
    {
        c[0] += Gemm.FoldLanes(low0, high0);
        if (columns > 1) c[1] += Gemm.FoldLanes(low1, high1);
        if (columns > 2) c[2] += Gemm.FoldLanes(low2, high2);
    }
}
