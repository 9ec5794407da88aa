using System.Diagnostics;

namespace CnnGen.EngineRace;

/// <summary>Sorted results of timed repeats (seconds per call, or a quantity derived from them).</summary>
internal sealed record Timings(double[] Sorted)
{
    /// <summary>Each repeat makes enough calls to last about this long, so short calls are not lost in the clock's noise.</summary>
    private const double SecondsPerRepeat = 0.25;

    public double Median => Sorted[Sorted.Length / 2];
    public double Min => Sorted[0];
    public double Max => Sorted[^1];

    /// <summary>One warm-up call, a warm-up repeat, then <paramref name="repeats"/> repeats of the mean time of a call.</summary>
    public static Timings Measure(int repeats, Action call)
    {
        var clock = Stopwatch.StartNew();
        call();
        double first = Math.Max(clock.Elapsed.TotalSeconds, 1e-7);
        int calls = (int)Math.Clamp(Math.Ceiling(SecondsPerRepeat / first), 1, 100_000);
        for (int i = 0; i < calls; i++) call();
        var times = new double[repeats];
        for (int r = 0; r < repeats; r++)
        {
            clock.Restart();
            for (int i = 0; i < calls; i++) call();
            times[r] = clock.Elapsed.TotalSeconds / calls;
        }
        Array.Sort(times);
        return new Timings(times);
    }

    public Timings Scaled(double factor) => new(Sorted.Select(s => s * factor).ToArray());

    /// <summary>Seconds per call turned into items per second (the order flips, so sort again).</summary>
    public Timings PerSecond(int items) => new(Sorted.Select(s => items / s).Order().ToArray());
}
