namespace CnnGen;

/// <summary>Fully connected layer with <paramref name="units"/> outputs (PyTorch's <c>Linear</c>).
/// A spatial input is flattened in C, H, W order first, as PyTorch's <c>Flatten</c>.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class DenseAttribute(int units) : LayerAttribute
{
    public int Units { get; } = units;

    /// <summary>Whether the layer learns a bias per unit (<c>denseN.bias</c>); false leaves the tensor out.</summary>
    public bool Bias { get; set; } = true;
}
