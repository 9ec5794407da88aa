namespace CnnGen;

/// <summary>2-D convolution with a square <paramref name="kernel"/> and <paramref name="filters"/> output channels
/// (PyTorch's <c>Conv2d</c>): <c>out = floor((in + 2*Padding - Dilation*(kernel-1) - 1) / Stride) + 1</c>.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class ConvAttribute(int kernel, int filters) : LayerAttribute
{
    public int Kernel { get; } = kernel;
    public int Filters { get; } = filters;
    public int Stride { get; set; } = 1;
    /// <summary>Zeros added on each side of the input.</summary>
    public int Padding { get; set; }

    /// <summary>Whether the layer learns a bias per filter (<c>convN.bias</c>); false, as torchvision's convolutions
    /// before a BatchNorm, leaves the tensor out.</summary>
    public bool Bias { get; set; } = true;

    /// <summary>Grouped convolution (PyTorch's <c>groups</c>): the input channels and the filters split into this many groups,
    /// each filter seeing only its group's channels; it must divide both. Groups equal to the channels is a depthwise
    /// convolution (MobileNetV2). The weight is then [filters, channels / groups, kernel, kernel].</summary>
    public int Groups { get; set; } = 1;

    /// <summary>Spacing between the kernel's taps (PyTorch's <c>dilation</c>): a k x k kernel with dilation d spans
    /// <c>d*(k-1)+1</c> input pixels, so <c>out = floor((in + 2*Padding - d*(kernel-1) - 1) / Stride) + 1</c>. 1, the
    /// default, is an ordinary convolution.</summary>
    public int Dilation { get; set; } = 1;
}
