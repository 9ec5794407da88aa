using System.Diagnostics;

namespace CnnGen.Latency;

/// <summary>
/// Runs a pass until .NET's tiered compilation has settled: a method first runs unoptimised (and, with dynamic PGO,
/// instrumented) code, and is recompiled optimised only after some tens of calls and a quiet period, in the
/// background. A few calls of warm-up therefore time the slow first code: CIFAR-size passes measured 2.5-3.1 ms per
/// image in rounds that fell there against 0.4-0.6 ms once optimised. Warming up for a fixed time and a minimum number
/// of calls at each thread count leaves the measured rounds to the optimised code.
/// </summary>
internal static class WarmUp
{
    /// <summary>Time spent warming up at each thread count.</summary>
    public static readonly TimeSpan Duration = TimeSpan.FromSeconds(2);

    /// <summary>Calls made at each thread count however long they take.</summary>
    public const int MinimumCalls = 60;

    /// <summary>Calls <paramref name="pass"/> at least <see cref="MinimumCalls"/> times and for at least <see cref="Duration"/>.</summary>
    public static void Run(Action pass)
    {
        long start = Stopwatch.GetTimestamp();
        for (int calls = 0; calls < MinimumCalls || Stopwatch.GetElapsedTime(start) < Duration; calls++) pass();
    }
}
