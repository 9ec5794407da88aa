using System.Globalization;
using System.Collections.Generic;
using System.Linq;
using System.Security.Cryptography;
using System.Text;
using CnnGen.Generator.Model;

namespace CnnGen.Generator.Emit;

/// <summary>Emits what is known at compile time: shapes, receptive fields, counts and the summary, as literals.</summary>
internal static class InfoEmitter
{
    public static void Emit(SourceWriter w, NetworkSpec spec, string summary)
    {
        var input = spec.Input;
        w.Line("// ---- Compile-time facts -------------------------------------------------------------");
        w.Line($"/// <summary>Channels of an input image.</summary>");
        w.Line($"public const int InputChannels = {input.Channels};");
        w.Line($"/// <summary>Height of an input image.</summary>");
        w.Line($"public const int InputHeight = {input.Height};");
        w.Line($"/// <summary>Width of an input image.</summary>");
        w.Line($"public const int InputWidth = {input.Width};");
        w.Line($"/// <summary>Values per input image ({input}, C,H,W row-major).</summary>");
        w.Line($"public const int InputLength = {input.Length};");
        w.Line($"/// <summary>Values per output ({(spec.EndsWithSoftmax ? "class probabilities" : "logits")}).</summary>");
        w.Line($"public const int OutputLength = {spec.Output.Length};");
        w.Line($"/// <summary>Trainable parameters.</summary>");
        w.Line($"public const int ParameterCount = {spec.ParameterCount};");
        w.Line($"/// <summary>Multiply-accumulates of one forward pass for one image.</summary>");
        w.Line($"public const long ForwardMacs = {spec.ForwardMacs}L;");
        w.Line($"/// <summary>A hash of the architecture; checkpoints record it.</summary>");
        w.Line($"public const string ArchitectureFingerprint = \"{Fingerprint(spec)}\";");
        w.Line();
        w.Line("/// <summary>Every layer with its output shape, receptive field, effective stride and padding, parameters and MACs.</summary>");
        w.Open("public static global::System.Collections.Generic.IReadOnlyList<global::CnnGen.LayerInfo> Layers { get; } = new global::CnnGen.LayerInfo[]");
        foreach (var l in spec.Layers)
        {
            w.Line($"new(\"{l.Name}\", \"{l.Kind}\", {l.Output.Channels}, {l.Output.Height}, {l.Output.Width}, " +
                   $"ReceptiveField: {l.ReceptiveFieldHeight}, ReceptiveFieldWidth: {l.ReceptiveFieldWidth}, " +
                   $"EffectiveStride: {l.EffectiveStride}, EffectivePadding: {l.EffectivePadding}, Parameters: {l.Parameters}, Macs: {l.Macs})" +
                   $" {{ {Details(spec, l)} }},");
        }
        w.Close(";");
        w.Line();
        w.Line("/// <summary>The architecture table: layers, output shapes, receptive fields, effective strides, parameters, MACs.</summary>");
        w.Line("public const string Summary =");
        var lines = summary.Split('\n');
        for (int i = 0; i < lines.Length; i++)
            w.Line($"    \"{Escape(lines[i])}{(i < lines.Length - 1 ? "\\n" : "")}\"{(i < lines.Length - 1 ? " +" : ";")}");
        w.Line();
        w.Line($"string global::CnnGen.INetwork.Name => \"{spec.ClassName}\";");
        w.Line("int global::CnnGen.INetwork.InputChannels => InputChannels;");
        w.Line("int global::CnnGen.INetwork.InputHeight => InputHeight;");
        w.Line("int global::CnnGen.INetwork.InputWidth => InputWidth;");
        w.Line("int global::CnnGen.INetwork.InputLength => InputLength;");
        w.Line("int global::CnnGen.INetwork.OutputLength => OutputLength;");
        w.Line("int global::CnnGen.INetwork.ParameterCount => ParameterCount;");
        w.Line("global::System.Collections.Generic.IReadOnlyList<global::CnnGen.LayerInfo> global::CnnGen.INetwork.Layers => Layers;");
        w.Line("global::System.Collections.Generic.IReadOnlyList<global::CnnGen.TensorInfo> global::CnnGen.INetwork.Tensors => Tensors;");
        w.Line("string global::CnnGen.INetwork.Summary => Summary;");
        w.Line("string global::CnnGen.INetwork.Fingerprint => ArchitectureFingerprint;");
    }

    /// <summary>First 16 hex digits of the SHA-256 of the architecture's description (input, layers, hyper-parameters).</summary>
    public static string Fingerprint(NetworkSpec spec)
    {
        var sb = new StringBuilder();
        sb.Append("input ").Append(spec.Input);
        foreach (var l in spec.Layers)
            sb.Append(';').Append(l.Name).Append(' ').Append(l.Kind).Append(' ').Append(l.Output)
              .Append(Arguments(l.Op))
              .Append(l.Kind.HasWeights() && l.BiasLength == 0 ? " nobias" : "")
              .Append(l.Op is ConvOp { Groups: > 1 } grouped ? " g" + grouped.Groups : "")
              .Append(l.Op is PoolOp { CeilMode: true } ? " ceil" : "")
              .Append(l.Op is BatchNormOp norm && (norm.Epsilon != BatchNormOp.DefaultEpsilon || norm.Momentum != BatchNormOp.DefaultMomentum)
                  ? $" eps{norm.Epsilon.ToString("R", CultureInfo.InvariantCulture)} m{norm.Momentum.ToString("R", CultureInfo.InvariantCulture)}" : "")
              .Append(l.Join is null ? "" : " from " + string.Join(" ", l.Join.SourceNames))
              // A layer that reads another than the one above it (From); a chain's fingerprints stay as they were.
              .Append(l.InputIndex == l.Index - 1 ? "" : " reads " + (l.InputIndex < 0 ? "input" : spec.Layers[l.InputIndex].Name));
        using var sha = SHA256.Create();
        var hash = sha.ComputeHash(Encoding.UTF8.GetBytes(sb.ToString()));
        return string.Concat(hash.Take(8).Select(b => b.ToString("x2", CultureInfo.InvariantCulture)));
    }

    /// <summary>What a tool needs to rebuild the layer elsewhere (an ONNX or PyTorch export): what it reads and its arguments.</summary>
    private static string Details(NetworkSpec spec, LayerSpec l)
    {
        var parts = new List<string> { $"Input = \"{(l.InputIndex < 0 ? "input" : spec.Layers[l.InputIndex].Name)}\"" };
        if (l.Join is { } join)
            parts.Add($"Source = \"{string.Join(", ", join.SourceNames)}\", Sources = new[] {{ {string.Join(", ", join.SourceNames.Select(n => $"\"{n}\""))} }}");
        switch (l.Op)
        {
            case ConvOp c:
                parts.Add($"Kernel = {c.Kernel}, Stride = {c.Stride}, Padding = {c.Padding}, Groups = {c.Groups}" + (c.Dilation != 1 ? $", Dilation = {c.Dilation}" : ""));
                break;
            case PoolOp p:
                parts.Add($"Kernel = {p.Size}, Stride = {p.Stride}, Padding = {p.Padding}" + (p.CeilMode ? ", CeilMode = true" : ""));
                break;
            case LeakyReluOp r:
                parts.Add($"Slope = {Float(r.Slope)}");
                break;
            case EluOp e:
                parts.Add($"Alpha = {Float(e.Alpha)}");
                break;
            case DropoutOp d:
                parts.Add($"DropoutRate = {Float(d.Rate)}");
                break;
            case MaxoutOp m:
                parts.Add($"Pieces = {m.Pieces}");
                break;
            case BatchNormOp b:
                parts.Add($"Epsilon = {Float(b.Epsilon)}, Momentum = {Float(b.Momentum)}");
                break;
        }
        return string.Join(", ", parts);
    }

    private static string Float(float value) => value.ToString("R", CultureInfo.InvariantCulture) + "f";

    /// <summary>Window, stride, padding and the one float argument, written as checkpoints have always recorded them
    /// (kernel 0, stride 1, padding 0 and argument 0 for layers without them), so existing checkpoints keep their fingerprints.</summary>
    private static string Arguments(LayerOp op)
    {
        (int kernel, int stride, int padding, float argument) = op switch
        {
            ConvOp c => (c.Kernel, c.Stride, c.Padding, 0f),
            PoolOp p => (p.Size, p.Stride, p.Padding, 0f),
            LeakyReluOp r => (0, 1, 0, r.Slope),
            EluOp e => (0, 1, 0, e.Alpha),
            DropoutOp d => (0, 1, 0, d.Rate),
            _ => (0, 1, 0, 0f),
        };
        // Dilation is recorded only when it is not 1, so networks without it keep their fingerprints.
        string dilation = op is ConvOp { Dilation: not 1 } dilated ? $" d{dilated.Dilation}" : "";
        return $" k{kernel} s{stride} p{padding} a{argument.ToString("R", CultureInfo.InvariantCulture)}{dilation}";
    }

    private static string Escape(string s) => s.Replace("\\", "\\\\").Replace("\"", "\\\"");
}
