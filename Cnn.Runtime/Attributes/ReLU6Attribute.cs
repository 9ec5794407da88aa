namespace CnnGen;

/// <summary><c>min(max(0, x), 6)</c> (PyTorch's <c>ReLU6</c>, MobileNetV2's activation).</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class ReLU6Attribute : LayerAttribute { }
