using CnnGen.Samples.Networks;
using Xunit;
using Xunit.Abstractions;

namespace CnnGen.Samples.Tests;

/// <summary>
/// The ResNet18 sample against torchvision 0.14's resnet18 (Debian's python3-torchvision): a randomly initialised
/// torchvision model, with BatchNorm statistics and affine parameters away from their defaults, saves its state_dict;
/// CnnGen loads it strictly, key for key, and its evaluation-mode logits agree within 1e-4 of their scale, on two threads
/// (an image each) and on one (both images in one micro-batch).
/// </summary>
public sealed class TorchvisionTests(ITestOutputHelper log) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("cnngen-torchvision").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void TorchvisionResNet18LoadsStrictlyAndGivesTheSameLogits()
    {
        var reference = TorchvisionReference.Create(_dir, "resnet18", "torchvision.models.resnet18()", 2, 3, 224, 224, log);
        Assert.Equal(122, reference.Keys);
        var network = SampleNetworks.Find("resnet18")!.Create(0);
        network.Threads = 2;
        reference.AssertSameLogits(network, "resnet18", log);
        // One thread takes both images as one micro-batch (ResNet18.MicroBatch is 2): layer4's 512 -> 512 layers then run
        // Winograd, which one image per call does not.
        Assert.Equal(2, ResNet18.MicroBatch);
        var oneThread = SampleNetworks.Find("resnet18")!.Create(0);
        oneThread.Threads = 1;
        reference.AssertSameLogits(oneThread, "resnet18, one thread", log);
    }
}
