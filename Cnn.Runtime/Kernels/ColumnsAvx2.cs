namespace CnnGen.Kernels;

/// <summary>
/// The convolutions' inference path on machines with AVX2 and FMA but not AVX-512: a block of output rows' im2col
/// columns (<see cref="Im2Col.PackRows"/>, about 256 positions, into the calling thread's scratch) multiplied at once
/// by <see cref="GemmAvx2"/> into the block's slice of every filter's plane, the bias and the activation applied as
/// the sums are stored. The direct kernels (<see cref="DirectConv"/>, <see cref="StrideTwoConv"/>,
/// <see cref="DirectFilterLanes"/>) document their chain as the one of im2col and <see cref="Gemm.MultiplyBiasActivation"/>:
/// one fused multiply-add per term in (c, ky, kx) order from zero, padding contributing <c>w * 0</c>, then the bias and
/// the activation. This is that chain, so it gives their bits.
/// </summary>
internal static unsafe class ColumnsAvx2
{
    /// <summary>Output positions per block of columns, rounded to whole output rows.</summary>
    private const int BlockPositions = 256;

    /// <summary>How a convolution's weights are laid out: rows of <c>C*K*K</c> (<c>[F, C*K*K]</c>), or
    /// <see cref="FilterLanes.Layout"/>'s panels of 32 filters.</summary>
    public enum Weights { Rows, Panels }

    /// <summary>This thread's block of columns.</summary>
    [ThreadStatic] private static float[]? t_columns;

    /// <summary>
    /// Filters <c>[firstFilter, endFilter)</c> (whole panels for <see cref="Weights.Panels"/>), output rows
    /// <c>[firstRow, endRow)</c>, of <c>output[F, OH, OW] = activation(conv(input) + bias)</c>; <paramref name="input"/> is
    /// <c>[C, H, W]</c>, read with <paramref name="padding"/> zeros around it (0 when the caller padded it already) and
    /// <paramref name="dilation"/> between a kernel's taps.
    /// </summary>
    public static void Forward(ReadOnlySpan<float> input, int channels, int height, int width, int kernel, int stride, int padding,
        int outHeight, int outWidth, float* weights, Weights layout, float* bias, float* output,
        int firstFilter, int endFilter, int firstRow, int endRow, FusedActivation activation, int dilation = 1)
    {
        if (endRow <= firstRow || endFilter <= firstFilter) return;
        int k = channels * kernel * kernel, plane = outHeight * outWidth;
        int rowsPerBlock = Math.Max(1, BlockPositions / outWidth);
        long length = (long)k * Math.Min(rowsPerBlock, endRow - firstRow) * outWidth;
        fixed (float* columns = ThreadScratch.AtLeast(ref t_columns, length))
        {
            var col = new Span<float>(columns, checked((int)length));
            for (int oy0 = firstRow; oy0 < endRow; oy0 += rowsPerBlock)
            {
                int rows = Math.Min(rowsPerBlock, endRow - oy0), positions = rows * outWidth;
                Im2Col.PackRows(input, col, channels, height, width, kernel, stride, padding, outWidth, oy0, rows, dilation);
                float* to = output + (long)oy0 * outWidth;
                if (layout == Weights.Rows)
                {
                    GemmAvx2.Multiply(weights + (long)firstFilter * k, columns, ldb: positions, to + (long)firstFilter * plane, ldc: plane,
                        endFilter - firstFilter, positions, k, rowStep: k, colStep: 1, accumulate: false, bias + firstFilter, activation);
                    continue;
                }
                GemmAvx2.MultiplyPanels(weights + (long)firstFilter * k, columns, ldb: positions, to + (long)firstFilter * plane, ldc: plane,
                    endFilter - firstFilter, positions, k, bias + firstFilter, activation);
            }
        }
    }
}
