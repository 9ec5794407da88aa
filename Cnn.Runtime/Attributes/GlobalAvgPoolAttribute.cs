namespace CnnGen;

/// <summary>Global average pooling (PyTorch's <c>AdaptiveAvgPool2d(1)</c>): each channel's mean over the whole map, so a
/// C x H x W input gives C x 1 x 1. The head of ResNet, GoogLeNet, DenseNet and MobileNetV2.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class GlobalAvgPoolAttribute : LayerAttribute { }
