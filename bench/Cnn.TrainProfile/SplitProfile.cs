using System.Diagnostics;
using CnnGen.GeneratedNetworks;
using CnnGen.Kernels;
using CnnGen.Parallelism;

namespace CnnGen.TrainProfile;

/// <summary>
/// <c>split</c>: what splitting one image's layer over two threads costs, for each convolution shape of the CIFAR
/// networks' inference, in thread CPU time (so other work on the machine moves it little). Per layer and split form it
/// times the kernel over the whole layer, then each range <see cref="LayerSplit{TWorkspace}"/> would hand out on two
/// threads (two ranges per thread, each thread first taking its own share), and prints: the sum of the ranges against
/// the whole layer (the work inflation of splitting), the larger of the two threads' shares against half the whole
/// layer (the balance), and the whole layer over the larger share (the most two threads can gain on this layer, before
/// the hand-over). Then the hand-over itself: an empty job of two parts through the runtime's worker pool, wall time
/// from start to return, the worker awake (it spins between jobs).
/// </summary>
internal static class SplitProfile
{
    private const int Threads = 2;

    /// <summary>Calls per reading of the clock: reading a thread's CPU time is a system call of a fraction of a
    /// microsecond, not small against a range of a few microseconds.</summary>
    private const int CallsPerTime = 10;

    private static void Calls(Action run)
    {
        for (int i = 0; i < CallsPerTime; i++) run();
    }

    /// <summary>One split form of one layer: the whole layer, and one range of units.</summary>
    private sealed record Form(string Layer, string Name, int Units, int Block, Action Whole, Action<int, int> Range);

    public static void Print(int rounds, int repeats)
    {
        var forms = Forms();
        // Per form: the whole layer, then each range, alternating, repeated; medians per round, then over rounds.
        var whole = forms.Select(_ => new List<double>()).ToArray();
        var ranges = forms.Select(f => Pieces(f).Select(_ => new List<double>()).ToArray()).ToArray();
        for (int round = -1; round < rounds; round++)
            for (int i = 0; i < forms.Count; i++)
            {
                var form = forms[i];
                double w = ThreadClock.Median(() => Calls(form.Whole), repeats, warmUps: round < 0 ? 30 : 2) / CallsPerTime;
                var pieces = Pieces(form);
                var times = pieces.Select(p => ThreadClock.Median(() => Calls(() => form.Range(p.Start, p.End)), repeats, warmUps: round < 0 ? 30 : 2) / CallsPerTime).ToArray();
                if (round < 0) continue; // past tiered compilation
                whole[i].Add(w);
                for (int p = 0; p < times.Length; p++) ranges[i][p].Add(times[p]);
            }

        Console.WriteLine($"Split layers of one image on {Threads} threads, {LayerSplit<NetworkWorkspace>.PiecesPerThread} ranges per thread " +
                          $"(thread CPU time in microseconds per call: median of {repeats} readings of {CallsPerTime} calls each per round, median over {rounds} rounds)");
        Console.WriteLine("| layer | split form | whole | ranges | sum / whole | larger share / half | whole / larger share |");
        Console.WriteLine("|---|---|---|---|---|---|---|");
        for (int i = 0; i < forms.Count; i++)
        {
            var pieces = Pieces(forms[i]);
            double w = Median(whole[i]);
            var times = ranges[i].Select(Median).ToArray();
            // Each thread first runs its own share: thread t the pieces [t * n / 2, (t + 1) * n / 2).
            double[] shares = new double[Threads];
            for (int t = 0; t < Threads; t++)
                for (int p = t * pieces.Length / Threads; p < (t + 1) * pieces.Length / Threads; p++) shares[t] += times[p];
            double sum = times.Sum(), larger = shares.Max();
            string cut = string.Join(" ", pieces.Select((p, k) => $"[{p.Start},{p.End}) {times[k] * 1e6:0.0}"));
            Console.WriteLine($"| {forms[i].Layer} | {forms[i].Name} | {w * 1e6:0.0} | {cut} | {sum / w:0.00} | {larger / (w / 2):0.00} | {w / larger:0.00}x |");
        }

        // The hand-over: an empty job of two parts, the worker awake.
        JobPart empty = (_, _) => { };
        var wall = new List<double>();
        for (int i = 0; i < 2000; i++) WorkerPool.Shared.RunParts(Threads, empty);
        for (int round = 0; round < rounds; round++)
        {
            var calls = new double[1001];
            for (int i = 0; i < calls.Length; i++)
            {
                long start = Stopwatch.GetTimestamp();
                WorkerPool.Shared.RunParts(Threads, empty);
                calls[i] = Stopwatch.GetElapsedTime(start).TotalSeconds;
            }
            wall.Add(Median(calls));
        }
        Console.WriteLine($"Hand-over: an empty job of {Threads} parts, worker awake: {Median(wall) * 1e6:0.00} us wall (median of 1001 jobs per round, " +
                          $"median over {rounds} rounds; range {wall.Min() * 1e6:0.00}-{wall.Max() * 1e6:0.00}), load average {LoadAverage()}");
        PrintSideBySide(forms, rounds, repeats);
    }

    /// <summary>What the second core gives: each layer's whole kernel on the calling thread alone, then while another
    /// thread runs the same kernel on buffers of its own (as two threads' ranges of a split layer run side by side), in
    /// thread CPU time per call. A ratio near 1 means the two cores do not slow each other; near 2, that two threads
    /// together get through no more work than one (cores that share their vector units, or a host that runs other work
    /// on them).</summary>
    private static void PrintSideBySide(List<Form> forms, int rounds, int repeats)
    {
        var others = Forms();
        var layers = Enumerable.Range(0, forms.Count).Where(i => i == 0 || forms[i].Layer != forms[i - 1].Layer).ToArray();
        var alone = layers.Select(_ => new List<double>()).ToArray();
        var together = layers.Select(_ => new List<double>()).ToArray();
        var otherTimes = layers.Select(_ => new List<double>()).ToArray();
        for (int round = -1; round < rounds; round++)
            for (int j = 0; j < layers.Length; j++)
            {
                int i = layers[j];
                double a = ThreadClock.Median(() => Calls(forms[i].Whole), repeats, warmUps: round < 0 ? 30 : 2) / CallsPerTime;
                bool stop = false;
                double other = 0;
                var thread = new Thread(() =>
                {
                    var times = new List<double>();
                    while (!Volatile.Read(ref stop))
                    {
                        double t0 = ThreadClock.Seconds();
                        Calls(others[i].Whole);
                        times.Add((ThreadClock.Seconds() - t0) / CallsPerTime);
                    }
                    other = times.Count > 0 ? Median(times) : double.NaN;
                });
                thread.Start();
                Thread.Sleep(1); // the other thread is running its kernel
                double b = ThreadClock.Median(() => Calls(forms[i].Whole), repeats, warmUps: 2) / CallsPerTime;
                Volatile.Write(ref stop, true);
                thread.Join();
                if (round < 0) continue;
                alone[j].Add(a);
                together[j].Add(b);
                otherTimes[j].Add(other);
            }
        Console.WriteLine($"Side by side: each layer's whole kernel alone and while another thread runs it too (thread CPU time in microseconds per call, " +
                          $"median over {rounds} rounds), load average {LoadAverage()}");
        Console.WriteLine("| layer | alone | side by side (this thread) | the other thread | side by side / alone |");
        Console.WriteLine("|---|---|---|---|---|");
        for (int j = 0; j < layers.Length; j++)
        {
            double a = Median(alone[j]), b = Median(together[j]);
            Console.WriteLine($"| {forms[layers[j]].Layer} | {a * 1e6:0.0} | {b * 1e6:0.0} | {Median(otherTimes[j]) * 1e6:0.0} | {b / a:0.00} |");
        }
    }

    /// <summary>Every layer shape and split form, each with buffers of its own (a second call makes a second set).</summary>
    private static List<Form> Forms()
    {
        var random = new Random(1);
        float[] Random(long n)
        {
            var a = new float[n];
            for (int i = 0; i < a.Length; i++) a[i] = random.NextSingle() * 2 - 1;
            return a;
        }

        var forms = new List<Form>();
        // Direct convolutions (3x3, padding 1): by filters in the kernel's blocks, and by output rows.
        foreach (var (layer, channels, size, filters) in new[]
                 {
                     ("VGG conv1 3->32 @32", 3, 32, 32), ("ResNet conv1 3->16 @32", 3, 32, 16), ("ResNet conv2-5 16->16 @32", 16, 32, 16),
                 })
        {
            var padded = Random(DirectConv.PaddedLength(channels, size, size, 1));
            var weight = Random(filters * channels * 9);
            var bias = Random(filters);
            var output = new float[filters * size * size];
            void Whole() => DirectConv.ForwardFilters(padded, weight, bias, output, channels, size, size, 3, 1, size, size, 0, filters, relu: true);
            forms.Add(new(layer, "direct, by filters", filters, DirectConv.FilterBlock(size), Whole,
                (s, e) => DirectConv.ForwardFilters(padded, weight, bias, output, channels, size, size, 3, 1, size, size, s, e, relu: true)));
            forms.Add(new(layer, "direct, by rows", size, DirectConv.RowBlock(size), Whole,
                (s, e) => DirectConv.ForwardRows(padded, weight, bias, output, channels, size, size, filters, 3, 1, size, size, s, e, relu: true)));
        }
        // Winograd F(4x4, 3x3) layers: by tiles and, for whole panels of 32 filters, by filters.
        foreach (var (layer, channels, size, filters) in new[]
                 {
                     ("VGG conv2 32->32 @32", 32, 32, 32), ("ResNet conv6 16->32 @16", 16, 16, 32), ("ResNet conv7-10 32->32 @16", 32, 16, 32),
                     ("VGG conv3 32->64 @16", 32, 16, 64), ("VGG conv4 64->64 @16", 64, 16, 64), ("ResNet conv11-15 64->64 @8", 64, 8, 64),
                     ("VGG conv6 128->128 @8", 128, 8, 128),
                 })
        {
            var image = Random((long)channels * size * size);
            var padded = new float[Winograd3x3.PaddedLength(1, channels, size, size)];
            Winograd3x3.PadChannelLast(image, 1, padded, channels, size, size, 1, size, size);
            var transformed = new float[Winograd3x3.TransformedWeightLength(filters, channels)];
            Winograd3x3.TransformWeights(Random(filters * channels * 9), transformed, filters, channels, 0, filters);
            var bias = Random(filters);
            var output = new float[filters * size * size];
            var scratch = new float[Winograd3x3.ScratchLength(1, channels, filters, size, size)];
            int tiles = Winograd3x3.TilesPerImage(size, size);
            void Whole() => Winograd3x3.ForwardTiles(padded, 1, transformed, bias, output, scratch, channels, filters, size, size, 0, tiles, relu: true);
            forms.Add(new(layer, $"Winograd, by tiles ({tiles})", tiles, 1, Whole,
                (s, e) => Winograd3x3.ForwardTiles(padded, 1, transformed, bias, output, scratch, channels, filters, size, size, s, e, relu: true)));
            // Ranges of 32 filters (one panel), and of 64 where that still makes two ranges.
            foreach (int block in new[] { 32, 64 })
                if (filters % block == 0 && filters >= 2 * block)
                    forms.Add(new(layer, $"Winograd, by filters ({block})", filters, block, Whole,
                        (s, e) => Winograd3x3.ForwardFilters(padded, 1, transformed, bias, output, scratch, channels, filters, size, size, s, e, relu: true)));
        }

        return forms;
    }

    /// <summary>The ranges <see cref="LayerSplit{TWorkspace}"/> hands out for this form on <see cref="Threads"/> threads.</summary>
    private static (int Start, int End)[] Pieces(Form f)
    {
        int blocks = (f.Units + f.Block - 1) / f.Block, pieces = Math.Min(blocks, Threads * LayerSplit<NetworkWorkspace>.PiecesPerThread);
        return Enumerable.Range(0, pieces).Select(p => LayerSplit<NetworkWorkspace>.Range(f.Units, f.Block, p, pieces)).ToArray();
    }

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted[sorted.Length / 2];
    }

    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(" ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "unknown";
}
