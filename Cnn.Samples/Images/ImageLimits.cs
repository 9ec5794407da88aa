namespace CnnGen.Samples.Images;

/// <summary>The largest picture decoded: checked on the header's dimensions, before any pixel is allocated.</summary>
internal static class ImageLimits
{
    /// <summary>16 megapixels (4096x4096): 64 MB of RGBA at most, far more than a 28x28 network needs.</summary>
    public const long MaxPixels = 4096L * 4096;

    /// <summary>Largest picture file read from disk.</summary>
    public const long MaxFileBytes = 64L * 1024 * 1024;

    public static void Check(int width, int height, string format)
    {
        if (width <= 0 || height <= 0)
            throw new InvalidDataException($"{format} header says {width}x{height}; both sides must be at least 1");
        if ((long)width * height > MaxPixels)
            throw new InvalidDataException($"{format} image is {width}x{height} ({(long)width * height:N0} pixels); at most {MaxPixels:N0} pixels are decoded");
    }
}
