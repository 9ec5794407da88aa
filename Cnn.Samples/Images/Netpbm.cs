using System.Text;

namespace CnnGen.Samples.Images;

/// <summary>
/// Netpbm grey (PGM: P5 binary, P2 plain) and colour (PPM: P6 binary, P3 plain) maps, 8 or 16 bits per value. The
/// image library has no reader for them, so this one does, with the same care: the header is read first and every
/// number in it checked, so a malformed or oversized file is refused before any pixel is allocated.
/// </summary>
internal static class Netpbm
{
    /// <summary>The header: size, values per pixel (1 grey, 3 colour), the largest value, where the pixels start.</summary>
    public sealed record Header(int Width, int Height, int Channels, int MaxValue, bool Plain, int DataOffset);

    /// <summary>Reads and checks the header. Throws <see cref="InvalidDataException"/> naming what is wrong.</summary>
    public static Header ReadHeader(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length < 2 || bytes[0] != 'P' || bytes[1] is not ((byte)'2' or (byte)'3' or (byte)'5' or (byte)'6'))
            throw new InvalidDataException("not a PGM or PPM file: it does not start with P2, P3, P5 or P6");
        char kind = (char)bytes[1];
        int pos = 2;
        long width = Number(bytes, ref pos, "width"), height = Number(bytes, ref pos, "height"), max = Number(bytes, ref pos, "maximum value");
        if (width == 0 || height == 0) throw new InvalidDataException($"PGM/PPM header: the image is {width}x{height}; both sides must be at least 1");
        if (max is 0 or > 65535) throw new InvalidDataException($"PGM/PPM header: maximum value {max} is outside 1..65535");
        if (pos >= bytes.Length || !IsSpace(bytes[pos])) throw new InvalidDataException("PGM/PPM header ends without the white space before the pixels");
        ImageLimits.Check((int)Math.Min(width, int.MaxValue), (int)Math.Min(height, int.MaxValue), "PGM/PPM");
        return new Header((int)width, (int)height, kind is '3' or '6' ? 3 : 1, (int)max, kind is '2' or '3', pos + 1);
    }

    /// <summary>Decodes to <paramref name="channels"/> values per pixel (1: grey by luminance, 3: RGB).</summary>
    public static Picture Decode(ReadOnlySpan<byte> bytes, int channels)
    {
        var header = ReadHeader(bytes);
        int pixels = header.Width * header.Height, count = pixels * header.Channels;
        var values = new float[count];
        if (header.Plain)
        {
            int pos = header.DataOffset;
            for (int i = 0; i < count; i++)
            {
                long value = Number(bytes, ref pos, $"value {i}");
                if (value > header.MaxValue) throw new InvalidDataException($"PGM/PPM value {i} ({value}) is above the maximum {header.MaxValue}");
                values[i] = value / (float)header.MaxValue;
            }
        }
        else
        {
            int size = header.MaxValue < 256 ? 1 : 2;
            long expected = (long)count * size, present = bytes.Length - header.DataOffset;
            if (present < expected) throw new InvalidDataException($"PGM/PPM truncated: {expected} pixel bytes expected, {present} present");
            var data = bytes[header.DataOffset..];
            for (int i = 0; i < count; i++)
            {
                int value = size == 1 ? data[i] : data[2 * i] << 8 | data[2 * i + 1];
                if (value > header.MaxValue) throw new InvalidDataException($"PGM/PPM value {i} ({value}) is above the maximum {header.MaxValue}");
                values[i] = value / (float)header.MaxValue;
            }
        }
        return Convert(header, values, channels);
    }

    /// <summary>Interleaved values to C,H,W planes with the channels asked for.</summary>
    private static Picture Convert(Header header, float[] interleaved, int channels)
    {
        int pixels = header.Width * header.Height;
        var planes = new float[channels * pixels];
        for (int p = 0; p < pixels; p++)
        {
            if (header.Channels == 1)
                for (int c = 0; c < channels; c++) planes[c * pixels + p] = interleaved[p];
            else if (channels == 3)
                for (int c = 0; c < 3; c++) planes[c * pixels + p] = interleaved[3 * p + c];
            else
            {
                float grey = Luminance(interleaved[3 * p], interleaved[3 * p + 1], interleaved[3 * p + 2]);
                for (int c = 0; c < channels; c++) planes[c * pixels + p] = grey;
            }
        }
        return new Picture(header.Width, header.Height, channels, planes);
    }

    /// <summary>The luminance the image library uses for colour to grey (ITU-R BT.601 weights).</summary>
    public static float Luminance(float r, float g, float b) => 0.299f * r + 0.587f * g + 0.114f * b;

    private static bool IsSpace(byte b) => b is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\r' or 0x0B or 0x0C;

    /// <summary>The next decimal number after white space and comments; refuses anything else by name.</summary>
    private static long Number(ReadOnlySpan<byte> bytes, ref int pos, string what)
    {
        while (pos < bytes.Length && (IsSpace(bytes[pos]) || bytes[pos] == '#'))
        {
            if (bytes[pos] == '#') while (pos < bytes.Length && bytes[pos] != '\n') pos++;
            else pos++;
        }
        if (pos >= bytes.Length) throw new InvalidDataException($"PGM/PPM ends before the {what}");
        int start = pos;
        long value = 0;
        while (pos < bytes.Length && bytes[pos] is >= (byte)'0' and <= (byte)'9')
        {
            value = Math.Min(value * 10 + (bytes[pos] - '0'), int.MaxValue + 1L);  // saturates: the limits refuse it
            pos++;
        }
        if (pos == start || (pos < bytes.Length && !IsSpace(bytes[pos]) && bytes[pos] != '#'))
        {
            int end = start;
            while (end < bytes.Length && end - start < 16 && !IsSpace(bytes[end])) end++;
            throw new InvalidDataException($"PGM/PPM {what} '{Encoding.Latin1.GetString(bytes[start..end])}' is not a whole number");
        }
        return value;
    }
}
