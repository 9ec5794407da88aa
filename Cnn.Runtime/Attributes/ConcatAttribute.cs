namespace CnnGen;

/// <summary>
/// A channel join (DenseNet's dense connection, GoogLeNet's inception module): joins the outputs of earlier layers, named
/// by <paramref name="source"/> and any <paramref name="more"/>, to this layer's input along the channels: the output has
/// the input's channels first, then each source's in the order given (PyTorch's <c>torch.cat([x, source, ...], dim=1)</c>).
/// Heights and widths must be equal. The backward pass splits the gradient: the first channels go to the input, each
/// source's channels straight back to that source.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class ConcatAttribute(string source, params string[] more) : LayerAttribute
{
    /// <summary>The first earlier layer whose output is joined (by name, e.g. <c>relu1</c>).</summary>
    public string Source { get; } = source;

    /// <summary>Every earlier layer whose output is joined, in the order given.</summary>
    public IReadOnlyList<string> Sources { get; } = [source, .. more];
}
