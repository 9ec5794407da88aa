using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CnnGen.Kernels;

/// <summary>
/// Winograd F(4x4, 3x3) convolution for inference: 3x3 kernel, stride 1, dilation 1, one group, any padding, NCHW in
/// and out, bias and an optional fused ReLU applied as the output is stored. Each 4x4 block of outputs (a tile) is
/// computed from a 6x6 block of input with 36 products per channel and filter instead of 144:
/// <c>Y = A^T [sum over c of (G g G^T) .* (B^T d B)] A</c> (<see cref="WinogradTransforms"/>).
/// <para>The tiles of all images of a call form one matrix, so small maps still make tall products. <see cref="Forward"/>
/// copies the images channel-last with zero padding, then, a cache-sized block of tiles at a time, transforms each tile
/// into <c>V[36][tiles][channels]</c>, runs one matrix product per point, <c>M[p][tiles][filters] = V[p] * U[p]</c>
/// (<see cref="Gemm.Multiply"/>), with the filters transformed once by <see cref="TransformWeights"/> into
/// <c>U[36][channels][filters]</c> (stored as the product's packed panels of 32 filters, the last one narrower when the
/// filters are not a multiple of 32, and read in place: GoogLeNet's inception 4a 3x3, 96 -> 208 at 14x14, took 755-938
/// us on one thread and 434-683 on two in the pass with rows of 208 filters read in place, 495-568 and 244-308 with six
/// panels and one of 16; <c>Cnn.Latency --layers</c>, 4 runs of each build alternating; fewer than 64 filters that are
/// not a multiple of 32 keep their rows, <see cref="Gemm.PanelsAreRows"/>),
/// and turns each tile back into 4x4 outputs. It can run on a range of filters
/// [f0, f1) (the weights of a range are transformed into their own block), so a layer can be split by filters; each
/// range transforms the input itself. A layer can also be split by tiles (<see cref="ForwardTiles"/>) or, for few tiles
/// and filters, by points, then by tiles (<see cref="ForwardPoints"/>, <see cref="FinishTiles"/>).</para>
/// <para>The transforms run on 16 channels or 16 filters at a time with AVX-512 and one at a time otherwise, with the same
/// operations in the same order: both paths give the same bits. The result differs from direct convolution by
/// rounding only (the transforms scale values by up to 100 before the sums): see the accuracy tests.</para>
/// </summary>
[SkipLocalsInit]
public static unsafe partial class Winograd3x3
{
    /// <summary>Outputs per tile side.</summary>
    public const int OutputTile = 4;

    /// <summary>Inputs per tile side: <see cref="OutputTile"/> + 3 - 1.</summary>
    public const int InputTile = 6;

    /// <summary>Points of the transform: one matrix product each.</summary>
    public const int Points = InputTile * InputTile;

    /// <summary>Whether this kernel computes a convolution of this kind.</summary>
    public static bool Supports(int kernel, int stride, int dilation, int groups) =>
        kernel == 3 && stride == 1 && dilation == 1 && groups == 1;

    /// <summary>Tiles per image: the output in 4x4 blocks, the last row and column of blocks cut by the edge.</summary>
    public static int TilesPerImage(int outHeight, int outWidth) => Blocks(outHeight) * Blocks(outWidth);

    /// <summary>Values of the transformed weights of all filters.</summary>
    public static long TransformedWeightLength(int filters, int channels) => (long)Points * filters * channels;

    /// <summary>Values of the channel-last, zero-padded copy of <paramref name="images"/> images.</summary>
    public static long PaddedLength(int images, int channels, int outHeight, int outWidth) =>
        (long)images * PaddedSide(outHeight) * PaddedSide(outWidth) * channels;

    /// <summary>Values of the scratch <see cref="Forward"/> needs for the transformed input and the products of one block
    /// of tiles (filters: the range's count).</summary>
    public static long ScratchLength(int images, int channels, int filters, int outHeight, int outWidth)
    {
        int tiles = BlockTiles(images * TilesPerImage(outHeight, outWidth), channels, filters);
        return BlockLength(tiles, channels, filters);
    }

    /// <summary>Values of a block of <paramref name="tiles"/> tiles: 36 planes of their transformed input, then 36 of their
    /// products (or, in the weight gradient, of their transformed gradients), each plane <see cref="PlaneStride"/> long.</summary>
    internal static long BlockLength(int tiles, int channels, int filters) => Points * (PlaneStride(tiles, channels) + PlaneStride(tiles, filters));

    /// <summary>Values left after each point's plane of the transformed input and of the products, one cache line: a tile's
    /// input transform writes to all 36 planes and its output transform reads from all 36, and planes of a whole number of
    /// 4 KiB (32 tiles of 64 channels are 8 KiB; 32 of 128, or 16 of 256, 16 KiB) put those 36 accesses in one set of the
    /// first-level cache, which holds a few ways. Measured alone, both in one process (<c>Winograd3x3.Forward</c>, one
    /// image, same bits): 64 x 56 x 56 712-753 -> 492-540 us (input transform 294 -> 55-70, output transform 130 -> 82-93),
    /// 128 x 28 x 28 536-540 -> 452-455, 256 x 14 x 14 607-608 -> 536-560.</summary>
    internal const int PlanePad = 16;

    /// <summary>Values from one point's plane to the next: <paramref name="tiles"/> rows of <paramref name="width"/>
    /// (channels or filters), then <see cref="PlanePad"/>.</summary>
    internal static long PlaneStride(int tiles, int width) => (long)tiles * width + PlanePad;

    /// <summary>Tiles transformed, multiplied and transformed back at once: as many as keep their transformed input and
    /// products within 512 KiB (in the second-level cache with the weights they meet), at least 32, in whole 8-row blocks
    /// of the matrix product; all of them when there are fewer.</summary>
    internal static int BlockTiles(int tiles, int channels, int filters)
    {
        int fit = 131072 / (Points * (channels + filters)) / 8 * 8;
        return Math.Min(tiles, Math.Max(32, fit));
    }

    internal static int Blocks(int size) => (size + OutputTile - 1) / OutputTile;

    /// <summary>
    /// Without AVX-512, the blocks of a range of <paramref name="count"/> tiles evened out: as many blocks as
    /// <paramref name="blockTiles"/> gives, each a multiple of 6 tiles (the product's blocks of rows), so no block is a
    /// few tiles left over (98 tiles, half of ResNet-18's 56 x 56 layer: 30, 30, 30, 8 rather than 32, 32, 32, 2). Every
    /// tile's outputs get the same operations in any block, so the bits do not change. With AVX-512, as given.
    /// </summary>
    internal static int EvenBlocks(int count, int blockTiles)
    {
        if (Avx512F.IsSupported || count <= blockTiles) return blockTiles;
        int blocks = (count + blockTiles - 1) / blockTiles, even = (count + blocks - 1) / blocks;
        return Math.Min(blockTiles, (even + 5) / 6 * 6);
    }

    internal static int PaddedSide(int outSize) => Blocks(outSize) * OutputTile + 2;

    /// <summary>
    /// <c>U = G g G^T</c> of filters [f0, f1) (computed in double, rounded once), written to the range's block of
    /// <paramref name="transformed"/>: it starts at <c>36 * channels * f0</c> and holds <c>U[36][channels][f1 - f0]</c>,
    /// each point's matrix in the products' panel layout (<c>Gemm.PanelLayout</c>: panels of 32 filters, the last one
    /// narrower when the range is not a multiple of 32).
    /// <paramref name="weight"/> is the layer's <c>[filters, channels, 3, 3]</c> weight.
    /// </summary>
    public static void TransformWeights(ReadOnlySpan<float> weight, Span<float> transformed, int filters, int channels, int f0, int f1)
    {
        CheckRange(filters, f0, f1, nameof(TransformWeights));
        if (weight.Length < filters * channels * 9 || transformed.Length < TransformedWeightLength(filters, channels))
            throw new ArgumentException("Winograd3x3.TransformWeights: spans too short for the given shape.");
        int range = f1 - f0;
        long pointStride = (long)channels * range;
        fixed (float* pw = weight, pt = transformed)
        {
            float* block = pt + (long)Points * channels * f0;
            double* column = stackalloc double[InputTile * 3];
            double* u = stackalloc double[InputTile];
            // 16 filters of one channel at a time, gathered here so that each point's 16 values are stored together
            // (one store per filter per point would hit 36 places a whole point apart, all on the same cache sets).
            float* group = stackalloc float[Points * 16];
            for (int first = f0; first < f1; first += 16)
            {
                int count = Math.Min(16, f1 - first);
                for (int c = 0; c < channels; c++)
                {
                    if (Avx512F.IsSupported) FilterGroup16(pw, channels, first, count, c, group);
                    else
                        for (int k = 0; k < count; k++)
                        {
                            float* g = pw + ((long)(first + k) * channels + c) * 9;
                            // G g: each of the three kernel columns transformed to six values.
                            for (int kx = 0; kx < 3; kx++)
                            {
                                WinogradTransforms.Filter(g[kx], g[3 + kx], g[6 + kx], u);
                                for (int i = 0; i < InputTile; i++) column[i * 3 + kx] = u[i];
                            }
                            // (G g) G^T: each of the six rows transformed to six values.
                            for (int i = 0; i < InputTile; i++)
                            {
                                WinogradTransforms.Filter(column[i * 3], column[i * 3 + 1], column[i * 3 + 2], u);
                                for (int j = 0; j < InputTile; j++) group[(i * InputTile + j) * 16 + k] = (float)u[j];
                            }
                        }
                    // Stored as the products' packed panels (Gemm.PanelLayout, the last panel narrower when the range is
                    // not a multiple of 32); 16 filters from a multiple of 16 stay within one panel.
                    float* to = block + Gemm.PanelLayout(c, first - f0, channels, range);
                    for (int p = 0; p < Points; p++)
                        Buffer.MemoryCopy(group + p * 16, to + p * pointStride, count * 4L, count * 4L);
                }
            }
        }
    }

    /// <summary><c>G g G^T</c> of one channel of filters [first, first + count) (at most 16), 8 filters to a vector of
    /// doubles, into <c>group[point * 16 + k]</c>: the scalar path's operations in its order, so the same bits. Lanes
    /// past <paramref name="count"/> transform zeros and are not stored by the caller.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void FilterGroup16(float* weight, int channels, int first, int count, int c, float* group)
    {
        // The 9 taps of the filters, tap-major (taps[t * 16 + k]), zeros in the lanes past the last filter.
        float* taps = stackalloc float[9 * 16];
        for (int k = 0; k < count; k++)
        {
            float* g = weight + ((long)(first + k) * channels + c) * 9;
            for (int t = 0; t < 9; t++) taps[t * 16 + k] = g[t];
        }
        for (int k = count; k < 16; k++)
            for (int t = 0; t < 9; t++) taps[t * 16 + k] = 0f;
        for (int half = 0; half < 2; half++)
        {
            Vector512<double> Tap(int t) => Avx512F.ConvertToVector512Double(Vector256.Load(taps + t * 16 + half * 8));
            // G g: the three kernel columns (taps kx, 3 + kx, 6 + kx) to six values each.
            WinogradTransforms.Filter(Tap(0), Tap(3), Tap(6), out var a0, out var a1, out var a2, out var a3, out var a4, out var a5);
            WinogradTransforms.Filter(Tap(1), Tap(4), Tap(7), out var b0, out var b1, out var b2, out var b3, out var b4, out var b5);
            WinogradTransforms.Filter(Tap(2), Tap(5), Tap(8), out var d0, out var d1, out var d2, out var d3, out var d4, out var d5);
            // (G g) G^T: each of the six rows to six values, rounded once to float.
            Row(a0, b0, d0, group + 0 * InputTile * 16 + half * 8);
            Row(a1, b1, d1, group + 1 * InputTile * 16 + half * 8);
            Row(a2, b2, d2, group + 2 * InputTile * 16 + half * 8);
            Row(a3, b3, d3, group + 3 * InputTile * 16 + half * 8);
            Row(a4, b4, d4, group + 4 * InputTile * 16 + half * 8);
            Row(a5, b5, d5, group + 5 * InputTile * 16 + half * 8);
        }
    }

    /// <summary>One row of <c>(G g) G^T</c> for 8 filters: six points, each rounded to float, 16 floats apart.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Row(Vector512<double> g0, Vector512<double> g1, Vector512<double> g2, float* to)
    {
        WinogradTransforms.Filter(g0, g1, g2, out var u0, out var u1, out var u2, out var u3, out var u4, out var u5);
        Avx512F.ConvertToVector256Single(u0).Store(to);
        Avx512F.ConvertToVector256Single(u1).Store(to + 16);
        Avx512F.ConvertToVector256Single(u2).Store(to + 32);
        Avx512F.ConvertToVector256Single(u3).Store(to + 48);
        Avx512F.ConvertToVector256Single(u4).Store(to + 64);
        Avx512F.ConvertToVector256Single(u5).Store(to + 80);
    }

    /// <summary>
    /// <see cref="TransformWeights"/> of all filters into <paramref name="transformed"/>, only when <paramref name="weight"/>
    /// differs in any bit from <paramref name="copy"/> (the weights the last transform was made from, updated here): the
    /// transform is a function of the weights' bits alone, so equal bits mean it is still right, however the weights were
    /// changed in between (an optimiser, a checkpoint load, a write to <c>Parameters</c>). Returns whether it transformed.
    /// </summary>
    public static bool PrepareWeights(ReadOnlySpan<float> weight, Span<float> copy, Span<float> transformed, int filters, int channels)
    {
        int length = filters * channels * 9;
        if (weight.Length < length || copy.Length != length + 1)
            throw new ArgumentException("Winograd3x3.PrepareWeights: the copy must hold the weights and one more value (whether it is set).");
        var current = weight.Slice(0, length);
        if (WeightCopy.Holds(current, copy)) return false;
        TransformWeights(weight, transformed, filters, channels, 0, filters);
        WeightCopy.Take(current, copy);
        return true;
    }

    /// <summary>Values the cache of <see cref="PrepareWeights"/> holds for a layer.</summary>
    public static int WeightCopyLength(int filters, int channels) => WeightCopy.Length(filters * channels * 9);

    /// <summary>
    /// The convolution of <paramref name="images"/> NCHW images for filters [f0, f1) (all by default), written to the NCHW
    /// <paramref name="output"/> (all filters per image; other filters' planes are not touched). <paramref name="transformedWeight"/>
    /// holds the range's block made by <see cref="TransformWeights"/>; <paramref name="padded"/> (<see cref="PaddedLength"/>)
    /// receives the images channel-last with zeros around them; <paramref name="scratch"/> (<see cref="ScratchLength"/>)
    /// the transformed input <c>V[36][tiles][channels]</c> and products <c>M[36][tiles][f1 - f0]</c> of one block of tiles
    /// at a time. Tiles run in image, row, column order. With <paramref name="pool2x2"/> (even output sides) the output
    /// holds each 2x2 block's maximum instead, <c>(outHeight / 2) x (outWidth / 2)</c> per filter: the bits of this layer's
    /// output through <see cref="Pooling.MaxPoolValues"/>, without its outputs ever being stored.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Forward(ReadOnlySpan<float> input, int images, ReadOnlySpan<float> transformedWeight, ReadOnlySpan<float> bias,
        Span<float> output, Span<float> padded, Span<float> scratch,
        int channels, int height, int width, int filters, int padding, int outHeight, int outWidth, bool relu = false, int f0 = 0, int f1 = -1,
        bool pool2x2 = false)
    {
        if (f1 < 0) f1 = filters;
        CheckRange(filters, f0, f1, nameof(Forward));
        CheckOutputSize(height, width, padding, outHeight, outWidth, nameof(Forward));
        CheckPool(pool2x2, outHeight, outWidth, nameof(Forward));
        int range = f1 - f0;
        var shape = Shape.Of(channels, filters, outHeight, outWidth);
        int tiles = images * shape.TilesHigh * shape.TilesWide, blockTiles = BlockTiles(tiles, channels, range);
        if (input.Length < (long)images * channels * height * width || transformedWeight.Length < TransformedWeightLength(filters, channels)
            || bias.Length < filters || output.Length < (long)images * filters * StoredPlane(outHeight, outWidth, pool2x2)
            || padded.Length < PaddedLength(images, channels, outHeight, outWidth) || scratch.Length < ScratchLength(images, channels, range, outHeight, outWidth))
            throw new ArgumentException("Winograd3x3.Forward: spans too short for the given shape.");
        fixed (float* pin = input, ppad = padded, pv = scratch, pb = bias, pout = output)
        {
            CopyChannelLast(pin, ppad, images, channels, height, width, padding, shape.PaddedHeight, shape.PaddedWidth);
            RunTiles(ppad, pv, pb, pout, transformedWeight.Slice(Points * channels * f0, Points * channels * range), shape, 0, tiles, blockTiles, f0, f1,
                new Finishing(relu, pool2x2));
        }
    }

    /// <summary>The first half of <see cref="Forward"/>: <paramref name="images"/> images channel-last with zero padding
    /// into <paramref name="padded"/> (<see cref="PaddedLength"/> values), for <see cref="ForwardTiles"/>.</summary>
    public static void PadChannelLast(ReadOnlySpan<float> input, int images, Span<float> padded, int channels, int height, int width, int padding,
        int outHeight, int outWidth)
    {
        CheckOutputSize(height, width, padding, outHeight, outWidth, nameof(PadChannelLast));
        if (input.Length < (long)images * channels * height * width || padded.Length < PaddedLength(images, channels, outHeight, outWidth))
            throw new ArgumentException("Winograd3x3.PadChannelLast: spans too short for the given shape.");
        fixed (float* pin = input, ppad = padded)
            CopyChannelLast(pin, ppad, images, channels, height, width, padding, PaddedSide(outHeight), PaddedSide(outWidth));
    }

    /// <summary>Rows of the padded copy <see cref="PadChannelLast"/> writes for <paramref name="images"/> images: the
    /// units of <see cref="PadChannelLastRows"/>.</summary>
    public static int PaddedRows(int images, int outHeight) => images * PaddedSide(outHeight);

    /// <summary>
    /// Rows [<paramref name="firstRow"/>, <paramref name="endRow"/>) of <see cref="PadChannelLast"/>'s copy (rows numbered
    /// image by image, <see cref="PaddedRows"/> in all), each written with the same values: ranges run on several
    /// threads make the whole copy, a large layer's not left to one thread while the others wait. Rows 8 wide go one at
    /// a time here, not in pairs.
    /// </summary>
    public static void PadChannelLastRows(ReadOnlySpan<float> input, int images, Span<float> padded, int channels, int height, int width, int padding,
        int outHeight, int outWidth, int firstRow, int endRow)
    {
        CheckOutputSize(height, width, padding, outHeight, outWidth, nameof(PadChannelLastRows));
        int ph = PaddedSide(outHeight), pw = PaddedSide(outWidth);
        if (firstRow < 0 || endRow > images * ph || firstRow > endRow)
            throw new ArgumentOutOfRangeException(nameof(firstRow), $"Winograd3x3.PadChannelLastRows: rows [{firstRow}, {endRow}) are not within the {images * ph} padded rows of {images} image(s).");
        if (input.Length < (long)images * channels * height * width || padded.Length < PaddedLength(images, channels, outHeight, outWidth))
            throw new ArgumentException("Winograd3x3.PadChannelLastRows: spans too short for the given shape.");
        long plane = (long)height * width, rowLength = (long)pw * channels;
        fixed (float* pin = input, ppad = padded)
        {
            for (int r = firstRow; r < endRow; r++)
            {
                int n = r / ph, y = r % ph - padding;
                float* row = ppad + r * rowLength;
                if (y < 0 || y >= height)
                {
                    new Span<float>(row, checked((int)rowLength)).Clear();
                    continue;
                }
                float* to = row + padding * channels;
                ClearRowBorders(row, to, rowLength, padding, width, channels);
                CopyRowChannelLast(pin + (long)n * channels * plane + (long)y * width, to, plane, channels, width);
            }
        }
    }

    /// <summary>
    /// The second half of <see cref="Forward"/> for tiles [<paramref name="firstTile"/>, <paramref name="endTile"/>) of
    /// all filters (tiles numbered image by image, row by row of 4x4 output blocks): from the images
    /// <see cref="PadChannelLast"/> laid out, into their outputs only. Each output is computed by the same operations as
    /// in <see cref="Forward"/>, whichever range holds its tile, so ranges run on several threads give its bits.
    /// <paramref name="scratch"/> holds <see cref="ScratchLength"/> values for this call's own use (one per thread).
    /// </summary>
    public static void ForwardTiles(ReadOnlySpan<float> padded, int images, ReadOnlySpan<float> transformedWeight, ReadOnlySpan<float> bias,
        Span<float> output, Span<float> scratch, int channels, int filters, int outHeight, int outWidth, int firstTile, int endTile, bool relu = false,
        bool pool2x2 = false)
    {
        CheckPool(pool2x2, outHeight, outWidth, nameof(ForwardTiles));
        var shape = Shape.Of(channels, filters, outHeight, outWidth);
        int tiles = images * shape.TilesHigh * shape.TilesWide, blockTiles = BlockTiles(tiles, channels, filters);
        if (firstTile < 0 || endTile > tiles || firstTile > endTile)
            throw new ArgumentOutOfRangeException(nameof(firstTile), $"Winograd3x3.ForwardTiles: tiles [{firstTile}, {endTile}) are not within the {tiles} tiles of {images} image(s).");
        if (padded.Length < PaddedLength(images, channels, outHeight, outWidth) || transformedWeight.Length < TransformedWeightLength(filters, channels)
            || bias.Length < filters || output.Length < (long)images * filters * StoredPlane(outHeight, outWidth, pool2x2)
            || scratch.Length < ScratchLength(images, channels, filters, outHeight, outWidth))
            throw new ArgumentException("Winograd3x3.ForwardTiles: spans too short for the given shape.");
        fixed (float* ppad = padded, pv = scratch, pb = bias, pout = output)
            RunTiles(ppad, pv, pb, pout, transformedWeight.Slice(0, (int)TransformedWeightLength(filters, channels)), shape, firstTile, endTile, blockTiles, 0, filters,
                new Finishing(relu, pool2x2));
    }

    /// <summary>
    /// The second half of <see cref="Forward"/> for filters [<paramref name="firstFilter"/>, <paramref name="endFilter"/>)
    /// of all tiles, from the images <see cref="PadChannelLast"/> laid out, into those filters' outputs only: a layer of
    /// few tiles split over threads, each range reading only its share of the transformed weights (made by
    /// <see cref="TransformWeights"/> for all filters): in panels of 32, the range starts at a multiple of 32 filters and
    /// holds whole panels, or ends at the last filter with the narrower last panel; below 64 filters that are not a
    /// multiple of 32 (<see cref="Gemm.PanelsAreRows"/>) the weights are rows of all filters, and a range of any filters
    /// reads its columns of them in place. Each output is computed by the same
    /// operations as in <see cref="Forward"/>, so ranges run on several threads give its bits. <paramref name="scratch"/>
    /// holds <see cref="ScratchLength"/> values (for all filters) for this call's own use.
    /// </summary>
    public static void ForwardFilters(ReadOnlySpan<float> padded, int images, ReadOnlySpan<float> transformedWeight, ReadOnlySpan<float> bias,
        Span<float> output, Span<float> scratch, int channels, int filters, int outHeight, int outWidth, int firstFilter, int endFilter, bool relu = false,
        bool pool2x2 = false)
    {
        CheckRange(filters, firstFilter, endFilter, nameof(ForwardFilters));
        CheckPool(pool2x2, outHeight, outWidth, nameof(ForwardFilters));
        bool rows = Gemm.PanelsAreRows(filters);
        if (!rows && (firstFilter % Gemm.PanelWidth != 0 || endFilter % Gemm.PanelWidth != 0 && endFilter != filters))
            throw new ArgumentException($"Winograd3x3.ForwardFilters: filters [{firstFilter}, {endFilter}) of {filters} are not whole panels of {Gemm.PanelWidth} (or the last, narrower one).");
        var shape = Shape.Of(channels, filters, outHeight, outWidth);
        int tiles = images * shape.TilesHigh * shape.TilesWide, range = endFilter - firstFilter, blockTiles = BlockTiles(tiles, channels, range);
        if (padded.Length < PaddedLength(images, channels, outHeight, outWidth) || transformedWeight.Length < TransformedWeightLength(filters, channels)
            || bias.Length < filters || output.Length < (long)images * filters * StoredPlane(outHeight, outWidth, pool2x2)
            || scratch.Length < ScratchLength(images, channels, range, outHeight, outWidth))
            throw new ArgumentException("Winograd3x3.ForwardFilters: spans too short for the given shape.");
        fixed (float* ppad = padded, pv = scratch, pb = bias, pout = output)
            RunTiles(ppad, pv, pb, pout, transformedWeight.Slice(0, (int)TransformedWeightLength(filters, channels)), channelsTimesFilters: channels * filters,
                offset: rows ? firstFilter : channels * firstFilter, shape, 0, tiles, blockTiles, firstFilter, endFilter,
                new Finishing(relu, pool2x2));
    }

    [ThreadStatic] private static float[]? t_scratch;

    /// <summary>A scratch of at least <paramref name="length"/> values owned by the calling thread (for
    /// <see cref="ForwardTiles"/> run on several threads at once); made once per thread and grown when too short.</summary>
    public static Span<float> ThreadScratch(long length)
    {
        return Kernels.ThreadScratch.AtLeast(ref t_scratch, length);
    }

    /// <summary>Tiles [first, end), a block of <paramref name="blockTiles"/> at a time: input transform, one product per
    /// point, output transform of filters [f0, f1) (<paramref name="block"/>: their transformed weights).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RunTiles(float* ppad, float* pv, float* pb, float* pout, ReadOnlySpan<float> block, in Shape shape, int first, int end,
        int blockTiles, int f0, int f1, Finishing finishing) =>
        RunTiles(ppad, pv, pb, pout, block, channelsTimesFilters: shape.Channels * (f1 - f0), offset: 0, shape, first, end, blockTiles, f0, f1,
            finishing);

    /// <summary><see cref="RunTiles(float*, float*, float*, float*, ReadOnlySpan{float}, in Shape, int, int, int, int, int, Finishing)"/>
    /// with the range's weights of point <c>p</c> at <c>block[p * channelsTimesFilters + offset ..]</c>: a range of
    /// weights transformed for more filters, whole panels of them (the last one possibly narrower), or columns of the
    /// rows of all filters where the layout keeps its rows (<see cref="Gemm.PanelsAreRows"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RunTiles(float* ppad, float* pv, float* pb, float* pout, ReadOnlySpan<float> block, int channelsTimesFilters, int offset,
        in Shape shape, int first, int end, int blockTiles, int f0, int f1, Finishing finishing)
    {
        int channels = shape.Channels, range = f1 - f0;
        float* pm = pv + Points * PlaneStride(blockTiles, channels);
        blockTiles = EvenBlocks(end - first, blockTiles);
        for (int t0 = first; t0 < end; t0 += blockTiles)
        {
            int count = Math.Min(blockTiles, end - t0);
            TransformInput(ppad, pv, shape, t0, count);
            // After the last point the next product reads the first one's weights again (the next block of tiles).
            MultiplyPoints(pv, PlaneStride(count, channels), block, channelsTimesFilters, offset, pm, PlaneStride(count, range),
                count, range, channels, 0, Points, afterLast: t0 + count < end ? -(long)(Points - 1) * channelsTimesFilters : null);
            TransformOutput(pm, pb, pout, shape, t0, count, f0, f1, finishing);
        }
    }

    /// <summary>Points [<paramref name="firstPoint"/>, <paramref name="endPoint"/>) of a block's products
    /// <c>M[p] = V[p] * U[p]</c> for <paramref name="count"/> tiles: V's planes <paramref name="inputStride"/> apart from
    /// <paramref name="v"/>, M's <paramref name="productStride"/> apart from <paramref name="m"/>, the range's weights of
    /// point <c>p</c> at <c>block[p * channelsTimesFilters + offset ..]</c> (in panels, or columns of rows of all the filters
    /// the layout was made for: <see cref="Gemm.PanelsAreRows"/>). Each product asks for the next point's weights; the last
    /// for those <paramref name="afterLast"/> floats on, or none.</summary>
    private static void MultiplyPoints(float* v, long inputStride, ReadOnlySpan<float> block, int channelsTimesFilters, int offset,
        float* m, long productStride, int count, int range, int channels, int firstPoint, int endPoint, long? afterLast)
    {
        // The filters the transformed weights were laid out for (all of the layer's, or the range's own block).
        int columns = channelsTimesFilters / channels;
        bool rows = Gemm.PanelsAreRows(columns);
        for (int p = firstPoint; p < endPoint; p++)
        {
            var vp = new ReadOnlySpan<float>(v + p * inputStride, count * channels);
            var u = block.Slice(p * channelsTimesFilters + offset, channelsTimesFilters - offset);
            var mp = new Span<float>(m + p * productStride, count * range);
            long? next = p + 1 < endPoint ? channelsTimesFilters : afterLast;
            if (rows) Gemm.MultiplyColumnsOf(vp, u, columns, mp, m: count, n: range, k: channels);
            else Gemm.MultiplyPanels(vp, u, mp, m: count, n: range, k: channels, nextPanelsAt: next, layoutColumns: columns);
        }
    }

    internal readonly record struct Shape(int Channels, int Filters, int OutHeight, int OutWidth, int PaddedHeight, int PaddedWidth, int TilesHigh, int TilesWide)
    {
        public static Shape Of(int channels, int filters, int outHeight, int outWidth) =>
            new(channels, filters, outHeight, outWidth, PaddedSide(outHeight), PaddedSide(outWidth), Blocks(outHeight), Blocks(outWidth));
    }

    /// <summary>A 3x3 stride-1 convolution of <paramref name="height"/> x <paramref name="width"/> with
    /// <paramref name="padding"/> gives exactly the stated output size.</summary>
    private static void CheckOutputSize(int height, int width, int padding, int outHeight, int outWidth, string method)
    {
        if (outHeight != height + 2 * padding - 2 || outWidth != width + 2 * padding - 2 || outHeight < 1 || outWidth < 1)
            throw new ArgumentException($"Winograd3x3.{method}: a 3x3 stride-1 convolution of {height}x{width} with padding {padding} gives " +
                $"{height + 2 * padding - 2}x{width + 2 * padding - 2}, not {outHeight}x{outWidth}.");
    }

    /// <summary>Each image channel-last with zeros around it: row by row, each output row written in order (its values
    /// read from the channels' rows, which stay in cache along the row). Rows 8 wide go two at a time: their 16 values
    /// of a channel lie next to each other, one 16 x 16 transpose for 16 channels.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void CopyChannelLast(float* input, float* padded, int images, int channels, int height, int width, int padding, int ph, int pw)
    {
        long plane = (long)height * width, rowLength = (long)pw * channels;
        bool pairs = Avx512F.IsSupported && width == 8 && channels >= 16;
        for (int n = 0; n < images; n++)
        {
            float* image = padded + (long)n * ph * rowLength;
            new Span<float>(image, checked((int)(padding * rowLength))).Clear();
            for (int y = 0; y < height; y++)
            {
                float* row = image + (y + padding) * rowLength;
                float* from = input + (long)n * channels * plane + (long)y * width;
                float* to = row + padding * channels;
                ClearRowBorders(row, to, rowLength, padding, width, channels);
                if (pairs && y + 1 < height)
                {
                    float* next = to + rowLength;
                    ClearRowBorders(row + rowLength, next, rowLength, padding, width, channels);
                    CopyRowPairChannelLast(from, to, next, plane, channels);
                    y++;
                    continue;
                }
                CopyRowChannelLast(from, to, plane, channels, width);
            }
            new Span<float>(image + (height + padding) * rowLength, checked((int)((ph - height - padding) * rowLength))).Clear();
        }
    }

    /// <summary>Zeroes a channel-last row's padding left of the image and everything right of it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ClearRowBorders(float* row, float* to, long rowLength, int padding, int width, int channels)
    {
        new Span<float>(row, padding * channels).Clear();
        new Span<float>(to + (long)width * channels, checked((int)(rowLength - (padding + width) * channels))).Clear();
    }

    /// <summary>Two 8-wide image rows channel-last (AVX-512): the row pair's 16 values of each of 16 channels transposed at
    /// once, the first 8 columns to <paramref name="to"/>, the next 8 to <paramref name="next"/>; channels past the last
    /// 16 one by one.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void CopyRowPairChannelLast(float* from, float* to, float* next, long plane, int channels)
    {
        int deep = channels / 16 * 16;
        for (int c = 0; c < deep; c += 16)
            Transpose16.Block(from + c * plane, plane, to + c, next + c, channels);
        for (int x = 0; x < 8; x++)
            for (int c = deep; c < channels; c++)
            {
                to[(long)x * channels + c] = from[c * plane + x];
                next[(long)x * channels + c] = from[c * plane + 8 + x];
            }
    }

    /// <summary>One image row channel-last: <c>to[x * channels + c] = from[c * plane + x]</c>. Blocks of 16 columns by 16
    /// channels are transposed in registers (the last block of columns overlapping the one before it when the width is
    /// not a multiple of 16: its values are written twice, the same both times); rows narrower than 16 go through a
    /// 16 x 16 block on the stack (<see cref="NarrowRowChannelLast"/>); channels past the last 16 are copied one by one.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void CopyRowChannelLast(float* from, float* to, long plane, int channels, int width)
    {
        int deep = Avx512F.IsSupported ? channels / 16 * 16 : 0;
        if (deep > 0 && width < 16) NarrowRowChannelLast(from, to, plane, deep, channels, width);
        else if (deep > 0)
        {
            for (int x0 = 0; x0 < width; x0 += 16)
            {
                int x = Math.Min(x0, width - 16);
                for (int c = 0; c < deep; c += 16)
                    Transpose16.Block(from + c * plane + x, plane, to + (long)x * channels + c, channels);
            }
        }
        else if (Avx.IsSupported && width >= 8)
        {
            // Without AVX-512: blocks of 8 channels by 8 positions (the last block of a row overlapping the one before).
            deep = channels / 8 * 8;
            for (int x0 = 0; x0 < width; x0 += 8)
            {
                int x = Math.Min(x0, width - 8);
                for (int c = 0; c < deep; c += 8)
                    Transpose8.Block(from + c * plane + x, plane, to + (long)x * channels + c, channels);
            }
        }
        for (int x = 0; x < width; x++)
            for (int c = deep; c < channels; c++) to[(long)x * channels + c] = from[c * plane + x];
    }

    /// <summary>The first <paramref name="deep"/> channels (a multiple of 16) of a row narrower than 16 channel-last: for
    /// each 16 channels, their rows' <paramref name="width"/> values are loaded masked (nothing past the row is read) into
    /// a 16 x 16 block on the stack, transposed in registers, and the block's first <paramref name="width"/> rows (one
    /// vector of 16 channels each) stored. Moves values only: the bits of the scalar copy. ResNet-18's 256 x 14 x 14
    /// inputs: 34 us one by one, a fraction of that here.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void NarrowRowChannelLast(float* from, float* to, long plane, int deep, int channels, int width)
    {
        float* rows = stackalloc float[16 * 16];
        float* columns = stackalloc float[16 * 16];
        var mask = LaneMask.First(width);
        for (int c = 0; c < deep; c += 16)
        {
            for (int r = 0; r < 16; r++)
                Avx512F.MaskLoad(from + (c + r) * plane, mask, Vector512<float>.Zero).Store(rows + r * 16);
            Transpose16.Block(rows, 16, columns, 16);
            for (int x = 0; x < width; x++) Vector512.Load(columns + x * 16).Store(to + (long)x * channels + c);
        }
    }

    /// <summary><c>B^T d B</c> of tiles [t0, t0 + count) to <c>v[36][count][channels]</c>.</summary>
    private static void TransformInput(float* padded, float* v, in Shape s, int t0, int count) =>
        TransformInput(padded, v, PlaneStride(count, s.Channels), s, t0, count);

    /// <summary><c>B^T d B</c> of tiles [t0, t0 + count) to <c>v[36][..][channels]</c>, each point's rows
    /// <paramref name="pointStride"/> values apart (a block that holds more tiles than these).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void TransformInput(float* padded, float* v, long pointStride, in Shape s, int t0, int count)
    {
        int channels = s.Channels, rowStride = s.PaddedWidth * channels, perImage = s.TilesHigh * s.TilesWide;
        int vectorChannels = Avx512F.IsSupported ? channels / 16 * 16 : 0;
        // Without AVX-512, eight channels at a time where AVX2 runs.
        int narrowChannels = !Avx512F.IsSupported && Avx2.IsSupported && Fma.IsSupported ? channels / 8 * 8 : vectorChannels;
        float* stage = stackalloc float[Points * 16];
        for (int i = 0; i < count; i++)
        {
            int t = t0 + i, n = t / perImage, ty = t % perImage / s.TilesWide, tx = t % s.TilesWide;
            float* corner = padded + ((long)(n * s.PaddedHeight + ty * OutputTile) * s.PaddedWidth + tx * OutputTile) * channels;
            float* to = v + (long)i * channels;
            for (int c = 0; c < vectorChannels; c += 16) InputTile16(corner + c, rowStride, channels, to + c, pointStride, stage);
            for (int c = vectorChannels; c < narrowChannels; c += 8) InputTile8(corner + c, rowStride, channels, to + c, pointStride, stage);
            for (int c = narrowChannels; c < channels; c++) InputTile1(corner + c, rowStride, channels, to + c, pointStride);
        }
    }

    /// <summary>One tile's input transform for 16 channels: rows first, then columns.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void InputTile16(float* corner, int rowStride, int step, float* v, long pointStride, float* stage)
    {
        for (int r = 0; r < InputTile; r++)
        {
            float* row = corner + r * rowStride;
            WinogradTransforms.Input(Vector512.Load(row), Vector512.Load(row + step), Vector512.Load(row + 2 * step),
                Vector512.Load(row + 3 * step), Vector512.Load(row + 4 * step), Vector512.Load(row + 5 * step),
                out var h0, out var h1, out var h2, out var h3, out var h4, out var h5);
            float* s = stage + r * InputTile * 16;
            h0.Store(s); h1.Store(s + 16); h2.Store(s + 32); h3.Store(s + 48); h4.Store(s + 64); h5.Store(s + 80);
        }
        for (int j = 0; j < InputTile; j++)
        {
            float* s = stage + j * 16;
            const int down = InputTile * 16;
            WinogradTransforms.Input(Vector512.Load(s), Vector512.Load(s + down), Vector512.Load(s + 2 * down),
                Vector512.Load(s + 3 * down), Vector512.Load(s + 4 * down), Vector512.Load(s + 5 * down),
                out var v0, out var v1, out var v2, out var v3, out var v4, out var v5);
            v0.Store(v + j * pointStride);
            v1.Store(v + (InputTile + j) * pointStride);
            v2.Store(v + (2 * InputTile + j) * pointStride);
            v3.Store(v + (3 * InputTile + j) * pointStride);
            v4.Store(v + (4 * InputTile + j) * pointStride);
            v5.Store(v + (5 * InputTile + j) * pointStride);
        }
    }

    /// <summary><see cref="InputTile16"/> for 8 channels (AVX2 and FMA).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void InputTile8(float* corner, int rowStride, int step, float* v, long pointStride, float* stage)
    {
        for (int r = 0; r < InputTile; r++)
        {
            float* row = corner + r * rowStride;
            WinogradTransforms.Input(Vector256.Load(row), Vector256.Load(row + step), Vector256.Load(row + 2 * step),
                Vector256.Load(row + 3 * step), Vector256.Load(row + 4 * step), Vector256.Load(row + 5 * step),
                out var h0, out var h1, out var h2, out var h3, out var h4, out var h5);
            float* s = stage + r * InputTile * 8;
            h0.Store(s); h1.Store(s + 8); h2.Store(s + 16); h3.Store(s + 24); h4.Store(s + 32); h5.Store(s + 40);
        }
        for (int j = 0; j < InputTile; j++)
        {
            float* s = stage + j * 8;
            const int down = InputTile * 8;
            WinogradTransforms.Input(Vector256.Load(s), Vector256.Load(s + down), Vector256.Load(s + 2 * down),
                Vector256.Load(s + 3 * down), Vector256.Load(s + 4 * down), Vector256.Load(s + 5 * down),
                out var v0, out var v1, out var v2, out var v3, out var v4, out var v5);
            v0.Store(v + j * pointStride);
            v1.Store(v + (InputTile + j) * pointStride);
            v2.Store(v + (2 * InputTile + j) * pointStride);
            v3.Store(v + (3 * InputTile + j) * pointStride);
            v4.Store(v + (4 * InputTile + j) * pointStride);
            v5.Store(v + (5 * InputTile + j) * pointStride);
        }
    }

    /// <summary>One tile's input transform for one channel, the operations of <see cref="InputTile16"/>.</summary>
    private static void InputTile1(float* corner, int rowStride, int step, float* v, long pointStride)
    {
        float* h = stackalloc float[Points];
        for (int r = 0; r < InputTile; r++)
        {
            float* row = corner + r * rowStride;
            WinogradTransforms.Input(row[0], row[step], row[2 * step], row[3 * step], row[4 * step], row[5 * step],
                out h[r * 6], out h[r * 6 + 1], out h[r * 6 + 2], out h[r * 6 + 3], out h[r * 6 + 4], out h[r * 6 + 5]);
        }
        for (int j = 0; j < InputTile; j++)
        {
            WinogradTransforms.Input(h[j], h[6 + j], h[12 + j], h[18 + j], h[24 + j], h[30 + j],
                out v[j * pointStride], out v[(6 + j) * pointStride], out v[(12 + j) * pointStride],
                out v[(18 + j) * pointStride], out v[(24 + j) * pointStride], out v[(30 + j) * pointStride]);
        }
    }

    /// <summary>How the finished values are stored: ReLU (<c>x &lt; 0 ? 0 : x</c>) after the bias or not, and each 2x2
    /// block of outputs reduced to its maximum (a 2x2 stride-2 max pool after the layer, computed as the tile is stored)
    /// or every output stored.</summary>
    internal readonly record struct Finishing(bool Relu, bool Pool2x2);

    /// <summary>Values of one stored output plane: the layer's, or with the pool a quarter of it.</summary>
    private static long StoredPlane(int outHeight, int outWidth, bool pool2x2) =>
        pool2x2 ? (long)(outHeight / 2) * (outWidth / 2) : (long)outHeight * outWidth;

    /// <summary>The pool takes 2x2 windows at stride 2 that cover the output exactly, and 4x4 tiles hold whole windows:
    /// even output sides.</summary>
    private static void CheckPool(bool pool2x2, int outHeight, int outWidth, string method)
    {
        if (pool2x2 && (outHeight % 2 != 0 || outWidth % 2 != 0))
            throw new ArgumentException($"Winograd3x3.{method}: a 2x2 pool of a {outHeight}x{outWidth} output leaves a row or column out (both sides must be even).");
    }

    /// <summary>Each tile's <c>A^T M A</c> plus the filter's bias, then (when fused) ReLU (<c>x &lt; 0 ? 0 : x</c>), stored
    /// for filters [f0, f1), or with <see cref="Finishing.Pool2x2"/> each 2x2 block's maximum stored into the pooled
    /// planes; outputs past the edge are not written.</summary>
    private static void TransformOutput(float* products, float* bias, float* output, in Shape s, int t0, int count, int f0, int f1, Finishing finishing) =>
        TransformOutput(products, PlaneStride(count, f1 - f0), bias, output, s, t0, count, f0, f1, finishing);

    /// <summary><see cref="TransformOutput(float*, float*, float*, in Shape, int, int, int, int, Finishing)"/> with each
    /// point's rows <paramref name="pointStride"/> values apart (products of a block that holds more tiles than these).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TransformOutput(float* products, long pointStride, float* bias, float* output, in Shape s, int t0, int count, int f0, int f1,
        Finishing finishing)
    {
        int range = f1 - f0, perImage = s.TilesHigh * s.TilesWide;
        // With the pool a tile stores its 2x2 maxima into planes of half the height and width.
        int divide = finishing.Pool2x2 ? 2 : 1, storedWidth = s.OutWidth / divide, tileSide = OutputTile / divide;
        long plane = StoredPlane(s.OutHeight, s.OutWidth, finishing.Pool2x2);
        int vectorFilters = Avx512F.IsSupported ? range / 16 * 16 : 0;
        // Without AVX-512, eight filters at a time where AVX2 runs.
        int narrowFilters = !Avx512F.IsSupported && Avx2.IsSupported && Fma.IsSupported ? range / 8 * 8 : vectorFilters;
        // 24 rows of column transforms, then 16 finished values, 16 filters each, then the same by filter.
        float* stage = stackalloc float[(OutputTile * InputTile + 2 * OutputTile * OutputTile) * 16];
        for (int i = 0; i < count; i++)
        {
            int t = t0 + i, n = t / perImage, ty = t % perImage / s.TilesWide, tx = t % s.TilesWide;
            int rows = Math.Min(OutputTile, s.OutHeight - ty * OutputTile), columns = Math.Min(OutputTile, s.OutWidth - tx * OutputTile);
            float* m = products + (long)i * range;
            float* corner = output + n * s.Filters * plane + ty * tileSide * storedWidth + tx * tileSide;
            for (int f = 0; f < vectorFilters; f += 16)
                OutputTile16(m + f, pointStride, bias + f0 + f, corner + (f0 + f) * plane, plane, storedWidth, rows, columns, finishing, stage);
            for (int f = vectorFilters; f < narrowFilters; f += 8)
                OutputTile8(m + f, pointStride, bias + f0 + f, corner + (f0 + f) * plane, plane, storedWidth, rows, columns, finishing, stage);
            for (int f = narrowFilters; f < range; f++)
                OutputTile1(m + f, pointStride, bias[f0 + f], corner + (f0 + f) * plane, storedWidth, rows, columns, finishing);
        }
    }

    /// <summary>One tile's output transform for 16 filters: columns first, then rows; then each filter's block (or its
    /// 2x2 maxima) stored.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void OutputTile16(float* m, long pointStride, float* bias, float* corner, long plane, int outWidth, int rows, int columns,
        Finishing finishing, float* stage)
    {
        for (int s = 0; s < InputTile; s++)
        {
            WinogradTransforms.Output(Vector512.Load(m + s * pointStride), Vector512.Load(m + (6 + s) * pointStride),
                Vector512.Load(m + (12 + s) * pointStride), Vector512.Load(m + (18 + s) * pointStride),
                Vector512.Load(m + (24 + s) * pointStride), Vector512.Load(m + (30 + s) * pointStride),
                out var t0, out var t1, out var t2, out var t3);
            t0.Store(stage + s * 16); t1.Store(stage + (6 + s) * 16); t2.Store(stage + (12 + s) * 16); t3.Store(stage + (18 + s) * 16);
        }
        var b = Vector512.Load(bias);
        bool relu = finishing.Relu;
        for (int i = 0; i < OutputTile; i++)
        {
            float* s = stage + i * InputTile * 16;
            WinogradTransforms.Output(Vector512.Load(s), Vector512.Load(s + 16), Vector512.Load(s + 32), Vector512.Load(s + 48),
                Vector512.Load(s + 64), Vector512.Load(s + 80), out var y0, out var y1, out var y2, out var y3);
            // The finished row goes after the 24 rows of column transforms.
            float* done = stage + (24 + i * 4) * 16;
            Finish(y0, b, relu).Store(done); Finish(y1, b, relu).Store(done + 16);
            Finish(y2, b, relu).Store(done + 32); Finish(y3, b, relu).Store(done + 48);
        }
        float* finished = stage + 24 * 16, byFilter = finished + 16 * 16;
        if (finishing.Pool2x2)
        {
            StorePooled16(finished, byFilter, corner, plane, outWidth, rows / 2, columns / 2);
            return;
        }
        // Position-major (16 filters per position) to filter-major (each filter's 4x4 block in row order).
        Transpose16.Block(finished, 16, byFilter, 16);
        for (int lane = 0; lane < 16; lane++)
        {
            float* o = corner + lane * plane;
            float* block = byFilter + lane * 16;
            if (rows == OutputTile && columns == OutputTile)
            {
                Vector128.Load(block).Store(o);
                Vector128.Load(block + 4).Store(o + outWidth);
                Vector128.Load(block + 8).Store(o + 2 * outWidth);
                Vector128.Load(block + 12).Store(o + 3 * outWidth);
                continue;
            }
            for (int i = 0; i < rows; i++)
            for (int j = 0; j < columns; j++)
                o[i * outWidth + j] = block[i * 4 + j];
        }
    }

    /// <summary>The maxima of a finished tile's four 2x2 blocks (16 filters per position, position-major) into
    /// <paramref name="pooled"/>, then the first <paramref name="rows"/> x <paramref name="columns"/> of them stored into each
    /// filter's pooled plane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StorePooled16(float* finished, float* pooled, float* corner, long plane, int outWidth, int rows, int columns)
    {
        for (int pi = 0; pi < 2; pi++)
        for (int pj = 0; pj < 2; pj++)
        {
            float* top = finished + (2 * pi * OutputTile + 2 * pj) * 16, bottom = top + OutputTile * 16;
            // In window order, by the pool's own rule (the first maximum, or the last NaN).
            var max = Vector512.Load(top);
            max = Pooling.Fold(max, Vector512.Load(top + 16));
            max = Pooling.Fold(max, Vector512.Load(bottom));
            max = Pooling.Fold(max, Vector512.Load(bottom + 16));
            max.Store(pooled + (pi * 2 + pj) * 16);
        }
        for (int lane = 0; lane < 16; lane++)
        {
            float* o = corner + lane * plane;
            for (int i = 0; i < rows; i++)
            for (int j = 0; j < columns; j++)
                o[i * outWidth + j] = pooled[(i * 2 + j) * 16 + lane];
        }
    }

    /// <summary><see cref="OutputTile16"/> for 8 filters (AVX2 and FMA): columns first, then rows, then each filter's
    /// block (or its 2x2 maxima, in window order) stored value by value.</summary>
    // Compiled on its own: inlined into TransformOutput next to OutputTile16, it ran the JIT's inlining budget out and
    // its vector loads, stores and transforms stayed calls (64 x 56 x 56's output transform about 1 ms).
    [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.NoInlining)]
    private static void OutputTile8(float* m, long pointStride, float* bias, float* corner, long plane, int outWidth, int rows, int columns,
        Finishing finishing, float* stage)
    {
        for (int s = 0; s < InputTile; s++)
        {
            WinogradTransforms.Output(Vector256.Load(m + s * pointStride), Vector256.Load(m + (6 + s) * pointStride),
                Vector256.Load(m + (12 + s) * pointStride), Vector256.Load(m + (18 + s) * pointStride),
                Vector256.Load(m + (24 + s) * pointStride), Vector256.Load(m + (30 + s) * pointStride),
                out var t0, out var t1, out var t2, out var t3);
            t0.Store(stage + s * 8); t1.Store(stage + (6 + s) * 8); t2.Store(stage + (12 + s) * 8); t3.Store(stage + (18 + s) * 8);
        }
        var b = Vector256.Load(bias);
        var activation = finishing.Relu ? FusedActivation.Relu : FusedActivation.None;
        // The finished values, 8 filters per position, after the 24 rows of column transforms.
        float* finished = stage + 24 * 8;
        for (int i = 0; i < OutputTile; i++)
        {
            float* s = stage + i * InputTile * 8;
            WinogradTransforms.Output(Vector256.Load(s), Vector256.Load(s + 8), Vector256.Load(s + 16), Vector256.Load(s + 24),
                Vector256.Load(s + 32), Vector256.Load(s + 40), out var y0, out var y1, out var y2, out var y3);
            float* done = finished + i * 4 * 8;
            Activate.Apply(y0 + b, activation).Store(done); Activate.Apply(y1 + b, activation).Store(done + 8);
            Activate.Apply(y2 + b, activation).Store(done + 16); Activate.Apply(y3 + b, activation).Store(done + 24);
        }
        if (finishing.Pool2x2)
        {
            float* pooled = finished + 16 * 8;
            for (int pi = 0; pi < 2; pi++)
            for (int pj = 0; pj < 2; pj++)
            {
                float* top = finished + (2 * pi * OutputTile + 2 * pj) * 8, bottom = top + OutputTile * 8;
                var max = Vector256.Load(top);
                max = Pooling.Fold(max, Vector256.Load(top + 8));
                max = Pooling.Fold(max, Vector256.Load(bottom));
                max = Pooling.Fold(max, Vector256.Load(bottom + 8));
                max.Store(pooled + (pi * 2 + pj) * 8);
            }
            for (int lane = 0; lane < 8; lane++)
            for (int i = 0; i < rows / 2; i++)
            for (int j = 0; j < columns / 2; j++)
                corner[lane * plane + i * outWidth + j] = pooled[(i * 2 + j) * 8 + lane];
            return;
        }
        if (rows == OutputTile && columns == OutputTile)
        {
            // Position-major (8 filters per position) to filter-major: two 8 x 8 transposes, then each filter's four
            // rows of four stored whole.
            float* byFilter = finished + 16 * 8;
            Transpose8.Block(finished, 8, byFilter, 16);
            Transpose8.Block(finished + 8 * 8, 8, byFilter + 8, 16);
            for (int lane = 0; lane < 8; lane++)
            for (int i = 0; i < OutputTile; i++)
                Vector128.Load(byFilter + lane * 16 + i * OutputTile).Store(corner + lane * plane + i * outWidth);
            return;
        }
        for (int lane = 0; lane < 8; lane++)
        for (int i = 0; i < rows; i++)
        for (int j = 0; j < columns; j++)
            corner[lane * plane + i * outWidth + j] = finished[(i * OutputTile + j) * 8 + lane];
    }

    /// <summary>One tile's output transform for one filter, the operations of <see cref="OutputTile16"/>.</summary>
    private static void OutputTile1(float* m, long pointStride, float bias, float* corner, int outWidth, int rows, int columns, Finishing finishing)
    {
        float* t = stackalloc float[OutputTile * InputTile];
        for (int s = 0; s < InputTile; s++)
            WinogradTransforms.Output(m[s * pointStride], m[(6 + s) * pointStride], m[(12 + s) * pointStride], m[(18 + s) * pointStride],
                m[(24 + s) * pointStride], m[(30 + s) * pointStride], out t[s], out t[6 + s], out t[12 + s], out t[18 + s]);
        float* y = stackalloc float[OutputTile];
        float* finished = stackalloc float[OutputTile * OutputTile];
        var activation = finishing.Relu ? FusedActivation.Relu : FusedActivation.None;
        for (int i = 0; i < OutputTile; i++)
        {
            float* s = t + i * InputTile;
            WinogradTransforms.Output(s[0], s[1], s[2], s[3], s[4], s[5], out y[0], out y[1], out y[2], out y[3]);
            for (int j = 0; j < OutputTile; j++) finished[i * OutputTile + j] = Activate.Apply(y[j] + bias, activation);
        }
        if (finishing.Pool2x2)
        {
            for (int i = 0; i < rows / 2; i++)
            for (int j = 0; j < columns / 2; j++)
            {
                float* top = finished + 2 * i * OutputTile + 2 * j, bottom = top + OutputTile;
                corner[i * outWidth + j] = Pooling.Fold(Pooling.Fold(Pooling.Fold(top[0], top[1]), bottom[0]), bottom[1]);
            }
            return;
        }
        for (int i = 0; i < rows; i++)
        for (int j = 0; j < columns; j++)
            corner[i * outWidth + j] = finished[i * OutputTile + j];
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Finish(Vector512<float> sum, Vector512<float> bias, bool relu) =>
        Activate.Apply(sum + bias, relu ? FusedActivation.Relu : FusedActivation.None);

    private static void CheckRange(int filters, int f0, int f1, string method)
    {
        if (f0 < 0 || f1 > filters || f0 >= f1)
            throw new ArgumentOutOfRangeException(nameof(f0), $"Winograd3x3.{method}: the filter range [{f0}, {f1}) is not a non-empty part of [0, {filters}).");
    }
}
