using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using CnnGen.Optimizers;
using CnnGen.Samples.Cli;
using Spectre.Console;

namespace CnnGen.Samples.Commands;

/// <summary><c>bench</c>: medians of repeated timings of one network — single-image latency, batch inference and training
/// throughput — for one thread and for the requested count. Random inputs; nothing is read from disk.
/// With <c>--json</c> the same figures are printed as one JSON object (for scripts that compare with other frameworks).</summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var model = CommonOptions.Model(trainableOnly: true);
        var threads = CommonOptions.Threads();
        var repeats = new Option<int>("--repeats", "-r") { Description = "Timed repeats per figure (the median is reported)", DefaultValueFactory = _ => 9 };
        var json = new Option<bool>("--json") { Description = "Print one JSON object (medians, minima, maxima) instead of the table" };
        var command = new Command("bench", "Time single-image inference, batch inference and training steps (medians).") { model, threads, repeats, json };
        command.SetAction(parse =>
        {
            var entry = CommonOptions.FindModel(parse.GetValue(model)!, trainableOnly: true);
            if (entry is null) return 2;
            if (!new OptionChecks().Threads("--threads", parse.GetValue(threads)).AtLeast("--repeats", parse.GetValue(repeats), 1).Passed()) return 2;
            int maxThreads = parse.GetValue(threads), n = parse.GetValue(repeats);
            bool asJson = parse.GetValue(json);
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
            var threadCounts = maxThreads == 1 ? new[] { 1 } : new[] { 1, maxThreads };

            var table = new Table().Title($"{network.Name}: {macs:N0} MACs per image, medians of {n} runs")
                .AddColumns("figure", "threads", "median", "unit", "GFLOP/s");
            foreach (var column in table.Columns.Skip(1)) column.RightAligned();
            void Row(string figure, int t, double value, string unit, double flopsPerSecond) =>
                table.AddRow(figure, t.ToString(CultureInfo.InvariantCulture), value.ToString(value < 100 ? "F2" : "N0", CultureInfo.InvariantCulture),
                    unit, (flopsPerSecond / 1e9).ToString("F1", CultureInfo.InvariantCulture));

            network.Threads = 1;
            var one = inputs.AsSpan(0, network.InputLength).ToArray();
            var oneOut = new float[network.OutputLength];
            var latency = Timings.Measure(n, 2000, () => network.Forward(one, oneOut, 1)).Scaled(1e6);
            Row("forward, 1 image", 1, latency.Median, "us", 2.0 * macs / (latency.Median * 1e-6));
            var inference = new Dictionary<int, Timings>();
            foreach (int t in threadCounts)
            {
                network.Threads = t;
                var seconds = Timings.Measure(n, 40, () => network.Forward(inputs, outputs, inferBatch));
                inference[t] = seconds.PerSecond(inferBatch);
                Row($"forward, batch {inferBatch}", t, inference[t].Median, "images/s", 2.0 * macs * inference[t].Median);
            }
            var training = new Dictionary<int, Timings>();
            foreach (int t in threadCounts)
            {
                network.Threads = t;
                var x = inputs.AsSpan(0, network.InputLength * trainBatch).ToArray();
                var seconds = Timings.Measure(n, 60, () =>
                {
                    network.ComputeGradients(x, labels, trainBatch);
                    optimizer.Step(network.Parameters, network.Gradients);
                });
                training[t] = seconds.PerSecond(trainBatch);
                // Training does about three forward passes' worth of multiply-adds.
                Row($"train step, batch {trainBatch}", t, training[t].Median, "images/s", 6.0 * macs * training[t].Median);
            }
            if (asJson)
                WriteJson(network.Name, macs, n, inferBatch, trainBatch, latency, inference, training);
            else
                AnsiConsole.Write(table);
            return 0;
        });
        return command;
    }

    /// <summary>One line of JSON: latency in microseconds (one thread), throughputs in images per second keyed by thread count.</summary>
    private static void WriteJson(string name, long macs, int repeats, int inferBatch, int trainBatch, Timings latency,
        Dictionary<int, Timings> inference, Dictionary<int, Timings> training)
    {
        using var stream = Console.OpenStandardOutput();
        using (var w = new Utf8JsonWriter(stream))
        {
            w.WriteStartObject();
            w.WriteString("framework", "CnnGen");
            w.WriteString("model", name);
            w.WriteNumber("forward_macs", macs);
            w.WriteNumber("repeats", repeats);
            w.WriteNumber("processors", Environment.ProcessorCount);
            w.WritePropertyName("latency_b1_us");
            latency.Write(w);
            void PerThreads(string property, Dictionary<int, Timings> figures)
            {
                w.WriteStartObject(property);
                foreach (var (t, timings) in figures)
                {
                    w.WritePropertyName(t.ToString(CultureInfo.InvariantCulture));
                    timings.Write(w);
                }
                w.WriteEndObject();
            }
            PerThreads($"infer_b{inferBatch}_ips", inference);
            PerThreads($"train_b{trainBatch}_ips", training);
            w.WriteEndObject();
        }
        stream.WriteByte((byte)'\n');
    }

    /// <summary>Sorted results of the timed runs.</summary>
    private sealed record Timings(double[] Sorted)
    {
        public double Median => Sorted[Sorted.Length / 2];

        /// <summary><paramref name="runs"/> runs of the mean time of <paramref name="calls"/> calls each, after a warm-up run.</summary>
        public static Timings Measure(int runs, int calls, Action action)
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
            return new Timings(times);
        }

        public Timings Scaled(double factor) => new(Sorted.Select(s => s * factor).ToArray());

        /// <summary>Seconds per call turned into items per second (the order flips, so sort again).</summary>
        public Timings PerSecond(int items) => new(Sorted.Select(s => items / s).Order().ToArray());

        public void Write(Utf8JsonWriter w)
        {
            w.WriteStartObject();
            w.WriteNumber("median", Math.Round(Median, 3));
            w.WriteNumber("min", Math.Round(Sorted[0], 3));
            w.WriteNumber("max", Math.Round(Sorted[^1], 3));
            w.WriteEndObject();
        }
    }
}
