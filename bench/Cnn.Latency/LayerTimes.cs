using System.Diagnostics;
using System.Globalization;

namespace CnnGen.Latency;

/// <summary>
/// Per-layer times of one image's evaluation-mode forward pass with <c>SplitImages</c>, for each thread count: rounds
/// alternate between the counts, each round replays the pass <c>calls</c> times (<see cref="LayerReplay"/>), and each
/// layer's figure is the median of all its calls at that count. Prints every layer that takes at least 0.1% of the
/// one-thread pass, then the time by kind, with the speed-up of each count over the first.
/// </summary>
internal static class LayerTimes
{
    public static void Measure(string name, INetwork network, int[] threads, int rounds, int calls)
    {
        var random = new Random(1);
        var image = new float[network.InputLength];
        for (int i = 0; i < image.Length; i++) image[i] = (float)random.NextDouble();
        network.SplitImages = true;
        var replay = LayerReplay.Bind(network, image);
        var layers = replay.Layers;
        // Warm-up: the workers start, and every layer runs until its code is optimised, at every count.
        foreach (int t in threads)
        {
            replay.Split(t);
            WarmUp.Run(() => { foreach (var layer in layers) layer.Run(); });
        }
        var times = threads.ToDictionary(t => t, _ => layers.Select(_ => new List<double>()).ToArray());
        var totals = threads.ToDictionary(t => t, _ => new List<double>());
        for (int r = 0; r < rounds; r++)
        {
            foreach (int t in threads)
            {
                replay.Split(t);
                for (int c = 0; c < calls; c++)
                {
                    double total = 0;
                    for (int k = 0; k < layers.Count; k++)
                    {
                        long start = Stopwatch.GetTimestamp();
                        layers[k].Run();
                        double us = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
                        times[t][k].Add(us);
                        total += us;
                    }
                    totals[t].Add(total);
                }
            }
        }
        replay.Split(1);

        int first = threads[0];
        var medians = threads.ToDictionary(t => t, t => times[t].Select(list => Median(list)).ToArray());
        double whole = Median(totals[first]);
        Console.WriteLine($"{name}: layer by layer, microseconds (median of {rounds} x {calls} calls), load average {LatencyCommand.LoadAverage()}");
        string header = string.Join("", threads.Select(t => $"{t + " thr",10}")) + (threads.Length > 1 ? "   speed-up" : "");
        Console.WriteLine($"  {"layer",-28} {"kind",-13}{header}");
        for (int k = 0; k < layers.Count; k++)
        {
            if (medians[first][k] < whole / 1000) continue;
            Console.WriteLine($"  {layers[k].Name,-28} {layers[k].Kind,-13}{Row(threads, t => medians[t][k])}");
        }
        Console.WriteLine("  by kind:");
        foreach (var kind in layers.Select(l => l.Kind).Distinct())
        {
            var members = Enumerable.Range(0, layers.Count).Where(k => layers[k].Kind == kind).ToArray();
            Console.WriteLine($"  {kind + $" (x{members.Length})",-42}{Row(threads, t => members.Sum(k => medians[t][k]))}");
        }
        Console.WriteLine($"  {"pass (median of call totals)",-42}{Row(threads, t => Median(totals[t]))}");
        Console.WriteLine($"  {"sum of layer medians",-42}{Row(threads, t => medians[t].Sum())}");
    }

    /// <summary>One figure per thread count, then each later count's speed-up over the first.</summary>
    private static string Row(int[] threads, Func<int, double> figure)
    {
        string values = string.Join("", threads.Select(t => string.Create(CultureInfo.InvariantCulture, $"{figure(t),10:F1}")));
        // A layer whose work another layer's ranges took over (a sum or pool computed by its convolution) measures 0.
        string speedUps = string.Join(" ", threads.Skip(1).Select(t => figure(t) < 0.05 ? "       -" : string.Create(CultureInfo.InvariantCulture, $"{figure(threads[0]) / figure(t):F2}x")));
        return values + (speedUps.Length > 0 ? "   " + speedUps : "");
    }

    private static double Median(List<double> values)
    {
        var sorted = values.OrderBy(v => v).ToArray();
        int n = sorted.Length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }
}
