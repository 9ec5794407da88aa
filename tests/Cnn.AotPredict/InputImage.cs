using System.Buffers.Binary;
using System.Text;

namespace CnnGen.AotPredict;

/// <summary>One input image: a binary PGM (P5, 8-bit grey, scaled to [0, 1]) or a raw file of little-endian float32
/// values, already preprocessed, exactly as many as the network's input.</summary>
internal static class InputImage
{
    /// <summary>Reads the image; <paramref name="isPicture"/> says whether it was a PGM (which still needs the mean subtracted).</summary>
    public static float[] Read(string path, int width, int height, out bool isPicture)
    {
        var bytes = File.ReadAllBytes(path);
        isPicture = bytes.Length >= 2 && bytes[0] == 'P' && bytes[1] == '5';
        return isPicture ? ReadPgm(path, bytes, width, height) : ReadFloats(path, bytes, width * height);
    }

    private static float[] ReadFloats(string path, byte[] bytes, int count)
    {
        if (bytes.Length != count * sizeof(float))
            throw new InvalidDataException($"{path} has {bytes.Length} bytes; a raw float32 image for this network has {count * sizeof(float)} ({count} values), and a PGM starts with P5.");
        var values = new float[count];
        for (int i = 0; i < count; i++)
            values[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(i * sizeof(float)));
        return values;
    }

    private static float[] ReadPgm(string path, byte[] bytes, int width, int height)
    {
        int position = 2;
        int fileWidth = NextNumber(bytes, ref position, path), fileHeight = NextNumber(bytes, ref position, path);
        int maxValue = NextNumber(bytes, ref position, path);
        position++; // the single whitespace byte before the pixels
        if (fileWidth != width || fileHeight != height)
            throw new InvalidDataException($"{path} is {fileWidth}x{fileHeight}; the network takes {width}x{height} images.");
        if (maxValue is < 1 or > 255)
            throw new InvalidDataException($"{path} has maximum value {maxValue}; only 8-bit PGM images (at most 255) are read.");
        if (bytes.Length - position < width * height)
            throw new InvalidDataException($"{path} is truncated: {bytes.Length - position} of {width * height} pixels.");
        var values = new float[width * height];
        for (int i = 0; i < values.Length; i++)
            values[i] = bytes[position + i] / (float)maxValue;
        return values;
    }

    /// <summary>The next decimal number of a PGM header, skipping whitespace and # comments.</summary>
    private static int NextNumber(byte[] bytes, ref int position, string path)
    {
        while (position < bytes.Length && (char.IsWhiteSpace((char)bytes[position]) || bytes[position] == '#'))
        {
            if (bytes[position] == '#')
                while (position < bytes.Length && bytes[position] != '\n') position++;
            else position++;
        }
        int start = position;
        while (position < bytes.Length && char.IsAsciiDigit((char)bytes[position])) position++;
        if (position == start || position - start > 9)
            throw new InvalidDataException($"{path} has no valid PGM header (expected a number at byte {start}).");
        return int.Parse(Encoding.ASCII.GetString(bytes, start, position - start), System.Globalization.CultureInfo.InvariantCulture);
    }
}
