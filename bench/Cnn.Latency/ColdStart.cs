using System.Diagnostics;
using System.Globalization;

namespace CnnGen.Latency;

/// <summary>
/// The first calls of a fresh network in a fresh process, without warm-up: what an application pays before .NET's
/// tiered compilation has optimised the code it runs (the first call also sizes the workspace). Prints the first
/// call, then the median of each following group of calls, and how long from the first call each group ended.
/// </summary>
internal static class ColdStart
{
    public static void Measure(string name, INetwork network, int calls)
    {
        var random = new Random(1);
        var x = new float[network.InputLength];
        for (int i = 0; i < x.Length; i++) x[i] = (float)random.NextDouble();
        var y = new float[network.OutputLength];
        var times = new double[calls];
        var ends = new double[calls];
        long origin = Stopwatch.GetTimestamp();
        for (int c = 0; c < calls; c++)
        {
            long start = Stopwatch.GetTimestamp();
            network.Forward(x, y, 1);
            times[c] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            ends[c] = Stopwatch.GetElapsedTime(origin).TotalMilliseconds;
        }
        Console.WriteLine($"{name}: the first {calls} calls of one image, {network.Threads} thread(s), load average {LatencyCommand.LoadAverage()}");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  call 1: {times[0],9:F2} ms"));
        for (int first = 1, size = 4; first < calls; first += size, size *= 2)
        {
            int end = Math.Min(calls, first + size);
            var group = times[first..end].OrderBy(t => t).ToArray();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  calls {first + 1}-{end}: {group[group.Length / 2],9:F2} ms median, done {ends[end - 1] / 1000,6:F2} s after the first call began"));
        }
    }
}
