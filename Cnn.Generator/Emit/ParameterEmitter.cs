using System.Collections.Generic;
using System.Linq;
using CnnGen.Generator.Model;

namespace CnnGen.Generator.Emit;

/// <summary>Emits the parameter buffer, its named tensors (PyTorch names and layouts) and their initialisation.</summary>
internal static class ParameterEmitter
{
    public enum Role { Weight, Bias, RunningMean, RunningVar, BatchCount }

    /// <summary>A tensor in the parameter buffer (weight, bias) or in the state buffer (BatchNorm's running statistics).</summary>
    public sealed record Tensor(string Name, int[] Shape, int Offset, int Length, LayerSpec Layer, Role Role)
    {
        public bool IsState => Role >= Role.RunningMean;
    }

    public static List<Tensor> Tensors(NetworkSpec spec)
    {
        var tensors = new List<Tensor>();
        foreach (var l in spec.Layers)
        {
            if (!l.Kind.HasParameters()) continue;
            int[] weightShape = l.Op switch
            {
                ConvOp c => new[] { c.Filters, l.Input.Channels / c.Groups, c.Kernel, c.Kernel },
                DenseOp d => new[] { d.Units, (int)l.Input.Length },
                _ => new[] { l.BiasLength }, // BatchNorm: one weight (gamma) and one bias (beta) per channel
            };
            tensors.Add(new Tensor(l.Name + ".weight", weightShape, l.ParameterOffset, l.WeightLength, l, Role.Weight));
            if (l.BiasLength > 0) // Bias = false: no tensor, as torchvision's convolutions before a BatchNorm
                tensors.Add(new Tensor(l.Name + ".bias", new[] { l.BiasLength }, l.ParameterOffset + l.WeightLength, l.BiasLength, l, Role.Bias));
        }
        return tensors;
    }

    /// <summary>State tensors (saved and loaded, not trained): each BatchNorm's running statistics, in PyTorch's names.</summary>
    public static List<Tensor> StateTensors(NetworkSpec spec)
    {
        var tensors = new List<Tensor>();
        foreach (var l in spec.Layers)
        {
            if (l.Op is not BatchNormOp { Channels: var c }) continue;
            tensors.Add(new Tensor(l.Name + ".running_mean", new[] { c }, l.StateOffset, c, l, Role.RunningMean));
            tensors.Add(new Tensor(l.Name + ".running_var", new[] { c }, l.StateOffset + c, c, l, Role.RunningVar));
            tensors.Add(new Tensor(l.Name + ".num_batches_tracked", new int[0], l.StateOffset + 2 * c, 1, l, Role.BatchCount));
        }
        return tensors;
    }

    public static void Emit(SourceWriter w, NetworkSpec spec)
    {
        var tensors = Tensors(spec);
        string cls = spec.ClassName;
        w.Line("// ---- Parameters ---------------------------------------------------------------------");
        w.Line("/// <summary>Every parameter tensor: PyTorch name, PyTorch shape, place in <see cref=\"Parameters\"/>.</summary>");
        w.Open("public static global::System.Collections.Generic.IReadOnlyList<global::CnnGen.TensorInfo> Tensors { get; } = new global::CnnGen.TensorInfo[]");
        foreach (var t in tensors)
            w.Line($"new(\"{t.Name}\", new[] {{ {string.Join(", ", t.Shape)} }}, {t.Offset}, {t.Length}),");
        w.Close(";");
        w.Line();
        var state = StateTensors(spec);
        w.Line("/// <summary>State tensors: saved and loaded with the parameters but not trained (BatchNorm's running statistics;");
        w.Line("/// <c>num_batches_tracked</c> is PyTorch's batch count, kept as a float).</summary>");
        if (state.Count == 0)
            w.Line("public static global::System.Collections.Generic.IReadOnlyList<global::CnnGen.TensorInfo> StateTensors { get; } = global::System.Array.Empty<global::CnnGen.TensorInfo>(); // no BatchNorm");
        else
        {
            w.Open("public static global::System.Collections.Generic.IReadOnlyList<global::CnnGen.TensorInfo> StateTensors { get; } = new global::CnnGen.TensorInfo[]");
            foreach (var t in state)
                w.Line($"new(\"{t.Name}\", {(t.Shape.Length == 0 ? "global::System.Array.Empty<int>()" : $"new[] {{ {string.Join(", ", t.Shape)} }}")}, {t.Offset}, {t.Length}),");
            w.Close(";");
        }
        w.Line();
        w.Line($"/// <summary>Values of the state buffer.</summary>");
        w.Line($"public const int StateLength = {spec.StateLength};");
        w.Line("private readonly float[] _state = new float[StateLength];");
        w.Line();
        w.Line("/// <summary>The state tensors' values, one buffer laid out as <see cref=\"StateTensors\"/> says.</summary>");
        w.Line("public global::System.Span<float> State { get { _passes?.WeightsMayChange(); return _state; } }");
        w.Line();
        w.Line("global::System.Collections.Generic.IReadOnlyList<global::CnnGen.TensorInfo> global::CnnGen.INetwork.StateTensors => StateTensors;");
        w.Line();
        w.Line("private readonly float[] _parameters = new float[ParameterCount];");
        int noBias = spec.Layers.Where(l => l.Kind.HasWeights() && l.BiasLength == 0).Select(l => l.BiasSlots).DefaultIfEmpty(0).Max();
        if (noBias > 0)
        {
            w.Line("/// <summary>The zeros a layer declared with <c>Bias = false</c> adds.</summary>");
            w.Line($"private static readonly float[] _noBias = new float[{noBias}];");
        }
        w.Line("private float[] _gradients = global::System.Array.Empty<float>();");
        w.Line();
        w.Line("/// <summary>All parameters, one contiguous buffer laid out as <see cref=\"Tensors\"/> says. Handing it out tells the");
        w.Line("/// passes that the weights may change (see <see cref=\"FixedWeights\"/>).</summary>");
        w.Line("public global::System.Span<float> Parameters { get { _passes?.WeightsMayChange(); return _parameters; } }");
        w.Line();
        w.Line("/// <summary>Gradients from the last <see cref=\"ComputeGradients\"/>, same layout as <see cref=\"Parameters\"/>.</summary>");
        w.Line("public global::System.Span<float> Gradients => EnsureGradients();");
        w.Line();
        w.Line("private float[] EnsureGradients() => _gradients.Length == ParameterCount ? _gradients : (_gradients = new float[ParameterCount]);");
        w.Line();
        w.Line("/// <summary>The named tensor's slice of <see cref=\"Parameters\"/>.</summary>");
        w.Open("public global::System.Span<float> Parameter(string name)");
        w.Open("global::System.Span<float> tensor = name switch");
        foreach (var t in tensors)
            w.Line($"\"{t.Name}\" => new global::System.Span<float>(_parameters, {t.Offset}, {t.Length}),");
        string known = tensors.Count == 0 ? "none" : string.Join(", ", tensors.Select(t => t.Name));
        w.Line($"_ => throw new global::System.ArgumentException($\"{cls} has no tensor named '{{name}}'; its tensors are: {known}.\", nameof(name)),");
        w.Close(";");
        w.Line("_passes?.WeightsMayChange();");
        w.Line("return tensor;");
        w.Close();
        w.Line();
        w.Line("/// <summary>Creates the network with parameters drawn from <paramref name=\"seed\"/> (the same on every machine).</summary>");
        w.Line($"public {NetworkEmitter.Identifier(cls)}(int seed = 0) => InitializeParameters(seed);");
        w.Line();
        w.Line("/// <summary>");
        w.Line("/// Draws fresh parameters (seed 002): He normal, <c>std = sqrt(2 / fan_in)</c>, for layers followed by a ReLU-family");
        w.Line("/// activation; Xavier, <c>std = sqrt(1 / fan_in)</c>, for Sigmoid and Tanh, linear layers and the last layer; biases zero.");
        if (spec.HasBatchNorm)
            w.Line("/// BatchNorm: weight one, bias zero, running mean zero, running variance one, as PyTorch starts them.");
        w.Line("/// </summary>");
        w.Line("public void InitializeParameters(int seed) => InitializeParameters(seed, global::CnnGen.Initialization.WeightInitialization.Default);");
        w.Line();
        w.Line("/// <summary>Draws fresh parameters with another weight scheme (He, Xavier, small Gaussian, zeros; seed 002).</summary>");
        w.Open("public void InitializeParameters(int seed, global::CnnGen.Initialization.WeightInitialization scheme)");
        w.Line("_dropoutSeed = unchecked((ulong)seed);");
        w.Line("_passes?.WeightsMayChange();");
        if (tensors.Count > 0) w.Line("var random = new global::CnnGen.Initialization.NormalRandom(seed);");
        var lastParam = spec.Layers.LastOrDefault(l => l.Kind.HasWeights());
        foreach (var t in tensors.Concat(state))
        {
            string buffer = t.IsState ? "_state" : "_parameters";
            if (t.Layer.Kind == LayerKind.BatchNorm && t.Role is Role.Weight or Role.RunningVar)
            {
                w.Line($"new global::System.Span<float>({buffer}, {t.Offset}, {t.Length}).Fill(1f); // {t.Name}: ones");
                continue;
            }
            if (t.Role != Role.Weight || t.Layer.Kind == LayerKind.BatchNorm)
            {
                w.Line($"new global::System.Span<float>({buffer}, {t.Offset}, {t.Length}).Clear(); // {t.Name}: zero{(t.Role == Role.BatchCount ? "" : "s")}");
                continue;
            }
            var l = t.Layer;
            long fanIn = l.Op is ConvOp conv ? (long)(l.Input.Channels / conv.Groups) * conv.Kernel * conv.Kernel : l.Input.Length;
            var next = NextActivation(spec, l);
            bool he = l != lastParam && next is not null && next.Kind.IsReLUFamily();
            string why = l == lastParam ? "last layer" : next is null ? "no activation follows" : $"followed by {next.Name}";
            w.Line($"global::CnnGen.Initialization.WeightInit.Fill(random, new global::System.Span<float>(_parameters, {t.Offset}, {t.Length}), " +
                   $"scheme, fanIn: {fanIn}, reluFollows: {(he ? "true" : "false")}); // {t.Name}: by default {(he ? "He" : "Xavier")} ({why})");
        }
        w.Close();
    }

    /// <summary>The activation that acts on a layer's output: the next activation before the next trainable layer.</summary>
    private static LayerSpec? NextActivation(NetworkSpec spec, LayerSpec layer)
    {
        for (int i = layer.Index + 1; i < spec.Layers.Count; i++)
        {
            var l = spec.Layers[i];
            if (l.Kind.HasWeights()) return null;
            if (l.Kind.IsActivation()) return l;
        }
        return null;
    }
}
