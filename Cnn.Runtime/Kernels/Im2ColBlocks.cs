using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CnnGen.Kernels;

/// <summary>
/// A convolution as im2col and one matrix product, in blocks of output rows: a block's columns
/// (<see cref="Im2Col.PackRows"/>, <c>C*K*K x rows*outWidth</c> values) are laid out and at once multiplied into the
/// block's slice of every output channel (the product's rows a whole output plane apart), the bias and a fused activation
/// applied as the sums are stored. The block's columns are still in the second-level cache when the product reads them;
/// the whole image's (ResNet-18's 7x7 stem: 147 x 12,544 values, 7.4 MB) went out to memory and were read back.
/// Every output gets the chain of <see cref="Gemm.MultiplyBiasActivation"/> over the whole image's columns: the same bits.
/// </summary>
public static unsafe class Im2ColBlocks
{
    /// <summary>
    /// <c>output[F, OH*OW] = activation(weight[F, C*K*K] * im2col(input) + bias)</c> for one image, <paramref name="rowsPerBlock"/>
    /// output rows at a time. <paramref name="col"/> holds the whole image's columns (<c>C*K*K * OH*OW</c> values): without
    /// AVX-512 the portable path packs them all and runs one product.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Forward(ReadOnlySpan<float> input, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, Span<float> output, Span<float> col,
        int channels, int height, int width, int filters, int kernel, int stride, int padding, int outHeight, int outWidth,
        int rowsPerBlock, FusedActivation activation, int dilation = 1)
    {
        int k = channels * kernel * kernel, n = outHeight * outWidth;
        Check(nameof(Forward), rowsPerBlock, lanes: false, input, weight, bias, output, col.Length, (long)k * n, channels * height * width, filters, k, n);
        if (!(Avx512F.IsSupported && Vector512.IsHardwareAccelerated))
        {
            Im2Col.Pack(input, col, channels, height, width, kernel, stride, padding, outHeight, outWidth, dilation);
            Gemm.MultiplyBiasActivation(weight, col, output, bias, filters, n, k, activation);
            return;
        }
        Blocks(input, weight, bias, output, col, lanes: false, channels, height, width, filters, kernel, stride, padding, outHeight, outWidth,
            rowsPerBlock, activation, dilation, 0, (outHeight + rowsPerBlock - 1) / rowsPerBlock);
    }

    /// <summary>
    /// <see cref="Forward"/> with the filters in the vector lanes: each block's columns multiplied by
    /// <see cref="FilterLanes"/> from the weights laid out once (<paramref name="panels"/>, <see cref="FilterLanes.Layout"/>),
    /// 14 positions x 32 filters per step, none of a block's columns padded. Filters in whole panels of 32. The same bits
    /// as <see cref="Forward"/> (and as the whole image's columns and one product). Without AVX-512 it packs the whole
    /// image's columns into <paramref name="col"/> and runs <see cref="FilterLanes.Forward"/> once.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ForwardLanes(ReadOnlySpan<float> input, ReadOnlySpan<float> panels, ReadOnlySpan<float> bias, Span<float> output, Span<float> col,
        int channels, int height, int width, int filters, int kernel, int stride, int padding, int outHeight, int outWidth,
        int rowsPerBlock, FusedActivation activation, int dilation = 1)
    {
        int k = channels * kernel * kernel, n = outHeight * outWidth;
        Check(nameof(ForwardLanes), rowsPerBlock, lanes: true, input, panels, bias, output, col.Length, (long)k * n, channels * height * width, filters, k, n);
        if (!(Avx512F.IsSupported && Vector512.IsHardwareAccelerated))
        {
            Im2Col.Pack(input, col, channels, height, width, kernel, stride, padding, outHeight, outWidth, dilation);
            FilterLanes.Forward(panels, col, bias, output, filters, k, n, 0, filters, activation);
            return;
        }
        Blocks(input, panels, bias, output, col, lanes: true, channels, height, width, filters, kernel, stride, padding, outHeight, outWidth,
            rowsPerBlock, activation, dilation, 0, (outHeight + rowsPerBlock - 1) / rowsPerBlock);
    }

    /// <summary>
    /// Blocks <c>[firstBlock, endBlock)</c> of <paramref name="rowsPerBlock"/> output rows of <see cref="Forward"/> (or,
    /// with <paramref name="lanes"/>, of <see cref="ForwardLanes"/>, <paramref name="weight"/> then being the laid-out
    /// panels): one thread's share of an image split over threads. Each block's columns go to this thread's own scratch
    /// (grown once), so threads that share a workspace never share columns; nothing outside the blocks' output rows is
    /// written. The same bits as the whole image's product on every path.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ForwardBlocks(ReadOnlySpan<float> input, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, Span<float> output, bool lanes,
        int channels, int height, int width, int filters, int kernel, int stride, int padding, int outHeight, int outWidth,
        int rowsPerBlock, FusedActivation activation, int firstBlock, int endBlock, int dilation = 1)
    {
        int k = channels * kernel * kernel, n = outHeight * outWidth;
        Check(nameof(ForwardBlocks), rowsPerBlock, lanes, input, weight, bias, output, columnsGiven: 0, columnsNeeded: 0, channels * height * width, filters, k, n);
        int blocks = (outHeight + rowsPerBlock - 1) / rowsPerBlock;
        if (firstBlock < 0 || endBlock > blocks || firstBlock > endBlock)
            throw new ArgumentException($"Im2ColBlocks.ForwardBlocks: blocks [{firstBlock}, {endBlock}) are not within the {blocks} blocks.");
        long blockColumns = (long)k * rowsPerBlock * outWidth;
        var col = ThreadScratch.AtLeast(ref _threadColumns, blockColumns).AsSpan();
        if (Avx512F.IsSupported && Vector512.IsHardwareAccelerated)
        {
            Blocks(input, weight, bias, output, col, lanes, channels, height, width, filters, kernel, stride, padding, outHeight, outWidth,
                rowsPerBlock, activation, dilation, firstBlock, endBlock);
            return;
        }
        if (GemmAvx2.IsSupported)
        {
            fixed (float* pw = weight, pb = bias, py = output)
                ColumnsAvx2.Forward(input, channels, height, width, kernel, stride, padding, outHeight, outWidth, pw,
                    lanes ? ColumnsAvx2.Weights.Panels : ColumnsAvx2.Weights.Rows, pb, py, 0, filters, firstBlock * rowsPerBlock,
                    Math.Min(outHeight, endBlock * rowsPerBlock), activation, dilation);
            return;
        }
        // The portable chain of every path: one fused multiply-add per term from zero, then the bias, then the activation.
        for (int block = firstBlock; block < endBlock; block++)
        {
            int oy0 = block * rowsPerBlock, rows = Math.Min(rowsPerBlock, outHeight - oy0), columns = rows * outWidth;
            Im2Col.PackRows(input, col, channels, height, width, kernel, stride, padding, outWidth, oy0, rows, dilation);
            for (int f = 0; f < filters; f++)
                for (int j = 0; j < columns; j++)
                {
                    float acc = 0f;
                    for (int p = 0; p < k; p++)
                    {
                        float w = lanes ? weight[(f / FilterLanes.PanelFilters * k + p) * FilterLanes.PanelFilters + f % FilterLanes.PanelFilters] : weight[f * k + p];
                        acc = MathF.FusedMultiplyAdd(w, col[p * columns + j], acc);
                    }
                    output[f * n + oy0 * outWidth + j] = Activate.Apply(acc + bias[f], activation);
                }
        }
    }

    /// <summary>The checks of every entry point, named in their messages: a block of at least one row, filters in whole
    /// panels for the filter-lane product, and spans long enough (the columns only where the caller gives them).</summary>
    private static void Check(string method, int rowsPerBlock, bool lanes, ReadOnlySpan<float> input, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias,
        Span<float> output, long columnsGiven, long columnsNeeded, long inputLength, int filters, int k, int n)
    {
        if (rowsPerBlock < 1) throw new ArgumentOutOfRangeException(nameof(rowsPerBlock), rowsPerBlock, $"Im2ColBlocks.{method}: a block needs a row.");
        if (lanes && (filters <= 0 || filters % FilterLanes.PanelFilters != 0))
            throw new ArgumentException($"Im2ColBlocks.{method}: {filters} filters must be whole panels of {FilterLanes.PanelFilters}.");
        if (input.Length < inputLength || weight.Length < (long)filters * k || bias.Length < filters || output.Length < (long)filters * n
            || columnsGiven < columnsNeeded)
            throw new ArgumentException($"Im2ColBlocks.{method}: spans too short for the given shape.");
    }

    /// <summary>This thread's columns for <see cref="ForwardBlocks"/>.</summary>
    [ThreadStatic] private static float[]? _threadColumns;

    /// <summary>The AVX-512 block loop: each block's columns laid out in <paramref name="col"/>, then multiplied by the
    /// weights (or, with <paramref name="lanes"/>, the filter-lane panels) into the block's slice of every output channel.</summary>
    private static void Blocks(ReadOnlySpan<float> input, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, Span<float> output, Span<float> col, bool lanes,
        int channels, int height, int width, int filters, int kernel, int stride, int padding, int outHeight, int outWidth,
        int rowsPerBlock, FusedActivation activation, int dilation, int firstBlock, int endBlock)
    {
        int k = channels * kernel * kernel, n = outHeight * outWidth;
        fixed (float* pw = weight, pb = bias, py = output, pcol = col)
        {
            for (int block = firstBlock; block < endBlock; block++)
            {
                int oy0 = block * rowsPerBlock, rows = Math.Min(rowsPerBlock, outHeight - oy0), columns = rows * outWidth;
                Im2Col.PackRows(input, col, channels, height, width, kernel, stride, padding, outWidth, oy0, rows, dilation);
                if (lanes) FilterLanes.Run(pw, pcol, columns, pb, py + (long)oy0 * outWidth, n, k, columns, 0, filters, activation);
                else GemmAvx512.Multiply(pw, pcol, ldb: columns, py + (long)oy0 * outWidth, ldc: n, filters, columns, k,
                    rowStep: k, colStep: 1, accumulate: false, pb, activation);
            }
        }
    }
}
