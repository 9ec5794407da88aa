namespace CnnGen;

/// <summary>One named tensor inside a network's parameter buffer.</summary>
/// <param name="Name">PyTorch-style name, e.g. <c>conv1.weight</c>.</param>
/// <param name="Shape">Shape in PyTorch's layout: conv weight <c>[out, in, kh, kw]</c>, dense weight <c>[out, in]</c>.</param>
/// <param name="Offset">Start in <see cref="INetwork.Parameters"/> (and <see cref="INetwork.Gradients"/>).</param>
/// <param name="Length">Number of values.</param>
public sealed record TensorInfo(string Name, IReadOnlyList<int> Shape, int Offset, int Length)
{
    public string ShapeText => "[" + string.Join(", ", Shape) + "]";
}
