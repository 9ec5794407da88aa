namespace CnnGen.Kernels;

/// <summary>A shared, read-only run of 0.0f values: the bias of a convolution that has none (an input gradient computed
/// as a full convolution).</summary>
public static class Zeros
{
    private static float[] _zeros = new float[1024];

    /// <summary>At least <paramref name="length"/> zeros.</summary>
    public static ReadOnlySpan<float> Get(int length)
    {
        var zeros = _zeros;
        if (zeros.Length < length)
        {
            zeros = new float[Math.Max(length, 2 * zeros.Length)];
            _zeros = zeros; // a larger array of zeros is as good as any other; no lock needed
        }
        return zeros.AsSpan(0, length);
    }
}
