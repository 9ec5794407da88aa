using CnnGen.Samples.Tests.Networks;
using Xunit;
using Xunit.Abstractions;

namespace CnnGen.Samples.Tests;

/// <summary>
/// Training mode against torchvision: MobileNetV2 and ResNet-18 on a batch of four images (3x48x48 and 3x64x64) with 10-class heads
/// (test-only variants of the samples, <c>Networks/</c>), BatchNorm normalising by the batch. From the same randomly
/// initialised weights, CnnGen's mean cross-entropy agrees with torchvision's float64 step within 1e-5 of it, every
/// parameter's gradient within 1e-4 of its tensor's scale, and so do the running statistics the step leaves.
/// </summary>
/// <remarks>
/// Sizes are chosen where float32 is accurate enough to compare: MobileNetV2's training-mode gradients are
/// ill-conditioned on many inputs (at 3x64x64 with a uniform input PyTorch's own float32 gradients are 2.6e-2 from the
/// float64 ones), so the script reports PyTorch's float32 error next to CnnGen's. Larger MobileNetV2 inputs are not
/// compared for a reason of the same kind: a training-mode BatchNorm output can fall within 1e-7 of ReLU6's kink at 0
/// (at 3x96x96, one value of features.2.conv.0.1 is 1.0e-7 above it and one of features.14.conv.0.1 6.7e-7 below it),
/// and any float32 computation may land on its other side; that single flipped derivative moves the BatchNorm's bias
/// gradient by 1.4e-2 (respectively 4.2e-2) of its scale and the gradients of the layers before it by 1e-3 to 1e-2.
/// </remarks>
public sealed class TorchvisionTrainingTests(ITestOutputHelper log) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("cnngen-torchvision").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void MobileNetV2GradientsMatchTorchvision()
    {
        var reference = TorchvisionReference.Create(_dir, "mobilenetv2", "torchvision.models.mobilenet_v2(num_classes=10)", 4, 3, 48, 48, log, training: true);
        reference.AssertSameGradients(new MobileNetV2Small(0) { Threads = 2 }, "mobilenetv2", log);
    }

    [Fact]
    public void ResNet18GradientsMatchTorchvision()
    {
        var reference = TorchvisionReference.Create(_dir, "resnet18", "torchvision.models.resnet18(num_classes=10)", 4, 3, 64, 64, log, training: true);
        reference.AssertSameGradients(new ResNet18Small(0) { Threads = 2 }, "resnet18", log);
    }
}
