using CnnGen.Generator.Model;

namespace CnnGen.Generator.Parsing;

/// <summary>Metadata names of the DSL's attributes (defined in Cnn.Runtime, namespace <c>CnnGen</c>).</summary>
internal static class AttributeNames
{
    public const string Namespace = "CnnGen";
    public const string Input = "CnnGen.InputAttribute";

    /// <summary>Every layer attribute and the kind it declares.</summary>
    public static readonly (string MetadataName, LayerKind Kind)[] Layers =
    {
        ("CnnGen.ConvAttribute", LayerKind.Conv),
        ("CnnGen.MaxPoolAttribute", LayerKind.MaxPool),
        ("CnnGen.AvgPoolAttribute", LayerKind.AvgPool),
        ("CnnGen.DenseAttribute", LayerKind.Dense),
        ("CnnGen.ReLUAttribute", LayerKind.ReLU),
        ("CnnGen.LeakyReLUAttribute", LayerKind.LeakyReLU),
        ("CnnGen.ELUAttribute", LayerKind.ELU),
        ("CnnGen.SigmoidAttribute", LayerKind.Sigmoid),
        ("CnnGen.TanhAttribute", LayerKind.Tanh),
        ("CnnGen.SoftmaxAttribute", LayerKind.Softmax),
        ("CnnGen.MaxoutAttribute", LayerKind.Maxout),
        ("CnnGen.DropoutAttribute", LayerKind.Dropout),
        ("CnnGen.BatchNormAttribute", LayerKind.BatchNorm),
        ("CnnGen.AddAttribute", LayerKind.Add),
        ("CnnGen.ConcatAttribute", LayerKind.Concat),
        ("CnnGen.ReLU6Attribute", LayerKind.ReLU6),
        ("CnnGen.GlobalAvgPoolAttribute", LayerKind.GlobalAvgPool),
    };

    public static bool TryGetLayerKind(string metadataName, out LayerKind kind)
    {
        foreach (var (name, k) in Layers)
        {
            if (name == metadataName) { kind = k; return true; }
        }
        kind = default;
        return false;
    }
}
