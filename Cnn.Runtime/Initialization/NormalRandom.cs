namespace CnnGen.Initialization;

/// <summary>
/// Seeded Gaussian numbers that are the same on every machine and runtime: SplitMix64 for uniform bits,
/// Box-Muller in double precision for the normal deviates.
/// </summary>
public sealed class NormalRandom(ulong seed)
{
    private ulong _state = seed;
    private double _spare;
    private bool _hasSpare;

    public NormalRandom(int seed) : this(unchecked((ulong)(long)seed) ^ 0x9E3779B97F4A7C15UL) { }

    /// <summary>Next 64 random bits (SplitMix64).</summary>
    public ulong NextBits()
    {
        ulong z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Uniform in (0, 1): 53 random bits, never 0.</summary>
    public double NextUniform() => ((NextBits() >> 11) + 0.5) * (1.0 / (1UL << 53));

    /// <summary>Uniform integer in [0, count).</summary>
    public int NextInt(int count) => (int)((NextBits() >> 33) * (ulong)count >> 31);

    /// <summary>A standard normal deviate.</summary>
    public double NextNormal()
    {
        if (_hasSpare) { _hasSpare = false; return _spare; }
        double r = Math.Sqrt(-2.0 * Math.Log(NextUniform()));
        double theta = 2.0 * Math.PI * NextUniform();
        _spare = r * Math.Sin(theta);
        _hasSpare = true;
        return r * Math.Cos(theta);
    }

    /// <summary>Fills <paramref name="values"/> with normal deviates of standard deviation <paramref name="std"/>.</summary>
    public void FillNormal(Span<float> values, double std)
    {
        for (int i = 0; i < values.Length; i++) values[i] = (float)(NextNormal() * std);
    }
}
