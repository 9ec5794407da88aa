namespace CnnGen.Samples.Images;

/// <summary>A decoded picture: values in [0, 1], channel by channel (C, H, W), each channel row by row.</summary>
internal sealed record Picture(int Width, int Height, int Channels, float[] Pixels)
{
    /// <summary>One channel's values.</summary>
    public ReadOnlySpan<float> Channel(int c) => Pixels.AsSpan(c * Width * Height, Width * Height);

    /// <summary>Area-averaged (box filter) resize of every channel; sampling at pixel centres when enlarging.</summary>
    public Picture Resize(int width, int height)
    {
        if (width == Width && height == Height) return this;
        var result = new float[Channels * width * height];
        for (int c = 0; c < Channels; c++)
        {
            var source = Channel(c);
            var target = result.AsSpan(c * width * height, width * height);
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
                    sum += source[sy * Width + sx] * wy * wx;
                    area += wy * wx;
                }
                target[y * width + x] = (float)(sum / area);
            }
        }
        return new Picture(width, height, Channels, result);
    }
}
