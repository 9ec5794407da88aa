namespace CnnGen;

/// <summary>
/// A dense connection (DenseNet, seed 002's named networks): joins the output of an earlier layer, named by
/// <paramref name="source"/>, to this layer's input along the channels: the output has the input's channels first, then
/// the source's (PyTorch's <c>torch.cat([x, source], dim=1)</c>). Heights and widths must be equal. The backward pass
/// splits the gradient: the first channels go on through the layers in between, the rest straight back to the source.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class ConcatAttribute(string source) : LayerAttribute
{
    /// <summary>The earlier layer whose output is joined (by name, e.g. <c>relu1</c>).</summary>
    public string Source { get; } = source;
}
