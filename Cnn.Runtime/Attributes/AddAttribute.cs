namespace CnnGen;

/// <summary>
/// A shortcut connection (ResNet, seed 002's named networks): adds the outputs of earlier layers, named by
/// <paramref name="source"/> and any <paramref name="more"/>, to this layer's input, <c>y = x + source + ...</c>. All must
/// have the same shape. The backward pass sends the gradient every way: to the input, and straight back to each source.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class AddAttribute(string source, params string[] more) : LayerAttribute
{
    /// <summary>The first earlier layer whose output is added (by name, e.g. <c>relu1</c>).</summary>
    public string Source { get; } = source;

    /// <summary>Every earlier layer whose output is added, in the order given.</summary>
    public IReadOnlyList<string> Sources { get; } = [source, .. more];
}
