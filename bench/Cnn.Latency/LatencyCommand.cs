using System.Diagnostics;
using System.Globalization;
using CnnGen.EngineRace.Networks;
using CnnGen.Samples.Networks;

namespace CnnGen.Latency;

/// <summary>
/// Single-image latency of a generated network's <c>Forward</c> in evaluation mode for each thread count: rounds that
/// alternate between the counts (so a change in the machine's load touches them all alike), each round the median of
/// a number of calls, and per count the median of the rounds. Prints the load average with the figures. With
/// <c>--layers</c>, times each layer of the split pass instead (<see cref="LayerTimes"/>); with <c>--work</c>, the thread
/// CPU time of each layer's ranges on one and two threads (<see cref="SplitWork"/>); with <c>--cold N</c>, the
/// first N calls of a fresh network without warm-up (<see cref="ColdStart"/>).
/// </summary>
internal static class LatencyCommand
{
    private static readonly string[] Models = { "resnet18", "mobilenetv2", "googlenet", "densenet121", "cifar_vgg", "cifar_resnet" };

    public static int Run(string[] args)
    {
        try
        {
            string model = Option(args, "--model", "all");
            int[] threads = Option(args, "--threads", "1,2").Split(',').Select(t => Positive(t, "--threads")).ToArray();
            int rounds = Positive(Option(args, "--rounds", "7"), "--rounds");
            int calls = Positive(Option(args, "--calls", "9"), "--calls");
            bool split = args.Contains("--split"), layers = args.Contains("--layers"), fixedWeights = args.Contains("--fixed"), work = args.Contains("--work");
            int cold = args.Contains("--cold") ? Positive(Option(args, "--cold", "0"), "--cold") : 0;
            var models = model == "all" ? Models : new[] { model };
            foreach (var name in models)
            {
                var network = Create(name);
                network.SplitImages = split; // one image's layers over the threads (off by default)
                network.FixedWeights = fixedWeights; // weights prepared once, not checked every call (off by default)
                if (cold > 0)
                {
                    network.Threads = threads[0];
                    ColdStart.Measure(name, network, cold);
                }
                else if (work) SplitWork.Measure(name, network, rounds, calls);
                else if (layers) LayerTimes.Measure(name, network, threads, rounds, calls);
                else Measure(name, network, threads, rounds, calls);
            }
            return 0;
        }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine(e.Message);
            Console.Error.WriteLine("usage: Cnn.Latency [--model resnet18|mobilenetv2|googlenet|densenet121|cifar_vgg|cifar_resnet|all] [--threads 1,2] [--rounds 7] [--calls 9] [--split] [--fixed] [--layers] [--work] [--cold N]");
            return 2;
        }
    }

    private static INetwork Create(string name) => name switch
    {
        "resnet18" => new ResNet18(seed: 1),
        "mobilenetv2" => new MobileNetV2(seed: 1),
        "googlenet" => new GoogLeNet(seed: 1),
        "densenet121" => new DenseNet121(seed: 1),
        "cifar_vgg" => new CifarVgg(seed: 1),
        "cifar_resnet" => new CifarResNet(seed: 1),
        _ => throw new ArgumentException($"unknown model '{name}'; expected one of {string.Join(", ", Models)} or all"),
    };

    private static void Measure(string name, INetwork network, int[] threads, int rounds, int calls)
    {
        var random = new Random(1);
        var x = new float[network.InputLength];
        for (int i = 0; i < x.Length; i++) x[i] = (float)random.NextDouble();
        var y = new float[network.OutputLength];
        // Warm-up: every thread count sizes its buffers, and runs until the code it calls is optimised.
        foreach (int t in threads)
        {
            network.Threads = t;
            WarmUp.Run(() => network.Forward(x, y, 1));
        }
        var perRound = threads.ToDictionary(t => t, _ => new List<double>());
        var times = new double[calls];
        for (int r = 0; r < rounds; r++)
        {
            foreach (int t in threads)
            {
                network.Threads = t;
                network.Forward(x, y, 1);
                for (int c = 0; c < calls; c++)
                {
                    long start = Stopwatch.GetTimestamp();
                    network.Forward(x, y, 1);
                    times[c] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                }
                perRound[t].Add(Median(times));
            }
        }
        double first = Median(perRound[threads[0]].ToArray());
        Console.WriteLine($"{name} ({network.InputLength:N0} inputs, {rounds} rounds of {calls} calls, load average {LoadAverage()}):");
        foreach (int t in threads)
        {
            double median = Median(perRound[t].ToArray());
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {t} thread(s): {median,8:F2} ms per image (rounds {perRound[t].Min():F2} to {perRound[t].Max():F2}), {first / median:F2}x of {threads[0]} thread(s)"));
        }
    }

    private static double Median(double[] values)
    {
        var sorted = values.OrderBy(v => v).ToArray();
        int n = sorted.Length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    internal static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(" ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "unknown";

    private static string Option(string[] args, string name, string fallback)
    {
        int i = Array.IndexOf(args, name);
        if (i < 0) return fallback;
        if (i + 1 >= args.Length) throw new ArgumentException($"{name} needs a value");
        return args[i + 1];
    }

    private static int Positive(string text, string name) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n > 0
            ? n : throw new ArgumentException($"{name}: '{text}' is not a positive whole number");
}
