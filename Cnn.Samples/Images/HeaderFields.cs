using System.Buffers.Binary;

namespace CnnGen.Samples.Images;

/// <summary>The few header fields read before the image library sees a file: the size a PNG or BMP declares (so an
/// absurd one is refused by name) and whether an uncompressed BMP holds all its rows (the library would read zeros
/// past the end).</summary>
internal static class HeaderFields
{
    /// <summary>The width and height in a PNG's IHDR or a BMP's info header; null when the file is too short to say.</summary>
    public static (int Width, int Height)? DeclaredSize(ReadOnlySpan<byte> bytes, ImageFormat format)
    {
        switch (format)
        {
            case ImageFormat.Png when bytes.Length >= 24 && bytes[12..16].SequenceEqual("IHDR"u8):
                return (Saturate(BinaryPrimitives.ReadUInt32BigEndian(bytes[16..])), Saturate(BinaryPrimitives.ReadUInt32BigEndian(bytes[20..])));
            case ImageFormat.Bmp when bytes.Length >= 26 && BinaryPrimitives.ReadInt32LittleEndian(bytes[14..]) >= 40:
                int height = BinaryPrimitives.ReadInt32LittleEndian(bytes[22..]);
                return (BinaryPrimitives.ReadInt32LittleEndian(bytes[18..]), height == int.MinValue ? int.MaxValue : Math.Abs(height));
            default:
                return null;
        }
    }

    /// <summary>Refuses an uncompressed BMP shorter than its pixel offset plus its rows.</summary>
    public static void CheckBmpLength(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length < 34 || BinaryPrimitives.ReadInt32LittleEndian(bytes[14..]) < 40) return;
        int compression = BinaryPrimitives.ReadInt32LittleEndian(bytes[30..]);
        if (compression != 0) return;  // run-length coded: the library checks as it decodes
        long offset = BinaryPrimitives.ReadUInt32LittleEndian(bytes[10..]);
        long width = BinaryPrimitives.ReadInt32LittleEndian(bytes[18..]), height = Math.Abs((long)BinaryPrimitives.ReadInt32LittleEndian(bytes[22..]));
        int bits = BinaryPrimitives.ReadUInt16LittleEndian(bytes[28..]);
        long stride = (width * bits + 31) / 32 * 4, needed = offset + stride * height;
        if (bytes.Length < needed)
            throw new InvalidDataException($"BMP truncated: {needed} bytes expected for {width}x{height} at {bits} bits, {bytes.Length} present");
    }

    private static int Saturate(uint value) => value > int.MaxValue ? int.MaxValue : (int)value;
}
