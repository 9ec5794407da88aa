namespace CnnGen.Samples.Images;

/// <summary>The picture formats read, recognised by their first bytes.</summary>
internal enum ImageFormat
{
    Unknown,
    Png,
    Jpeg,
    Bmp,

    /// <summary>Netpbm grey and colour maps (PGM, PPM).</summary>
    Netpbm,
}

internal static class ImageFormats
{
    /// <summary>The format whose signature <paramref name="bytes"/> starts with.</summary>
    public static ImageFormat Sniff(ReadOnlySpan<byte> bytes)
    {
        if (bytes.StartsWith((ReadOnlySpan<byte>)[0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A])) return ImageFormat.Png;
        if (bytes.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xD8, 0xFF])) return ImageFormat.Jpeg;
        if (bytes.StartsWith("BM"u8)) return ImageFormat.Bmp;
        if (bytes.Length >= 2 && bytes[0] == 'P' && bytes[1] is (byte)'2' or (byte)'3' or (byte)'5' or (byte)'6') return ImageFormat.Netpbm;
        return ImageFormat.Unknown;
    }

    /// <summary>The format a media type names, e.g. <c>image/png</c>; <see cref="ImageFormat.Unknown"/> for others.</summary>
    public static ImageFormat FromMediaType(string? mediaType) => mediaType?.ToLowerInvariant() switch
    {
        "image/png" => ImageFormat.Png,
        "image/jpeg" or "image/jpg" or "image/pjpeg" => ImageFormat.Jpeg,
        "image/bmp" or "image/x-bmp" or "image/x-ms-bmp" => ImageFormat.Bmp,
        "image/x-portable-graymap" or "image/x-portable-pixmap" or "image/x-portable-anymap" or "image/x-portable-bitmap" => ImageFormat.Netpbm,
        _ => ImageFormat.Unknown,
    };

    public static string Name(ImageFormat format) => format switch
    {
        ImageFormat.Png => "PNG",
        ImageFormat.Jpeg => "JPEG",
        ImageFormat.Bmp => "BMP",
        ImageFormat.Netpbm => "PGM/PPM",
        _ => "unknown",
    };
}
