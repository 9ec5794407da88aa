namespace CnnGen.Kernels;

/// <summary>
/// <see cref="Winograd3x3.Forward"/> split by its 36 points instead of by tiles or filters, for a layer over threads that
/// has too few tiles to share out and too few filters for two ranges of them (DenseNet-121's 128 -> 32 layers at 7x7:
/// 4 tiles, one panel of 32 filters): each range of points transforms every tile's input (a small map's is cheap),
/// multiplies those points' matrices with only their share of the transformed weights, and writes its products into one
/// buffer all ranges share (<see cref="ForwardPoints"/>); once every range is done, ranges of tiles turn the products
/// back into outputs (<see cref="FinishTiles"/>). Each product and each output transform is the one
/// <see cref="Winograd3x3.Forward"/> computes for all tiles as one block (<see cref="FitsOneBlock"/>), so any ranges on
/// any threads give its bits.
/// </summary>
public static unsafe partial class Winograd3x3
{
    /// <summary>Whether <see cref="ForwardPoints"/> and <see cref="FinishTiles"/> give <see cref="Forward"/>'s bits for
    /// these images: <see cref="Forward"/> then multiplies all their tiles as one block.</summary>
    public static bool FitsOneBlock(int images, int channels, int filters, int outHeight, int outWidth)
    {
        int tiles = images * TilesPerImage(outHeight, outWidth);
        return BlockTiles(tiles, channels, filters) >= tiles;
    }

    /// <summary>Values of the products buffer the ranges share: <c>M[36][tiles][filters]</c>, each point's plane
    /// <see cref="PlaneStride"/> long.</summary>
    public static long ProductsLength(int images, int filters, int outHeight, int outWidth) =>
        Points * PlaneStride(images * TilesPerImage(outHeight, outWidth), filters);

    /// <summary>Values of the scratch one range of <see cref="ForwardPoints"/> needs for the transformed input of every
    /// tile, <c>V[36][tiles][channels]</c>.</summary>
    public static long PointScratchLength(int images, int channels, int outHeight, int outWidth) =>
        Points * PlaneStride(images * TilesPerImage(outHeight, outWidth), channels);

    /// <summary>
    /// Points [<paramref name="firstPoint"/>, <paramref name="endPoint"/>) of the products <c>M[p] = V[p] * U[p]</c> of
    /// every tile and filter into <paramref name="products"/> (<see cref="ProductsLength"/>), from the images
    /// <see cref="PadChannelLast"/> laid out; <paramref name="scratch"/> (<see cref="PointScratchLength"/>, one per
    /// thread) receives every tile's transformed input. The images must fit one block (<see cref="FitsOneBlock"/>).
    /// </summary>
    public static void ForwardPoints(ReadOnlySpan<float> padded, int images, ReadOnlySpan<float> transformedWeight, Span<float> products,
        Span<float> scratch, int channels, int filters, int outHeight, int outWidth, int firstPoint, int endPoint)
    {
        if (firstPoint < 0 || endPoint > Points || firstPoint > endPoint)
            throw new ArgumentOutOfRangeException(nameof(firstPoint), $"Winograd3x3.ForwardPoints: points [{firstPoint}, {endPoint}) are not within the {Points} points.");
        if (!FitsOneBlock(images, channels, filters, outHeight, outWidth))
            throw new ArgumentException($"Winograd3x3.ForwardPoints: the tiles of {images} image(s) of {outHeight}x{outWidth} make more than one block of {channels} channels and {filters} filters.");
        var shape = Shape.Of(channels, filters, outHeight, outWidth);
        int tiles = images * shape.TilesHigh * shape.TilesWide;
        if (padded.Length < PaddedLength(images, channels, outHeight, outWidth) || transformedWeight.Length < TransformedWeightLength(filters, channels)
            || products.Length < ProductsLength(images, filters, outHeight, outWidth) || scratch.Length < PointScratchLength(images, channels, outHeight, outWidth))
            throw new ArgumentException("Winograd3x3.ForwardPoints: spans too short for the given shape.");
        if (firstPoint == endPoint) return;
        fixed (float* ppad = padded, pv = scratch, pm = products)
        {
            TransformInput(ppad, pv, shape, 0, tiles);
            // Every filter, as the whole layer's block; after the range's last point, another range's weights: none asked for.
            MultiplyPoints(pv, PlaneStride(tiles, channels), transformedWeight.Slice(0, (int)TransformedWeightLength(filters, channels)), channels * filters,
                offset: 0, pm, PlaneStride(tiles, filters), tiles, filters, channels, firstPoint, endPoint, afterLast: null);
        }
    }

    /// <summary>
    /// Tiles [<paramref name="firstTile"/>, <paramref name="endTile"/>) of every filter from the products of all points
    /// (<see cref="ForwardPoints"/>): each tile's output transform, the bias, the fused ReLU, into those tiles' outputs
    /// only.
    /// </summary>
    public static void FinishTiles(ReadOnlySpan<float> products, int images, ReadOnlySpan<float> bias, Span<float> output,
        int filters, int outHeight, int outWidth, int firstTile, int endTile, bool relu = false)
    {
        var shape = Shape.Of(0, filters, outHeight, outWidth);
        int tiles = images * shape.TilesHigh * shape.TilesWide;
        if (firstTile < 0 || endTile > tiles || firstTile > endTile)
            throw new ArgumentOutOfRangeException(nameof(firstTile), $"Winograd3x3.FinishTiles: tiles [{firstTile}, {endTile}) are not within the {tiles} tiles of {images} image(s).");
        if (products.Length < ProductsLength(images, filters, outHeight, outWidth) || bias.Length < filters
            || output.Length < (long)images * filters * outHeight * outWidth)
            throw new ArgumentException("Winograd3x3.FinishTiles: spans too short for the given shape.");
        if (firstTile == endTile) return;
        fixed (float* pm = products, pb = bias, pout = output)
            TransformOutput(pm + (long)firstTile * filters, PlaneStride(tiles, filters), pb, pout, shape, firstTile, endTile - firstTile, 0, filters,
                new Finishing(relu, false));
    }
}
