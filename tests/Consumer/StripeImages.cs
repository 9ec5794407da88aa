using CnnGen.Data;

namespace Consumer;

/// <summary>Generated 28x28 images whose class is the row band (0 to 9) that holds a bright stripe, with noise.</summary>
internal static class StripeImages
{
    public const int Side = 28;
    public const int Classes = 10;

    public static Dataset Create(int count, int seed)
    {
        var random = new Random(seed);
        var images = new float[count * Side * Side];
        var labels = new int[count];
        for (int i = 0; i < count; i++)
        {
            labels[i] = i % Classes;
            Draw(images.AsSpan(i * Side * Side, Side * Side), labels[i], random);
        }
        return new Dataset(images, labels, 1, Side, Side, Classes);
    }

    public static float[] Image(int label, int seed)
    {
        var image = new float[Side * Side];
        Draw(image, label, new Random(seed));
        return image;
    }

    private static void Draw(Span<float> image, int label, Random random)
    {
        int top = 1 + label * 26 / Classes;
        for (int y = 0; y < Side; y++)
            for (int x = 0; x < Side; x++)
            {
                float noise = 0.2f * random.NextSingle();
                image[y * Side + x] = y >= top && y < top + 2 ? 0.8f + noise : noise;
            }
    }
}
