namespace CnnGen.Tests.Kernels;

/// <summary>Seeded values of both signs whose magnitudes run from 1e-3 to 1e5, so that a sum's bits depend on the order
/// of its additions.</summary>
internal static class MixedMagnitudes
{
    public static float[] Values(int length, int seed)
    {
        var random = new Random(seed);
        var x = new float[length];
        for (int i = 0; i < length; i++)
            x[i] = (float)((random.NextDouble() * 2 - 1) * Math.Pow(10, random.Next(-3, 6)));
        return x;
    }
}
