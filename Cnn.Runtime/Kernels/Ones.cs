namespace CnnGen.Kernels;

/// <summary>A shared, read-only run of 1.0f values: a row sum is a dot product with it (<c>x * 1 + acc</c> is exact).</summary>
public static class Ones
{
    private static float[] _ones = CreateOnes(4096);

    /// <summary>At least <paramref name="length"/> ones.</summary>
    public static ReadOnlySpan<float> Get(int length)
    {
        var ones = _ones;
        if (ones.Length < length)
        {
            ones = CreateOnes(Math.Max(length, 2 * ones.Length));
            _ones = ones; // a larger array of ones is as good as any other; no lock needed
        }
        return ones.AsSpan(0, length);
    }

    private static float[] CreateOnes(int length)
    {
        var ones = new float[length];
        Array.Fill(ones, 1f);
        return ones;
    }
}
