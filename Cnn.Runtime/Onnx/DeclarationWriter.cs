using System.Globalization;
using System.Text;

namespace CnnGen.Onnx;

/// <summary>
/// Writes an imported network as C#: a <c>partial class</c> with one attribute per layer, every layer named (PyTorch's
/// module paths where the model kept them), <c>From</c> where a layer does not read the line above, and only the
/// arguments that differ from the attributes' defaults. Building it with CnnGen's generator gives the network.
/// </summary>
public static class DeclarationWriter
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    public static string Write(ImportedNetwork network, string className, string @namespace)
    {
        CSharpNames.CheckClass(className);
        CSharpNames.CheckNamespace(@namespace);
        var text = new StringBuilder();
        text.AppendLine("// Imported from an ONNX model by CnnGen's `import` command; the weights are in the .safetensors file of the same name.");
        text.AppendLine("using CnnGen;");
        text.AppendLine();
        text.AppendLine(Invariant, $"namespace {@namespace};");
        text.AppendLine();
        text.AppendLine(Invariant, $"/// <summary>{Escape(network.Source)}: {network.Layers.Count} layers, {network.ParameterCount:N0} parameters, input {network.InputChannels}x{network.InputHeight}x{network.InputWidth}.</summary>");
        text.AppendLine(Invariant, $"[Input({network.InputChannels}, {network.InputHeight}, {network.InputWidth})]");
        foreach (var layer in network.Layers) text.AppendLine(Attribute(layer));
        text.AppendLine(Invariant, $"public partial class {className} {{ }}");
        return text.ToString();
    }

    /// <summary>One layer's attribute, e.g. <c>[Conv(3, 64, Stride = 2, Padding = 1, Bias = false, Name = "conv1")]</c>.</summary>
    public static string Attribute(ImportedLayer l)
    {
        var positional = new List<string>();
        var named = new List<string>();
        switch (l.Kind)
        {
            case "Conv":
                positional.Add(Int(l.Kernel));
                positional.Add(Int(l.Filters));
                if (l.Stride != 1) named.Add($"Stride = {Int(l.Stride)}");
                if (l.Padding != 0) named.Add($"Padding = {Int(l.Padding)}");
                if (l.Groups != 1) named.Add($"Groups = {Int(l.Groups)}");
                if (l.Dilation != 1) named.Add($"Dilation = {Int(l.Dilation)}");
                if (!l.Bias) named.Add("Bias = false");
                break;
            case "Dense":
                positional.Add(Int(l.Filters));
                if (!l.Bias) named.Add("Bias = false");
                break;
            case "MaxPool" or "AvgPool":
                positional.Add(Int(l.Kernel));
                if (l.Stride != l.Kernel) named.Add($"Stride = {Int(l.Stride)}");
                if (l.Padding != 0) named.Add($"Padding = {Int(l.Padding)}");
                if (l.CeilMode) named.Add("CeilMode = true");
                break;
            case "LeakyReLU" or "ELU" or "Dropout":
                positional.Add(Float(l.Argument));
                break;
            case "BatchNorm":
                if (l.Epsilon != BatchNormAttribute.DefaultEpsilon) named.Add($"Epsilon = {Float(l.Epsilon)}");
                if (l.Momentum != BatchNormAttribute.DefaultMomentum) named.Add($"Momentum = {Float(l.Momentum)}");
                break;
            case "Add" or "Concat":
                positional.AddRange(l.Sources.Select(Quote));
                break;
        }
        if (l.From is not null) named.Add($"From = {Quote(l.From)}");
        named.Add($"Name = {Quote(l.Name)}");
        return $"[{l.Kind}({string.Join(", ", positional.Concat(named))})]";
    }

    private static string Int(int value) => value.ToString(Invariant);

    private static string Float(float value) => value.ToString("R", Invariant) + "f";

    /// <summary>Layer names are module paths (letters, digits, '_' and '.'): nothing to escape, but checked.</summary>
    private static string Quote(string name) =>
        ModulePaths.IsModulePath(name) ? "\"" + name + "\"" : throw new ArgumentException($"'{name}' is not a layer name CnnGen accepts");

    private static string Escape(string text) =>
        new string(text.Select(c => char.IsControl(c) ? ' ' : c).ToArray()).Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;");
}
