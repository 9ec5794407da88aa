using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using CnnGen.Checkpoints;
using CnnGen.PyTorch;
using Xunit;
using Xunit.Abstractions;

namespace CnnGen.Samples.Tests;

/// <summary>
/// A randomly initialised torchvision model (Debian's python3-torchvision) as a reference: BatchNorm running statistics
/// and affine parameters moved away from their defaults; it saves its state_dict as safetensors, a random input, and
/// reports its parameter and state_dict key counts. In evaluation mode it saves its logits on that input (uniform in
/// [0, 1)); in training mode (input standard normal, dropout off, BatchNorm by the batch) it draws labels, takes the mean
/// cross-entropy and its gradients in float64 and saves, under the state_dict's names, each parameter's exact gradient
/// and each BatchNorm statistic as the step left it. Training-mode gradients through BatchNorm over small maps are
/// ill-conditioned (a channel whose batch variance is near zero amplifies rounding), so float32 results, PyTorch's
/// included, are measured against float64 and the script reports how far PyTorch's own float32 gradients are.
/// </summary>
internal sealed class TorchvisionReference
{
    private const string Script = """
        import sys
        import copy
        import torch, torchvision
        sys.path.insert(0, sys.argv[1])
        import train_ddp
        (constructor, shape, mode, weights, input_file, logits_file, labels_file, after_file) = sys.argv[2:10]
        torch.manual_seed(2026)
        model = eval(constructor)
        with torch.no_grad():
            for module in model.modules():
                if isinstance(module, torch.nn.modules.batchnorm._BatchNorm):
                    module.running_mean.uniform_(-0.5, 0.5)
                    module.running_var.uniform_(0.5, 1.5)
                    module.weight.uniform_(0.5, 1.5)
                    module.bias.uniform_(-0.2, 0.2)
                    module.num_batches_tracked.fill_(7)
        size = [int(n) for n in shape.split("x")]
        x = torch.randn(*size) if mode == "train" else torch.rand(*size)
        metadata = {"producer": f"torchvision {torchvision.__version__}"}
        train_ddp.write_safetensors(weights, model.state_dict(), metadata)
        x.numpy().astype("<f4").tofile(input_file)
        if mode == "train":
            # The same step in float64 gives the exact gradients; float32 (PyTorch's and CnnGen's) is measured against it.
            exact = copy.deepcopy(model).double()
            for m in (model, exact):
                m.train()
                for module in m.modules():
                    if isinstance(module, torch.nn.Dropout):
                        module.p = 0.0
            logits = model(x)
            labels = torch.randint(0, logits.shape[1], (x.shape[0],))
            torch.nn.functional.cross_entropy(logits, labels).backward()
            loss = torch.nn.functional.cross_entropy(exact(x.double()), labels)
            loss.backward()
            parameters, buffers = dict(exact.named_parameters()), dict(exact.named_buffers())
            after = {k: parameters[k].grad if k in parameters else buffers[k] for k in model.state_dict()}
            after = {k: v.float() if v.is_floating_point() else v for k, v in after.items()}
            train_ddp.write_safetensors(after_file, after, metadata)
            labels.numpy().astype("<i4").tofile(labels_file)
            floor = 1e-3 * max(p.grad.abs().max().item() for p in exact.parameters())
            error, worst = max(((p.grad.double() - parameters[k].grad).abs().max().item()
                                / max(parameters[k].grad.abs().max().item(), floor), k) for k, p in model.named_parameters())
            print(f"loss {loss.item()!r}; PyTorch's float32 gradients within {error:.1e} of the float64 ones ({worst})")
        else:
            model.eval()
            with torch.no_grad():
                logits = model(x)
        logits.detach().numpy().astype("<f4").tofile(logits_file)
        parameters = sum(p.numel() for p in model.parameters())
        print(f"torchvision {torchvision.__version__}: {parameters} parameters, {len(model.state_dict())} keys")
        """;

    public required string Weights { get; init; }
    public required float[] Input { get; init; }
    public required float[] Logits { get; init; }
    public required long Parameters { get; init; }
    public required int Keys { get; init; }

    /// <summary>Training mode only: the labels, torchvision's mean loss, and the file of gradients and statistics after the step.</summary>
    public int[] Labels { get; private init; } = [];
    public float Loss { get; private init; }
    public string After { get; private init; } = "";

    /// <param name="constructor">A Python expression that builds the model, e.g. <c>torchvision.models.resnet18()</c>.</param>
    public static TorchvisionReference Create(string dir, string name, string constructor, int batch, int channels, int height, int width,
        ITestOutputHelper log, bool training = false)
    {
        File.WriteAllText(Path.Combine(dir, "train_ddp.py"), PyTorchExport.TrainingScript());
        string script = Path.Combine(dir, name + ".py"), weights = Path.Combine(dir, name + ".safetensors");
        string input = Path.Combine(dir, name + ".x.bin"), logits = Path.Combine(dir, name + ".logits.bin");
        string labels = Path.Combine(dir, name + ".labels.bin"), after = Path.Combine(dir, name + ".after.safetensors");
        File.WriteAllText(script, Script);
        var (exit, output) = ExternalProcess.Run("/usr/bin/python3", "python3-torchvision", TimeSpan.FromMinutes(5),
            script, dir, constructor, $"{batch}x{channels}x{height}x{width}", training ? "train" : "eval", weights, input, logits, labels, after);
        Assert.True(exit == 0, output + "\n(needs apt-get install -y python3-torchvision)");
        log.WriteLine($"{name}: {output.Trim()}");
        var counts = Regex.Match(output, @"(\d+) parameters, (\d+) keys");
        Assert.True(counts.Success, output);
        return new TorchvisionReference
        {
            Weights = weights,
            Input = MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(input)).ToArray(),
            Logits = MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(logits)).ToArray(),
            Parameters = long.Parse(counts.Groups[1].Value, CultureInfo.InvariantCulture),
            Keys = int.Parse(counts.Groups[2].Value, CultureInfo.InvariantCulture),
            Labels = training ? MemoryMarshal.Cast<byte, int>(File.ReadAllBytes(labels)).ToArray() : [],
            Loss = training ? float.Parse(Regex.Match(output, @"loss ([^;\s]+)").Groups[1].Value, CultureInfo.InvariantCulture) : 0,
            After = training ? after : "",
        };
    }

    /// <summary>Loads the state_dict strictly into <paramref name="network"/> (every tensor and BatchNorm statistic,
    /// nothing else), checks the counts, runs an evaluation-mode forward pass and returns the largest difference from
    /// torchvision's logits relative to their scale, which must be at most 1e-4.</summary>
    public float AssertSameLogits(INetwork network, string name, ITestOutputHelper log)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        Load(network);
        var loading = clock.Elapsed;
        Assert.False(network.Training);
        int batch = Input.Length / network.InputLength;
        var logits = new float[batch * network.OutputLength];
        Assert.Equal(Logits.Length, logits.Length);
        network.Forward(Input, logits, batch);
        clock.Stop();
        float largest = LargestDifference(Logits, logits);
        log.WriteLine($"{name}: largest difference from torchvision {largest:E1} of the logits' scale {Logits.Max(Math.Abs):G3} " +
            $"(load {loading.TotalSeconds:F1} s, forward {(clock.Elapsed - loading).TotalSeconds:F1} s)");
        Assert.True(largest <= 1e-4f, $"{name}: CnnGen's logits differ from torchvision's by {largest:E2} of their scale");
        return largest;
    }

    /// <summary>
    /// Training mode: loads the state_dict strictly, computes the loss and gradients of the same batch, and checks the
    /// loss (within 1e-5 of it), every parameter's gradient (within 1e-4 of its tensor's largest magnitude, or of a
    /// thousandth of the largest gradient of all for a tensor whose exact gradient is about zero, such as the bias of a
    /// BatchNorm whose output only feeds another BatchNorm through a convolution), every BatchNorm running statistic
    /// after the step (within 1e-4 of its largest magnitude) and each <c>num_batches_tracked</c> (exactly) against the
    /// exact values. Returns the largest gradient difference relative to its tensor's scale.
    /// </summary>
    public float AssertSameGradients(INetwork network, string name, ITestOutputHelper log)
    {
        Assert.NotEmpty(Labels);
        Load(network);
        network.Training = true;
        float loss = network.ComputeGradients(Input, Labels, Labels.Length);
        var gradients = network.Gradients.ToArray();
        var state = network.State.ToArray();
        // The reference's gradients and statistics, loaded strictly in the network's own layout.
        Checkpoint.Load(After, network);
        var want = network.Parameters;
        float floor = 1e-3f * LargestMagnitude(want);
        float largest = 0;
        string worst = "";
        var wrong = new List<string>();
        foreach (var t in network.Tensors)
        {
            float difference = LargestDifference(want.Slice(t.Offset, t.Length), gradients.AsSpan(t.Offset, t.Length), floor);
            if (difference > 1e-4f) wrong.Add($"{t.Name} ({difference:E1})");
            if (difference >= largest) (largest, worst) = (difference, t.Name);
        }
        Assert.True(wrong.Count == 0, $"{name}: {wrong.Count} gradients differ from the exact ones by more than 1e-4 of their scale: " + string.Join(", ", wrong));
        float largestStatistic = 0;
        foreach (var t in network.StateTensors)
        {
            var wantState = network.State.Slice(t.Offset, t.Length);
            var gotState = state.AsSpan(t.Offset, t.Length);
            if (t.Name.EndsWith(".num_batches_tracked", StringComparison.Ordinal))
            {
                Assert.Equal(wantState.ToArray(), gotState.ToArray());
                continue;
            }
            float difference = LargestDifference(wantState, gotState);
            Assert.True(difference <= 1e-4f, $"{name}: {t.Name} after the step differs from torchvision's by {difference:E2} of its scale");
            largestStatistic = Math.Max(largestStatistic, difference);
        }
        float lossDifference = Math.Abs(loss - Loss) / Math.Abs(Loss);
        log.WriteLine($"{name}: loss {loss:G7} (exact {Loss:G7}, {lossDifference:E1} apart); CnnGen's gradients within " +
            $"{largest:E1} of the exact ones ({worst}); running statistics within {largestStatistic:E1}");
        Assert.True(lossDifference <= 1e-5f, $"{name}: CnnGen's loss {loss} differs from torchvision's {Loss}");
        return largest;
    }

    private void Load(INetwork network)
    {
        Assert.Equal(Parameters, network.Parameters.Length);
        Checkpoint.Load(Weights, network); // strict: every tensor and BatchNorm statistic, nothing else
        Assert.Equal(Keys, network.Tensors.Count + network.StateTensors.Count);
    }

    /// <summary>The largest absolute difference relative to the reference's largest magnitude, or to
    /// <paramref name="floor"/> if that is larger (absolute if both are 0).</summary>
    private static float LargestDifference(ReadOnlySpan<float> want, ReadOnlySpan<float> got, float floor = 0)
    {
        Assert.Equal(want.Length, got.Length);
        float scale = Math.Max(LargestMagnitude(want), floor), largest = 0;
        for (int i = 0; i < want.Length; i++) largest = Math.Max(largest, Math.Abs(want[i] - got[i]));
        return scale > 0 ? largest / scale : largest;
    }

    private static float LargestMagnitude(ReadOnlySpan<float> values)
    {
        float largest = 0;
        foreach (float v in values) largest = Math.Max(largest, Math.Abs(v));
        return largest;
    }
}
