using System.Reflection;
using CnnGen.GeneratedNetworks;

namespace CnnGen.TrainProfile;

/// <summary>
/// The generated training step of a CIFAR network (batch 64, one thread), layer by layer: each layer's own forward and
/// backward methods, the ones its <c>RunForward</c> and <c>RunBackward</c> call, replayed in the step's order on the
/// buffers a real step left in the network's workspace, over the step's micro-batches (the whole batch with BatchNorm in
/// training mode, else the network's <c>TrainingMicroBatch</c>). So each figure is the kernels the generator chose for
/// that layer (direct, Winograd, im2col), with its data as cold as the step leaves it (replayed alone, a layer found its
/// data in cache: the CIFAR networks' layers summed to 0.65-0.77 of the step). Each is the median over several replayed
/// batches after warm-ups, in the thread's own CPU time (<see cref="ThreadClock"/>); the whole replay and the real step
/// (<c>ComputeGradients</c>, each replay following one, so both in the same state of the machine) are printed below, the
/// difference being what runs outside the layers (the loss, weight preparation, the gradient chunk's end).
/// <para>A convolution's or dense layer's GFLOP/s counts its nominal multiply-adds (a Winograd layer does fewer
/// multiplications): forward once, backward twice (weights and input) or once for the first layer, whose input needs no
/// gradient.</para>
/// </summary>
internal static class LayerProfile
{
    private const int Batch = TrainingBatch.Size;

    private delegate void ForwardCall<TWorkspace>(TWorkspace ws, ReadOnlySpan<float> input, Span<float> output, int batch);

    private delegate void BackwardCall<TWorkspace>(TWorkspace ws, ReadOnlySpan<float> input, ReadOnlySpan<float> output,
        ReadOnlySpan<float> outputGradient, Span<float> inputGradient, int batch);

    /// <summary>One layer bound to the workspace: its output buffer, and its forward and backward over the <c>n</c> images
    /// of the batch from <c>first</c> on (only the first layer reads the batch; the others read the buffers of the layers
    /// before them).</summary>
    private sealed record BoundLayer(LayerInfo Info, bool InputGradient, float[] Output, Action<int, int> Forward, Action<int, int> Backward);

    public static void Print(string model, int repeats, double peak)
    {
        var (network, inputs, labels) = TrainingBatch.Create(model, threads: 1);
        for (int w = 0; w < 3; w++) network.ComputeGradients(inputs, labels, Batch);

        bool batchNorm = network.Layers.Any(l => l.Kind == "BatchNorm");
        // A gradient pass's micro-batch: its own constant, or the evaluation one where the two are the same.
        var type = network.GetType();
        int microBatch = batchNorm ? Batch : (int)(type.GetField("TrainingMicroBatch") ?? type.GetField("MicroBatch")!).GetValue(null)!;
        var microBatches = new List<(int First, int Count)>();
        for (int first = 0; first < Batch; first += microBatch) microBatches.Add((first, Math.Min(microBatch, Batch - first)));
        var layers = Bind(network, inputs);
        CheckReplay(network, layers, microBatches[^1]);

        // The layers in the step's order (each micro-batch forward through every layer, then backward), each call timed:
        // a layer's data is as cold as in the step, where a layer replayed alone found it in cache.
        int count = layers.Count;
        var forwardRuns = new double[count, repeats];
        var backwardRuns = new double[count, repeats];
        var wholeRuns = new double[repeats];
        var stepRuns = new double[repeats];
        for (int r = -3; r < repeats; r++)
        {
            // A real step first, so that the two totals below are measured in turn, in the same state of the machine.
            double stepStart = ThreadClock.Seconds();
            network.ComputeGradients(inputs, labels, Batch);
            if (r >= 0) stepRuns[r] = ThreadClock.Seconds() - stepStart;
            double begin = ThreadClock.Seconds();
            foreach (var (first, n) in microBatches)
            {
                for (int i = 0; i < count; i++)
                {
                    double t = ThreadClock.Seconds();
                    layers[i].Forward(first, n);
                    if (r >= 0) forwardRuns[i, r] += ThreadClock.Seconds() - t;
                }
                for (int i = count - 1; i >= 0; i--)
                {
                    double t = ThreadClock.Seconds();
                    layers[i].Backward(first, n);
                    if (r >= 0) backwardRuns[i, r] += ThreadClock.Seconds() - t;
                }
            }
            if (r >= 0) wholeRuns[r] = ThreadClock.Seconds() - begin;
        }

        Console.WriteLine($"{model}, training step of {Batch} images on one thread, micro-batches of {microBatch}: each layer's forward and backward " +
                          $"methods in the step's order, ms per batch (thread CPU time, medians of {repeats}), GFLOP/s of nominal multiply-adds, share of {peak:0} GFLOP/s");
        Console.WriteLine("| layer | kind | forward ms | GFLOP/s | of peak | backward ms | GFLOP/s | of peak |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|");
        double forwardTotal = 0, backwardTotal = 0, convolutions = 0;
        for (int i = 0; i < count; i++)
        {
            var layer = layers[i];
            double forward = Median(forwardRuns, i), backward = Median(backwardRuns, i);
            forwardTotal += forward;
            backwardTotal += backward;
            bool product = layer.Info.Kind is "Conv" or "Dense";
            if (layer.Info.Kind == "Conv") convolutions += forward + backward;
            double flops = 2.0 * layer.Info.Macs * Batch;
            string Rate(double seconds, double work) => product ? $"{work / seconds / 1e9:0.0} | {work / seconds / 1e9 / peak:P1}" : "- | -";
            Console.WriteLine($"| {layer.Info.Name} | {layer.Info.Kind} | {forward * 1e3:0.000} | {Rate(forward, flops)} | " +
                              $"{backward * 1e3:0.000} | {Rate(backward, flops * (layer.InputGradient ? 2 : 1))} |");
        }
        Array.Sort(wholeRuns);
        Array.Sort(stepRuns);
        double step = stepRuns[repeats / 2];
        Console.WriteLine($"layers: forward {forwardTotal * 1e3:0.00} ms, backward {backwardTotal * 1e3:0.00} ms (convolutions {convolutions * 1e3:0.00}); " +
                          $"all of them in order {wholeRuns[repeats / 2] * 1e3:0.00} ms against the whole step's {step * 1e3:0.00} (ComputeGradients, {Batch / step:0} images per CPU second)");
        Console.WriteLine($"outside the layers, once a step: the weights laid out for training's kernels {Outside(network, repeats, "EnsureTrainingWeights", "PrepareTrainingWeights") * 1e3:0.00} ms, " +
                          $"the Winograd weight gradients' sums cleared and added to the gradients {Outside(network, repeats, "ClearWinogradSums", "AddWinogradSums") * 1e3:0.00} ms");
    }

    /// <summary>The median thread CPU time of the generated methods <paramref name="first"/> then <paramref name="second"/>
    /// (each without arguments, with a part 0 of 1, or with worker 0's workspace); 0 when the network has neither.</summary>
    private static double Outside(INetwork network, int repeats, string first, string second)
    {
        var workspace = FirstWorkspace(network);
        var calls = new List<Action>();
        foreach (string name in new[] { first, second })
        {
            var method = network.GetType().GetMethod(name, BindingFlags.Instance | BindingFlags.NonPublic);
            if (method is null) continue;
            object[] arguments = method.GetParameters() switch
            {
                [] => Array.Empty<object>(),
                [{ ParameterType: var t }, _] when t == typeof(int) => new object[] { 0, 1 },
                _ => new[] { workspace },
            };
            calls.Add(() => method.Invoke(network, arguments));
        }
        return calls.Count == 0 ? 0 : ThreadClock.Median(() => { foreach (var call in calls) call(); }, repeats);
    }

    /// <summary>Replays the forward methods over the step's last micro-batch and checks that the last layer's output
    /// has the bits the step left there: else the layers are not bound to the buffers the step uses, and the tool stops
    /// rather than time something else.</summary>
    private static void CheckReplay(INetwork network, List<BoundLayer> layers, (int First, int Count) last)
    {
        var logits = layers[^1].Output;
        int length = last.Count * network.OutputLength;
        var expected = logits.AsSpan(0, length).ToArray();
        foreach (var layer in layers) layer.Forward(last.First, last.Count);
        for (int i = 0; i < length; i++)
            if (BitConverter.SingleToInt32Bits(logits[i]) != BitConverter.SingleToInt32Bits(expected[i]))
                throw new InvalidOperationException($"the replayed forward methods give logit {i} = {logits[i]:R}, the step gave {expected[i]:R}: " +
                                                    "the layers are not bound to the buffers the step uses");
    }

    private static double Median(double[,] runs, int layer)
    {
        var times = new double[runs.GetLength(1)];
        for (int r = 0; r < times.Length; r++) times[r] = runs[layer, r];
        Array.Sort(times);
        return times[times.Length / 2];
    }

    /// <summary>Every layer of <see cref="INetwork.Layers"/> with its generated <c>Forward_</c> and <c>Backward_</c>
    /// methods, reading and writing the buffers of worker 0's workspace that <c>RunForward</c> and <c>RunBackward</c>
    /// pass them: the layer's input (the network's inputs for the first), its output, its output's gradient (the
    /// logits' for the last) and its input's.</summary>
    private static List<BoundLayer> Bind(INetwork network, float[] inputs)
    {
        var workspace = FirstWorkspace(network);
        var bind = typeof(LayerProfile).GetMethod(nameof(BindAll), BindingFlags.Static | BindingFlags.NonPublic)!.MakeGenericMethod(workspace.GetType());
        return (List<BoundLayer>)bind.Invoke(null, new object[] { network, workspace, inputs })!;
    }

    /// <summary>Worker 0's workspace: the buffers of a one-thread step.</summary>
    private static NetworkWorkspace FirstWorkspace(INetwork network)
    {
        object passes = network.GetType().GetProperty("GeneratedPasses", BindingFlags.Instance | BindingFlags.NonPublic)!.GetValue(network)!;
        return (NetworkWorkspace)passes.GetType().GetMethod("Workspace")!.Invoke(passes, new object[] { 0 })!;
    }

    /// <summary>A layer's name as generated member names spell it: dots become underscores.</summary>
    private static string Id(string name) => name.Replace('.', '_');

    private static List<BoundLayer> BindAll<TWorkspace>(INetwork network, TWorkspace ws, float[] inputs) where TWorkspace : NetworkWorkspace
    {
        var type = network.GetType();
        float[] Buffer(string name) => (float[])(typeof(TWorkspace).GetField(name)
            ?? throw new InvalidOperationException($"{type.Name}'s workspace has no buffer {name}")).GetValue(ws)!;
        var infos = network.Layers;
        // A ReLU whose backward pass the max pool after it applies keeps no output gradient (its backward method does nothing):
        // that pool writes the gradient of the ReLU's input, as RunBackward passes it. A BatchNorm or sum that applies the
        // backward pass of the ReLU after it keeps none either: it masks the ReLU's output gradient in place into its own.
        // Nor does a sum's main input that only the sum reads: its output gradient is the sum's.
        float[] GradientOf(string layer) =>
            typeof(TWorkspace).GetField("_grad_" + Id(layer)) is { } field ? (float[])field.GetValue(ws)!
            : infos.FirstOrDefault(l => l.Name == layer) is { Kind: "ReLU", Input: { } input } && infos.FirstOrDefault(l => l.Input == layer) is { Kind: "MaxPool" }
                ? GradientOf(input)
            : infos.FirstOrDefault(l => l.Name == layer) is { Kind: "BatchNorm" or "Add" } && infos.FirstOrDefault(l => l.Input == layer) is { Kind: "ReLU" } relu
                ? GradientOf(relu.Name)
            : infos.FirstOrDefault(l => l.Input == layer) is { Kind: "Add" } sum ? GradientOf(sum.Name)
            : throw new InvalidOperationException($"{type.Name}'s workspace has no gradient of {layer}");
        var layers = new List<BoundLayer>();
        for (int i = 0; i < infos.Count; i++)
        {
            var info = infos[i];
            string id = Id(info.Name);
            var forward = (ForwardCall<TWorkspace>)Delegate.CreateDelegate(typeof(ForwardCall<TWorkspace>), network,
                type.GetMethod("Forward_" + id, BindingFlags.Instance | BindingFlags.NonPublic)!);
            var backward = (BackwardCall<TWorkspace>)Delegate.CreateDelegate(typeof(BackwardCall<TWorkspace>), network,
                type.GetMethod("Backward_" + id, BindingFlags.Instance | BindingFlags.NonPublic)!);
            bool first = info.Input is null or "input";
            float[] input = first ? inputs : Buffer("_act_" + Id(info.Input!));
            int imageLength = first ? network.InputLength : 0; // the first layer reads the batch from its first image
            float[] output = Buffer("_act_" + id);
            float[] outputGradient = i == infos.Count - 1 ? Buffer("_dlogits") : GradientOf(info.Name);
            float[]? inputGradient = first ? null : GradientOf(info.Input!);
            layers.Add(new BoundLayer(info, inputGradient is not null, output,
                (image, n) => forward(ws, input.AsSpan(image * imageLength), output, n),
                (image, n) => backward(ws, input.AsSpan(image * imageLength), output, outputGradient, inputGradient, n)));
        }
        return layers;
    }
}
