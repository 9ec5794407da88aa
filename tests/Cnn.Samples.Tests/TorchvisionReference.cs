using System.Runtime.InteropServices;
using CnnGen.Checkpoints;
using CnnGen.PyTorch;
using Xunit;
using Xunit.Abstractions;

namespace CnnGen.Samples.Tests;

/// <summary>
/// A randomly initialised torchvision model (Debian's python3-torchvision) as a reference: BatchNorm running statistics
/// and affine parameters moved away from their defaults, evaluation mode; it saves its state_dict as safetensors, a
/// random input and its logits on that input, and reports its parameter and state_dict key counts.
/// </summary>
internal sealed class TorchvisionReference
{
    private const string Script = """
        import sys
        import torch, torchvision
        sys.path.insert(0, sys.argv[1])
        import train_ddp
        torch.manual_seed(2026)
        model = eval(sys.argv[2])
        with torch.no_grad():
            for module in model.modules():
                if isinstance(module, torch.nn.modules.batchnorm._BatchNorm):
                    module.running_mean.uniform_(-0.5, 0.5)
                    module.running_var.uniform_(0.5, 1.5)
                    module.weight.uniform_(0.5, 1.5)
                    module.bias.uniform_(-0.2, 0.2)
                    module.num_batches_tracked.fill_(7)
        model.eval()
        x = torch.rand(*[int(n) for n in sys.argv[3].split("x")])
        with torch.no_grad():
            logits = model(x)
        train_ddp.write_safetensors(sys.argv[4], model.state_dict(), {"producer": f"torchvision {torchvision.__version__}"})
        x.numpy().astype("<f4").tofile(sys.argv[5])
        logits.numpy().astype("<f4").tofile(sys.argv[6])
        parameters = sum(p.numel() for p in model.parameters())
        print(f"torchvision {torchvision.__version__}: {parameters} parameters, {len(model.state_dict())} keys")
        """;

    public required string Weights { get; init; }
    public required float[] Input { get; init; }
    public required float[] Logits { get; init; }
    public required long Parameters { get; init; }
    public required int Keys { get; init; }

    /// <param name="constructor">A Python expression that builds the model, e.g. <c>torchvision.models.resnet18()</c>.</param>
    public static TorchvisionReference Create(string dir, string name, string constructor, int batch, int channels, int height, int width,
        ITestOutputHelper log)
    {
        File.WriteAllText(Path.Combine(dir, "train_ddp.py"), PyTorchExport.TrainingScript());
        string script = Path.Combine(dir, name + ".py"), weights = Path.Combine(dir, name + ".safetensors");
        string input = Path.Combine(dir, name + ".x.bin"), expected = Path.Combine(dir, name + ".logits.bin");
        File.WriteAllText(script, Script);
        var (exit, output) = ExternalProcess.Run("/usr/bin/python3", "python3-torchvision", TimeSpan.FromMinutes(5),
            script, dir, constructor, $"{batch}x{channels}x{height}x{width}", weights, input, expected);
        Assert.True(exit == 0, output + "\n(needs apt-get install -y python3-torchvision)");
        log.WriteLine($"{name}: {output.Trim()}");
        var counts = System.Text.RegularExpressions.Regex.Match(output, @"(\d+) parameters, (\d+) keys");
        Assert.True(counts.Success, output);
        return new TorchvisionReference
        {
            Weights = weights,
            Input = ReadFloats(input),
            Logits = ReadFloats(expected),
            Parameters = long.Parse(counts.Groups[1].Value),
            Keys = int.Parse(counts.Groups[2].Value),
        };
    }

    /// <summary>Loads the state_dict strictly into <paramref name="network"/> (every tensor and BatchNorm statistic,
    /// nothing else), checks the counts, runs an evaluation-mode forward pass and returns the largest difference from
    /// torchvision's logits relative to their scale, which must be at most 1e-4.</summary>
    public float AssertSameLogits(INetwork network, string name, ITestOutputHelper log)
    {
        Assert.Equal(Parameters, network.Parameters.Length);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        Checkpoint.Load(Weights, network);
        var loading = clock.Elapsed;
        Assert.Equal(Keys, network.Tensors.Count + network.StateTensors.Count);
        Assert.False(network.Training);
        int batch = Input.Length / network.InputLength;
        var logits = new float[batch * network.OutputLength];
        Assert.Equal(Logits.Length, logits.Length);
        network.Forward(Input, logits, batch);
        clock.Stop();
        float scale = Logits.Max(Math.Abs), largest = 0;
        for (int i = 0; i < Logits.Length; i++) largest = Math.Max(largest, Math.Abs(Logits[i] - logits[i]) / scale);
        log.WriteLine($"{name}: largest difference from torchvision {largest:E1} of the logits' scale {scale:G3} (load {loading.TotalSeconds:F1} s, forward {(clock.Elapsed - loading).TotalSeconds:F1} s)");
        Assert.True(largest <= 1e-4f, $"{name}: CnnGen's logits differ from torchvision's by {largest:E2} of their scale");
        return largest;
    }

    private static float[] ReadFloats(string path) => MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(path)).ToArray();
}
