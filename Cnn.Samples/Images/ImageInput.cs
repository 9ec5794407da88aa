using CnnGen.Data;

namespace CnnGen.Samples.Images;

/// <summary>Reads one image for prediction and scales it to the network's input (grey levels in [0, 1]).</summary>
internal static class ImageInput
{
    public static float[] Read(string path, int index, int channels, int height, int width, bool invert)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"no such file: {path}");
        GreyImage grey;
        var head = new byte[4];
        using (var f = File.OpenRead(path)) f.ReadExactly(head, 0, Math.Min(4, (int)f.Length));
        if (head[0] == 0x89 && head[1] == (byte)'P') grey = Png.Read(path);
        else if (head[0] == (byte)'P' && head[1] is (byte)'2' or (byte)'5') grey = Pgm.Read(path);
        else
        {
            var idx = IdxReader.ReadFloats(path, scaleBytesToUnit: true);
            if (idx.Dimensions.Length != 3) throw new InvalidDataException($"expected an IDX file of images (3 dimensions), found {idx.Dimensions.Length} dimension(s)");
            int count = idx.Dimensions[0], h = idx.Dimensions[1], w = idx.Dimensions[2];
            if (index < 0 || index >= count) throw new ArgumentException($"--index {index} is outside [0, {count})");
            grey = new GreyImage(w, h, idx.Values.AsSpan(index * h * w, h * w).ToArray());
        }
        if (invert)
            for (int i = 0; i < grey.Pixels.Length; i++) grey.Pixels[i] = 1f - grey.Pixels[i];
        var scaled = grey.Resize(width, height);
        var input = new float[channels * height * width];
        for (int c = 0; c < channels; c++) scaled.Pixels.CopyTo(input, c * height * width);
        return input;
    }
}

/// <summary>A grey image, pixels in [0, 1], row by row.</summary>
internal sealed record GreyImage(int Width, int Height, float[] Pixels)
{
    /// <summary>Area-averaged (box filter) resize; sampling at pixel centres when enlarging.</summary>
    public GreyImage Resize(int width, int height)
    {
        if (width == Width && height == Height) return this;
        var result = new float[width * height];
        for (int y = 0; y < height; y++)
        for (int x = 0; x < width; x++)
        {
            double y0 = (double)y * Height / height, y1 = (double)(y + 1) * Height / height;
            double x0 = (double)x * Width / width, x1 = (double)(x + 1) * Width / width;
            double sum = 0, area = 0;
            for (int sy = (int)y0; sy < Math.Min(Height, (int)Math.Ceiling(y1)); sy++)
            for (int sx = (int)x0; sx < Math.Min(Width, (int)Math.Ceiling(x1)); sx++)
            {
                double wy = Math.Min(sy + 1, y1) - Math.Max(sy, y0), wx = Math.Min(sx + 1, x1) - Math.Max(sx, x0);
                sum += Pixels[sy * Width + sx] * wy * wx;
                area += wy * wx;
            }
            result[y * width + x] = (float)(sum / area);
        }
        return new GreyImage(width, height, result);
    }
}
