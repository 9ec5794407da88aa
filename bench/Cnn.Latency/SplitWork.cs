using System.Globalization;
using System.Reflection;
using CnnGen.GeneratedNetworks;
using CnnGen.TrainProfile;

namespace CnnGen.Latency;

/// <summary>
/// <c>--work</c>: where the CPU time of one image's split pass goes, layer by layer, in thread CPU time (what other work
/// on the machine moves least). The pass is replayed layer by layer (<see cref="LayerReplay"/>) on one thread and on
/// two, rounds alternating; on two, every range method the generated code hands to the runtime is wrapped (its delegate
/// field set by reflection before the generated code fills it) so each range's CPU time is added to its layer's share
/// of the calling thread or of the worker. Per layer it prints: the one-thread CPU time; on two threads the ranges'
/// CPU time on the calling thread and on the worker, their sum against the one-thread time (the work inflation of
/// splitting, for a split layer), the larger share against half of that sum (the balance), and the calling thread's
/// CPU time in the layer outside its ranges (what runs whole before the ranges, such as a padded copy, plus the
/// hand-over and the wait for the worker at the end); and the hand-overs (jobs) a pass makes.
/// </summary>
internal static class SplitWork
{
    // Per layer, filled by the range wrappers: CPU microseconds of ranges on the calling thread and on the worker, and
    // how many jobs (range methods started) the layer made.
    private static double[] s_caller = Array.Empty<double>(), s_worker = Array.Empty<double>();
    private static int[] s_jobs = Array.Empty<int>();
    private static int s_callerThread, s_call;

    public static void Measure(string name, INetwork network, int rounds, int calls)
    {
        var random = new Random(1);
        var image = new float[network.InputLength];
        for (int i = 0; i < image.Length; i++) image[i] = (float)random.NextDouble();
        network.SplitImages = true;
        var replay = LayerReplay.Bind(network, image);
        var layers = replay.Layers;
        s_caller = new double[layers.Count];
        s_worker = new double[layers.Count];
        s_jobs = new int[layers.Count];
        s_callerThread = Environment.CurrentManagedThreadId;

        // One split pass fills the generated delegate fields; then each is replaced by a timing wrapper.
        replay.Split(2);
        foreach (var layer in layers) layer.Run();
        int wrapped = Wrap(network, layers.Select(l => l.Name).ToList());

        foreach (int t in new[] { 1, 2 })
        {
            replay.Split(t);
            WarmUp.Run(() => { foreach (var layer in layers) layer.Run(); });
        }
        var one = layers.Select(_ => new List<double>()).ToArray();
        var call2 = layers.Select(_ => new List<double>()).ToArray();
        var caller2 = layers.Select(_ => new List<double>()).ToArray();
        var worker2 = layers.Select(_ => new List<double>()).ToArray();
        var jobs = new List<int>();
        for (int r = 0; r < rounds; r++)
        {
            foreach (int t in new[] { 1, 2 })
            {
                replay.Split(t);
                for (int c = 0; c < calls; c++)
                {
                    Array.Clear(s_jobs);
                    for (int k = 0; k < layers.Count; k++)
                    {
                        s_caller[k] = s_worker[k] = 0;
                        s_call++;
                        double start = ThreadClock.Seconds() * 1e6;
                        layers[k].Run();
                        double cpu = ThreadClock.Seconds() * 1e6 - start;
                        if (t == 1) one[k].Add(cpu);
                        else
                        {
                            call2[k].Add(cpu);
                            caller2[k].Add(s_caller[k]);
                            worker2[k].Add(s_worker[k]);
                        }
                    }
                    if (t == 2) jobs.Add(s_jobs.Sum());
                }
            }
        }
        replay.Split(1);

        Console.WriteLine($"{name}: thread CPU time per layer, microseconds (median of {rounds} x {calls} calls), one thread against two, " +
                          $"{wrapped} range methods timed; load average {LatencyCommand.LoadAverage()}");
        Console.WriteLine($"  {"layer",-20} {"kind",-9}{"1 thr",8}{"callerR",9}{"workerR",9}{"ranges/1",10}{"larger/half",12}{"outside",9}{"jobs",6}");
        double t1 = 0, rc = 0, rw = 0, outside = 0, splitOne = 0, splitRanges = 0;
        for (int k = 0; k < layers.Count; k++)
        {
            double a = Median(one[k]), c = Median(caller2[k]), w = Median(worker2[k]), whole = Median(call2[k]);
            // The layer's job count of one pass is constant: read it from the last pass.
            int layerJobs = s_jobs[k];
            t1 += a; rc += c; rw += w; outside += Math.Max(0, whole - c);
            bool split = c + w > 0 && layerJobs > 0;
            if (split) { splitOne += a; splitRanges += c + w; }
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {layers[k].Name,-20} {layers[k].Kind,-9}{a,8:F1}{c,9:F1}{w,9:F1}{(split ? (c + w) / a : double.NaN),10:F2}" +
                $"{(split ? Math.Max(c, w) / ((c + w) / 2) : double.NaN),12:F2}{Math.Max(0, whole - c),9:F1}{layerJobs,6}"));
        }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  pass: one thread {t1:F1}; two threads: ranges {rc:F1} (caller) + {rw:F1} (worker), split layers' ranges {splitRanges:F1} against " +
            $"{splitOne:F1} on one thread ({splitRanges / splitOne:F2}x), caller outside ranges {outside:F1}, {Median(jobs.Select(j => (double)j).ToList()):F0} jobs per pass"));
    }

    /// <summary>Replaces every range delegate field of <paramref name="network"/> by a wrapper that times its calls;
    /// returns how many were wrapped.</summary>
    private static int Wrap(INetwork network, List<string> layerNames)
    {
        object passes = network.GetType().GetProperty("GeneratedPasses", BindingFlags.Instance | BindingFlags.NonPublic)!.GetValue(network)!;
        var workspaceType = passes.GetType().GetMethod("Workspace")!.ReturnType;
        var rangeType = typeof(LayerRange<>).MakeGenericType(workspaceType);
        var wrap = typeof(SplitWork).GetMethod(nameof(WrapRange), BindingFlags.Static | BindingFlags.NonPublic)!.MakeGenericMethod(workspaceType);
        int count = 0;
        foreach (var field in network.GetType().GetFields(BindingFlags.Instance | BindingFlags.NonPublic).Where(f => f.FieldType == rangeType))
        {
            // _{Method}_{layer id}[And{what it fuses}]: the method's name has no underscore; a range that also computes
            // the layer after it (a conv's ranges that store a shortcut's sum) counts as its own layer's.
            string id = field.Name.Substring(1).Split('_', 2)[1];
            int fused = id.LastIndexOf("And", StringComparison.Ordinal);
            int layer = layerNames.FindIndex(n => n.Replace('.', '_') == id);
            if (layer < 0 && fused > 0) layer = layerNames.FindIndex(n => n.Replace('.', '_') == id.Substring(0, fused));
            if (layer < 0 || field.GetValue(network) is not { } inner) continue;
            field.SetValue(network, wrap.Invoke(null, new[] { inner, layer }));
            count++;
        }
        return count;
    }

    private static LayerRange<TWorkspace> WrapRange<TWorkspace>(LayerRange<TWorkspace> inner, int layer) where TWorkspace : NetworkWorkspace
    {
        var seen = new int[1]; // the layer call (s_call) in which this method last ran: its ranges of one call are one job
        return (ws, input, output, weight, bias, batch, start, end) =>
        {
            int call = Volatile.Read(ref s_call);
            if (Interlocked.Exchange(ref seen[0], call) != call) Interlocked.Increment(ref s_jobs[layer]);
            double t0 = ThreadClock.Seconds() * 1e6;
            inner(ws, input, output, weight, bias, batch, start, end);
            double cpu = ThreadClock.Seconds() * 1e6 - t0;
            if (Environment.CurrentManagedThreadId == s_callerThread) s_caller[layer] += cpu;
            else lock (s_worker) s_worker[layer] += cpu;
        };
    }

    private static double Median(List<double> values)
    {
        if (values.Count == 0) return 0;
        var sorted = values.OrderBy(v => v).ToArray();
        return sorted[sorted.Length / 2];
    }
}
