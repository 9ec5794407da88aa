namespace CnnGen.Kernels;

/// <summary>
/// The order of work that the SIMD kernels of <see cref="DirectWeightGradient.Accumulate"/> share
/// (<see cref="DirectWeightGradientAvx512"/>, <see cref="DirectWeightGradientAvx2"/>): blocks of a kernel's columns (kernel
/// taps <c>(c, ky, kx)</c>, each read through its offset in the padded image) are the outer loop, then chunks of
/// filters whose lane sums the kernel's stack buffer holds, then segments of at most <c>segmentFloats</c> positions of
/// the output gradient: whole images (small maps: as many as fit) or a run of one image's output rows. The kernel's
/// block call starts its sums from zero in a chunk's first segment and folds them into C after its last one, so every
/// output's lanes accumulate image after image and row after row whichever segments hold them.
/// </summary>
internal static unsafe class DirectWeightGradientBlocks
{
    /// <summary>The most columns a kernel's block may hold.</summary>
    private const int MostColumns = 8;

    /// <summary>
    /// Runs <paramref name="rowsAgainstColumns"/> over every block of <paramref name="columnBlock"/> columns, chunk of
    /// <paramref name="rowChunk"/> filters and segment. Its arguments: padded images and their stride, output gradients
    /// and their stride, C, filters, columns in all, positions per image, padded row length, output row length, the
    /// block's column offsets, the chunk's first filter and its filters, the block's first column and its columns, the
    /// segment's images <c>[first, end)</c> and output rows <c>[first, end)</c>, the lane sums' buffer, whether the sums
    /// start from zero, and whether they are folded into C.
    /// </summary>
    public static void Run(float* x, int xStride, float* a, int aStride, float* c, int m, int channels, int kernel,
        int ph, int pw, int oh, int ow, int count, int columnBlock, int rowChunk, int segmentFloats, void* lanes,
        delegate*<float*, int, float*, int, float*, int, int, int, int, int, int*, int, int, int, int, int, int, int, int, void*, bool, bool, void> rowsAgainstColumns)
    {
        int taps = kernel * kernel, n = channels * taps, positions = oh * ow;
        int* offsets = stackalloc int[MostColumns];
        int imagesPerSegment = Math.Max(1, segmentFloats / positions);
        int rowsPerSegment = positions <= segmentFloats ? oh : Math.Max(1, segmentFloats / ow);
        for (int j = 0; j < n; j += columnBlock)
        {
            // Columns past the last repeat it (their sums are computed and dropped).
            int columns = Math.Min(columnBlock, n - j);
            for (int q = 0; q < columnBlock; q++)
            {
                int column = j + Math.Min(q, columns - 1);
                int channel = column / taps, ky = column / kernel % kernel, kx = column % kernel;
                offsets[q] = (channel * ph + ky) * pw + kx;
            }
            for (int chunk = 0; chunk < m; chunk += rowChunk)
            {
                int rows = Math.Min(rowChunk, m - chunk);
                bool first = true;
                for (int s = 0; s < count; s += imagesPerSegment)
                {
                    int end = Math.Min(count, s + imagesPerSegment);
                    for (int r = 0; r < oh; r += rowsPerSegment)
                    {
                        int rEnd = Math.Min(oh, r + rowsPerSegment);
                        rowsAgainstColumns(x, xStride, a, aStride, c, m, n, positions, pw, ow, offsets, chunk, rows, j, columns,
                            s, end, r, rEnd, lanes, first, end == count && rEnd == oh);
                        first = false;
                    }
                }
            }
        }
    }
}
