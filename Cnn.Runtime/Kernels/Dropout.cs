using System.Runtime.CompilerServices;

namespace CnnGen.Kernels;

/// <summary>
/// Inverted dropout. A value's fate depends only on (seed, step, image index within the batch, unit): a hash, not a
/// stream of random numbers, so masks are the same whatever the thread count or micro-batch, and a resumed run
/// draws the masks the uninterrupted run would have.
/// </summary>
public static class Dropout
{
    /// <summary>Fills <paramref name="mask"/> (images x units) with 0 (dropped, probability <paramref name="rate"/>) or <c>1 / (1 - rate)</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Mask(Span<float> mask, ulong seed, long step, int firstImage, int images, int units, float rate)
    {
        if (mask.Length < (long)images * units) throw new ArgumentException("Dropout.Mask: the mask is too short.");
        float keep = 1f / (1f - rate);
        // A value is dropped when the top 24 bits of its hash, as a fraction, fall below the rate.
        uint threshold = (uint)Math.Min(1L << 24, (long)Math.Round(rate * (double)(1 << 24)));
        for (int b = 0; b < images; b++)
        {
            ulong key = seed * 0x9E3779B97F4A7C15UL + (ulong)step * 0xD1B54A32D192ED03UL + (ulong)(firstImage + b) * 0x8CB92BA72F3D8DD7UL;
            var row = mask.Slice(b * units, units);
            for (int u = 0; u < units; u++)
                row[u] = (uint)(Mix(key + (ulong)u * 0xA24BAED4963EE407UL) >> 40) < threshold ? 0f : keep;
        }
    }

    /// <summary><c>y = x * mask</c>, one multiplication per value.</summary>
    public static void Apply(ReadOnlySpan<float> x, ReadOnlySpan<float> mask, Span<float> y) =>
        System.Numerics.Tensors.TensorPrimitives.Multiply(x, mask[..x.Length], y[..x.Length]);

    /// <summary>SplitMix64's finaliser.</summary>
    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
