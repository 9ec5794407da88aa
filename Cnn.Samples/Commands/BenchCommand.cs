using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using CnnGen.Optimizers;
using CnnGen.Samples.Cli;
using Spectre.Console;

namespace CnnGen.Samples.Commands;

/// <summary><c>bench</c>: medians of repeated timings of one network — single-image latency, batch inference and training
/// throughput — for one thread and for the requested count. Random inputs; nothing is read from disk.</summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var model = CommonOptions.Model(trainableOnly: true);
        var threads = CommonOptions.Threads();
        var repeats = new Option<int>("--repeats", "-r") { Description = "Timed repeats per figure (the median is reported)", DefaultValueFactory = _ => 9 };
        var command = new Command("bench", "Time single-image inference, batch inference and training steps (medians).") { model, threads, repeats };
        command.SetAction(parse =>
        {
            var entry = CommonOptions.FindModel(parse.GetValue(model)!, trainableOnly: true);
            if (entry is null) return 2;
            int maxThreads = Math.Max(1, parse.GetValue(threads)), n = Math.Max(1, parse.GetValue(repeats));
            var network = entry.Create(0);
            long macs = network.Layers.Sum(l => l.Macs);
            var random = new Random(1);
            const int inferBatch = 256, trainBatch = 64;
            var inputs = new float[network.InputLength * inferBatch];
            for (int i = 0; i < inputs.Length; i++) inputs[i] = (float)random.NextDouble() - 0.3f;
            var outputs = new float[network.OutputLength * inferBatch];
            var labels = new int[trainBatch];
            for (int i = 0; i < labels.Length; i++) labels[i] = random.Next(network.OutputLength);
            var optimizer = new Sgd(0.01f, momentum: 0.9f);

            var table = new Table().Title($"{network.Name}: {macs:N0} MACs per image, medians of {n} runs")
                .AddColumns("figure", "threads", "median", "unit", "GFLOP/s");
            foreach (var column in table.Columns.Skip(1)) column.RightAligned();
            void Row(string figure, int t, double value, string unit, double flopsPerSecond) =>
                table.AddRow(figure, t.ToString(CultureInfo.InvariantCulture), value.ToString(value < 100 ? "F2" : "N0", CultureInfo.InvariantCulture),
                    unit, (flopsPerSecond / 1e9).ToString("F1", CultureInfo.InvariantCulture));

            network.Threads = 1;
            var one = inputs.AsSpan(0, network.InputLength).ToArray();
            var oneOut = new float[network.OutputLength];
            double latency = Median(n, 2000, () => network.Forward(one, oneOut, 1)) * 1e6;
            Row("forward, 1 image", 1, latency, "us", 2.0 * macs / (latency * 1e-6));
            foreach (int t in maxThreads == 1 ? new[] { 1 } : new[] { 1, maxThreads })
            {
                network.Threads = t;
                double seconds = Median(n, 40, () => network.Forward(inputs, outputs, inferBatch));
                Row($"forward, batch {inferBatch}", t, inferBatch / seconds, "images/s", 2.0 * macs * inferBatch / seconds);
            }
            foreach (int t in maxThreads == 1 ? new[] { 1 } : new[] { 1, maxThreads })
            {
                network.Threads = t;
                var x = inputs.AsSpan(0, network.InputLength * trainBatch).ToArray();
                double seconds = Median(n, 60, () =>
                {
                    network.ComputeGradients(x, labels, trainBatch);
                    optimizer.Step(network.Parameters, network.Gradients);
                });
                // Training does about three forward passes' worth of multiply-adds.
                Row($"train step, batch {trainBatch}", t, trainBatch / seconds, "images/s", 6.0 * macs * trainBatch / seconds);
            }
            AnsiConsole.Write(table);
            return 0;
        });
        return command;
    }

    /// <summary>Median over <paramref name="runs"/> runs of the mean time of <paramref name="calls"/> calls, after a warm-up run.</summary>
    private static double Median(int runs, int calls, Action action)
    {
        for (int i = 0; i < calls; i++) action();
        var times = new double[runs];
        for (int r = 0; r < runs; r++)
        {
            var clock = Stopwatch.StartNew();
            for (int i = 0; i < calls; i++) action();
            times[r] = clock.Elapsed.TotalSeconds / calls;
        }
        Array.Sort(times);
        return times[runs / 2];
    }
}
