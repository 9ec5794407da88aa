namespace CnnGen.Tests.Kernels;

/// <summary>Inputs and weights for kernel tests: values drawn uniformly from [-scale, scale).</summary>
internal static class UniformValues
{
    public static float[] Make(Random random, int count, float scale)
    {
        var values = new float[count];
        for (int i = 0; i < count; i++) values[i] = (float)(random.NextDouble() * 2 - 1) * scale;
        return values;
    }
}
