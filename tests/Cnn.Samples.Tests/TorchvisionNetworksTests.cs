using CnnGen.Samples.Networks;
using Xunit;
using Xunit.Abstractions;

namespace CnnGen.Samples.Tests;

/// <summary>
/// The MobileNetV2, GoogLeNet, DenseNet-121, AlexNet and VGG16 samples against torchvision 0.14's models (Debian's
/// python3-torchvision): each randomly initialised torchvision model, with BatchNorm statistics and affine parameters
/// away from their defaults, saves its state_dict and its logits on one random 3x224x224 image; the sample has
/// torchvision's parameter count, loads the state_dict strictly, key for key, and its evaluation-mode logits agree
/// within 1e-4 of their scale.
/// </summary>
public sealed class TorchvisionNetworksTests(ITestOutputHelper log) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("cnngen-torchvision").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData("mobilenetv2", "torchvision.models.mobilenet_v2()", 3_504_872, 314)]
    [InlineData("googlenet", "torchvision.models.googlenet(aux_logits=False, transform_input=False, init_weights=True)", 6_624_904, 344)]
    [InlineData("densenet121", "torchvision.models.densenet121()", 7_978_856, 727)]
    [InlineData("alexnet", "torchvision.models.alexnet()", 61_100_840, 16)]
    [InlineData("vgg16", "torchvision.models.vgg16()", 138_357_544, 32)]
    public void TorchvisionModelLoadsStrictlyAndGivesTheSameLogits(string sample, string constructor, long parameters, int keys)
    {
        var reference = TorchvisionReference.Create(_dir, sample, constructor, 1, 3, 224, 224, log);
        Assert.Equal(parameters, reference.Parameters);
        Assert.Equal(keys, reference.Keys);
        var entry = SampleNetworks.Find(sample)!;
        Assert.Equal(parameters, entry.Parameters);
        var network = entry.Create(0);
        network.Threads = 2;
        reference.AssertSameLogits(network, sample, log);
    }
}
