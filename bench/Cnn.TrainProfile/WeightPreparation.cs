using System.Diagnostics;
using System.Reflection;
using CnnGen.Samples.Networks;

namespace CnnGen.TrainProfile;

/// <summary>
/// <c>prepare --model resnet18|mobilenetv2 [--threads T] [--repeats N]</c>: the weight preparation an evaluation-mode pass makes before
/// its layers (BatchNorm folding and the Winograd weight check, the generated <c>BeforeForward</c>), alone, with the
/// network's <c>Threads</c> set to T (1 by default),
/// with nothing changed since the last call: what every inference call pays however few images it has. Median thread CPU
/// time (of the calling thread only) and median wall time per call.
/// </summary>
internal static class WeightPreparation
{
    public static void Print(string model, int threads, int repeats)
    {
        INetwork network = model switch
        {
            "resnet18" => new ResNet18(seed: 0),
            "mobilenetv2" => new MobileNetV2(seed: 0),
            _ => throw new ArgumentException($"unknown model '{model}' (resnet18, mobilenetv2)"),
        };
        network.Threads = threads;
        var prepare = BeforeForward(network);
        prepare(); // the first call makes the folded and transformed weights
        int calls = 0;
        var cpu = new double[repeats];
        var wall = new double[repeats];
        for (int r = 0; r < repeats; r++)
        {
            long start = Stopwatch.GetTimestamp();
            double cpuStart = ThreadClock.Seconds();
            int n = 0;
            double seconds;
            do { prepare(); n++; seconds = Stopwatch.GetElapsedTime(start).TotalSeconds; } while (seconds < 0.25);
            cpu[r] = (ThreadClock.Seconds() - cpuStart) / n;
            wall[r] = seconds / n;
            calls += n;
        }
        Array.Sort(cpu);
        Array.Sort(wall);
        Console.WriteLine($"{model}: weight preparation per inference call, {threads} thread(s): {cpu[repeats / 2] * 1e6:0} us CPU time of the calling thread, " +
                          $"{wall[repeats / 2] * 1e6:0} us wall time (medians of {repeats} rounds, {calls} calls, {network.ParameterCount:N0} parameters)");
    }

    /// <summary>The network's own <c>BeforeForward(workers: 1, batchSize: 1)</c>, reached through reflection: it is a
    /// private member of the generated class.</summary>
    private static Action BeforeForward(INetwork network)
    {
        const BindingFlags Private = BindingFlags.Instance | BindingFlags.NonPublic;
        var passes = network.GetType().GetProperty("GeneratedPasses", Private)?.GetValue(network)
                     ?? throw new InvalidOperationException($"{network.GetType().Name} has no generated passes");
        var method = passes.GetType().GetMethod("BeforeForward", Private)
                     ?? throw new InvalidOperationException($"{network.GetType().Name} has no BeforeForward");
        var call = method.CreateDelegate<Action<int, int>>(passes);
        return () => call(1, 1);
    }
}
