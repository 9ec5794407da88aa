namespace CnnGen;

/// <summary>
/// A shortcut connection (ResNet, seed 002's named networks): adds the output of an earlier layer, named by
/// <paramref name="source"/>, to this layer's input, <c>y = x + source</c>. Both must have the same shape. The backward
/// pass sends the gradient both ways: on through the layers in between, and straight back to <paramref name="source"/>.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class AddAttribute(string source) : LayerAttribute
{
    /// <summary>The earlier layer whose output is added (by name, e.g. <c>relu1</c>).</summary>
    public string Source { get; } = source;
}
