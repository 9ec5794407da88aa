using System.Runtime.InteropServices;
using CnnGen.Checkpoints;
using CnnGen.PyTorch;
using CnnGen.Samples.Networks;
using Xunit;
using Xunit.Abstractions;

namespace CnnGen.Samples.Tests;

/// <summary>
/// The ResNet18 sample against torchvision 0.14's resnet18 (Debian's python3-torchvision): a randomly initialised
/// torchvision model, with BatchNorm statistics and affine parameters away from their defaults, saves its state_dict;
/// CnnGen loads it strictly, key for key, and its evaluation-mode logits agree within 1e-4 of their scale.
/// </summary>
public sealed class TorchvisionTests(ITestOutputHelper log) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("cnngen-torchvision").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private const string Script = """
        import sys
        import numpy as np, torch, torchvision
        sys.path.insert(0, sys.argv[1])
        import train_ddp
        torch.manual_seed(2026)
        model = torchvision.models.resnet18()
        with torch.no_grad():
            for module in model.modules():
                if isinstance(module, torch.nn.BatchNorm2d):
                    module.running_mean.uniform_(-0.5, 0.5)
                    module.running_var.uniform_(0.5, 1.5)
                    module.weight.uniform_(0.5, 1.5)
                    module.bias.uniform_(-0.2, 0.2)
                    module.num_batches_tracked.fill_(7)
        model.eval()
        x = torch.rand(2, 3, 224, 224)
        with torch.no_grad():
            logits = model(x)
        train_ddp.write_safetensors(sys.argv[2], model.state_dict(), {"producer": f"torchvision {torchvision.__version__}"})
        x.numpy().astype("<f4").tofile(sys.argv[3])
        logits.numpy().astype("<f4").tofile(sys.argv[4])
        print(f"torchvision {torchvision.__version__}: {len(model.state_dict())} keys")
        """;

    [Fact]
    public void TorchvisionResNet18LoadsStrictlyAndGivesTheSameLogits()
    {
        File.WriteAllText(Path.Combine(_dir, "train_ddp.py"), PyTorchExport.TrainingScript());
        string script = Path.Combine(_dir, "resnet18.py"), weights = Path.Combine(_dir, "resnet18.safetensors");
        string input = Path.Combine(_dir, "x.bin"), expected = Path.Combine(_dir, "logits.bin");
        File.WriteAllText(script, Script);
        var (exit, output) = ExternalProcess.Run("/usr/bin/python3", "python3-torchvision", TimeSpan.FromMinutes(5), script, _dir, weights, input, expected);
        Assert.True(exit == 0, output + "\n(needs apt-get install -y python3-torchvision)");
        log.WriteLine(output.Trim());

        var network = SampleNetworks.Find("resnet18")!.Create(0);
        network.Threads = 2;
        Checkpoint.Load(weights, network); // strict: every tensor and BatchNorm statistic, nothing else
        Assert.Equal(122, network.Tensors.Count + network.StateTensors.Count);
        var x = MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(input)).ToArray();
        var want = MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(expected)).ToArray();
        var logits = new float[2 * 1000];
        network.Forward(x, logits, 2);
        float scale = want.Max(Math.Abs), largest = 0;
        for (int i = 0; i < want.Length; i++) largest = Math.Max(largest, Math.Abs(want[i] - logits[i]) / scale);
        log.WriteLine($"resnet18: largest difference from torchvision {largest:E1} of the logits' scale {scale:G3}");
        Assert.True(largest <= 1e-4f, $"CnnGen's logits differ from torchvision's by {largest:E2} of their scale");
    }
}
