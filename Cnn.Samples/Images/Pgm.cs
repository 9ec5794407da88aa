using System.Text;

namespace CnnGen.Samples.Images;

/// <summary>Netpbm grey maps: binary (P5) and plain text (P2), 8 or 16 bits.</summary>
internal static class Pgm
{
    public static GreyImage Read(string path)
    {
        var bytes = File.ReadAllBytes(path);
        int pos = 0;
        string magic = Token(bytes, ref pos);
        int width = int.Parse(Token(bytes, ref pos)), height = int.Parse(Token(bytes, ref pos)), max = int.Parse(Token(bytes, ref pos));
        if (width <= 0 || height <= 0 || max <= 0 || max > 65535) throw new InvalidDataException($"bad PGM header: {width}x{height}, maximum {max}");
        var pixels = new float[width * height];
        if (magic == "P5")
        {
            pos++; // the single white-space character after the maximum
            int size = max < 256 ? 1 : 2;
            if (bytes.Length - pos < (long)pixels.Length * size)
                throw new InvalidDataException($"PGM truncated: {pixels.Length * size} pixel bytes expected, {bytes.Length - pos} present");
            for (int i = 0; i < pixels.Length; i++)
                pixels[i] = (size == 1 ? bytes[pos + i] : bytes[pos + 2 * i] << 8 | bytes[pos + 2 * i + 1]) / (float)max;
        }
        else
        {
            for (int i = 0; i < pixels.Length; i++) pixels[i] = int.Parse(Token(bytes, ref pos)) / (float)max;
        }
        return new GreyImage(width, height, pixels);
    }

    private static string Token(byte[] bytes, ref int pos)
    {
        while (pos < bytes.Length && (char.IsWhiteSpace((char)bytes[pos]) || bytes[pos] == '#'))
        {
            if (bytes[pos] == '#') while (pos < bytes.Length && bytes[pos] != '\n') pos++;
            else pos++;
        }
        int start = pos;
        while (pos < bytes.Length && !char.IsWhiteSpace((char)bytes[pos])) pos++;
        if (start == pos) throw new InvalidDataException("PGM header ends early");
        return Encoding.ASCII.GetString(bytes, start, pos - start);
    }
}
