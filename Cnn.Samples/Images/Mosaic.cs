namespace CnnGen.Samples.Images;

/// <summary>How a map's values become grey levels.</summary>
internal enum GreyScale
{
    /// <summary>Each map's minimum is black and its maximum white (feature maps).</summary>
    MinMax,

    /// <summary>Zero is mid grey, the largest magnitude black or white (filters, edge responses).</summary>
    Signed,
}

/// <summary>Tiles equally sized maps into one grey picture, each enlarged by a whole factor, separated by a dark gap.</summary>
internal static class Mosaic
{
    private const int Gap = 2;
    private const byte GapGrey = 48;

    /// <summary>The enlargement that shows a map of this size about 96 pixels wide.</summary>
    public static int ZoomFor(int height, int width) => Math.Max(1, 96 / Math.Max(height, width));

    public static (byte[] Pixels, int Width, int Height) Build(IReadOnlyList<float[]> maps, int mapHeight, int mapWidth,
        int columns, int zoom, GreyScale scale)
    {
        int rows = (maps.Count + columns - 1) / columns;
        int cellW = mapWidth * zoom, cellH = mapHeight * zoom;
        int width = columns * cellW + (columns + 1) * Gap, height = rows * cellH + (rows + 1) * Gap;
        var pixels = new byte[width * height];
        Array.Fill(pixels, GapGrey);
        for (int m = 0; m < maps.Count; m++)
        {
            var grey = Grey(maps[m], scale);
            int left = Gap + (m % columns) * (cellW + Gap), top = Gap + (m / columns) * (cellH + Gap);
            for (int y = 0; y < cellH; y++)
                for (int x = 0; x < cellW; x++)
                    pixels[(top + y) * width + left + x] = grey[(y / zoom) * mapWidth + x / zoom];
        }
        return (pixels, width, height);
    }

    /// <summary>Splits C,H,W values into C maps of H*W.</summary>
    public static List<float[]> Split(float[] values, int channels)
    {
        int size = values.Length / channels;
        return Enumerable.Range(0, channels).Select(c => values.AsSpan(c * size, size).ToArray()).ToList();
    }

    private static byte[] Grey(float[] map, GreyScale scale)
    {
        var grey = new byte[map.Length];
        if (scale == GreyScale.Signed)
        {
            float largest = map.Max(MathF.Abs);
            for (int i = 0; i < map.Length; i++) grey[i] = (byte)Math.Clamp(MathF.Round(127.5f + 127.5f * (largest > 0 ? map[i] / largest : 0)), 0, 255);
        }
        else
        {
            float min = map.Min(), max = map.Max();
            for (int i = 0; i < map.Length; i++) grey[i] = (byte)(max > min ? MathF.Round(255 * (map[i] - min) / (max - min)) : 0);
        }
        return grey;
    }
}
