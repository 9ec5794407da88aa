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

    /// <summary>Warm-up: calls for at least this long (and <see cref="WarmUpCalls"/> calls, unless that would take more
    /// than <see cref="WarmUpLimitSeconds"/>). .NET runs a method's first calls as unoptimised code and recompiles it
    /// optimised only after some tens of calls, in the background: a warm-up of a few calls leaves the measured repeats
    /// partly in the slow code (a CIFAR-size one-image pass took 2.5-7 ms per call there against 0.4-0.6 ms after).</summary>
    private const double WarmUpSeconds = 0.5, WarmUpLimitSeconds = 2.0;

    private const int WarmUpCalls = 40;

    /// <summary>A warm-up (<see cref="WarmUpSeconds"/>), then <paramref name="repeats"/> repeats of the mean time of a call.</summary>
    public static Timings Measure(int repeats, Action call)
    {
        var clock = Stopwatch.StartNew();
        int warmUps = 0;
        double last = 0;
        while (clock.Elapsed.TotalSeconds < WarmUpSeconds || (warmUps < WarmUpCalls && clock.Elapsed.TotalSeconds < WarmUpLimitSeconds))
        {
            double before = clock.Elapsed.TotalSeconds;
            call();
            last = clock.Elapsed.TotalSeconds - before;
            warmUps++;
        }
        int calls = (int)Math.Clamp(Math.Ceiling(SecondsPerRepeat / Math.Max(last, 1e-7)), 1, 100_000);
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
