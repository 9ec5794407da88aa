namespace CnnGen.Kernels;

/// <summary>
/// A range of a small Winograd F(4x4, 3x3) layer's work for one call split over threads, from the NCHW input itself: the
/// range lays out the input rows it reads (channel-last, with the zero border) in a copy of its running thread's own, then
/// computes its tiles or filters from it (<see cref="Winograd3x3.ForwardTiles"/>, <see cref="Winograd3x3.ForwardFilters"/>).
/// The layer then takes one hand-over between threads instead of two (the copy's, then the products'), and no thread waits
/// while another makes a copy that all read. Each range copies the rows its tiles need, so rows at the edge of two ranges
/// are copied twice (the same values); a range of filters copies the whole input. Every output is computed by the same
/// operations as in <see cref="Winograd3x3.Forward"/>, so the ranges give its bits on any number of threads; with
/// <c>pool2x2</c> each tile stores its 2x2 maxima instead, as there.
/// </summary>
public static class WinogradRanges
{
    [ThreadStatic] private static float[]? t_padded;

    /// <summary>Tiles [<paramref name="firstTile"/>, <paramref name="endTile"/>) of all filters (tiles numbered image by
    /// image, row by row of 4x4 output blocks), from the NCHW <paramref name="input"/> of <paramref name="images"/> images.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The tiles are not within the images' tiles.</exception>
    public static void ForwardTiles(ReadOnlySpan<float> input, int images, ReadOnlySpan<float> transformedWeight, ReadOnlySpan<float> bias,
        Span<float> output, int channels, int height, int width, int filters, int padding, int outHeight, int outWidth,
        int firstTile, int endTile, bool relu = false, bool pool2x2 = false)
    {
        int tilesWide = Winograd3x3.Blocks(outWidth), tilesPerImage = Winograd3x3.TilesPerImage(outHeight, outWidth);
        if (firstTile < 0 || endTile > (long)images * tilesPerImage || firstTile > endTile)
            throw new ArgumentOutOfRangeException(nameof(firstTile), $"WinogradRanges.ForwardTiles: tiles [{firstTile}, {endTile}) are not within the {(long)images * tilesPerImage} tiles of {images} image(s).");
        if (firstTile == endTile) return;
        var padded = ThreadPadded(Winograd3x3.PaddedLength(images, channels, outHeight, outWidth));
        // The padded rows of the tile rows [first, last]: a tile row r of image n reads rows 4r .. 4r + 5 of that image's copy.
        int paddedSide = Winograd3x3.PaddedSide(outHeight), tilesHigh = Winograd3x3.Blocks(outHeight);
        int firstRow = firstTile / tilesWide, lastRow = (endTile - 1) / tilesWide; // tile rows, numbered over all images
        for (int n = firstRow / tilesHigh; n <= lastRow / tilesHigh; n++)
        {
            int from = Math.Max(firstRow, n * tilesHigh) - n * tilesHigh, to = Math.Min(lastRow, n * tilesHigh + tilesHigh - 1) - n * tilesHigh;
            Winograd3x3.PadChannelLastRows(input, images, padded, channels, height, width, padding, outHeight, outWidth,
                firstRow: n * paddedSide + from * Winograd3x3.OutputTile, endRow: n * paddedSide + to * Winograd3x3.OutputTile + Winograd3x3.InputTile);
        }
        var scratch = Winograd3x3.ThreadScratch(Winograd3x3.ScratchLength(images, channels, filters, outHeight, outWidth));
        Winograd3x3.ForwardTiles(padded, images, transformedWeight, bias, output, scratch, channels, filters, outHeight, outWidth, firstTile, endTile, relu, pool2x2);
    }

    /// <summary>Filters [<paramref name="firstFilter"/>, <paramref name="endFilter"/>) (whole panels of 32 when the
    /// filters are, as <see cref="Winograd3x3.ForwardFilters"/> takes them) of every tile, from the NCHW
    /// <paramref name="input"/>.</summary>
    public static void ForwardFilters(ReadOnlySpan<float> input, int images, ReadOnlySpan<float> transformedWeight, ReadOnlySpan<float> bias,
        Span<float> output, int channels, int height, int width, int filters, int padding, int outHeight, int outWidth,
        int firstFilter, int endFilter, bool relu = false, bool pool2x2 = false)
    {
        var padded = ThreadPadded(Winograd3x3.PaddedLength(images, channels, outHeight, outWidth));
        Winograd3x3.PadChannelLast(input, images, padded, channels, height, width, padding, outHeight, outWidth);
        var scratch = Winograd3x3.ThreadScratch(Winograd3x3.ScratchLength(images, channels, endFilter - firstFilter, outHeight, outWidth));
        Winograd3x3.ForwardFilters(padded, images, transformedWeight, bias, output, scratch, channels, filters, outHeight, outWidth, firstFilter, endFilter, relu, pool2x2);
    }

    /// <summary>The running thread's own channel-last copy, of at least <paramref name="length"/> values; made once per
    /// thread and grown when too short. A range writes the rows it reads before it reads them.</summary>
    private static Span<float> ThreadPadded(long length)
    {
        return ThreadScratch.AtLeast(ref t_padded, length);
    }
}
