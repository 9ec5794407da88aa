namespace CnnGen.Generator.Model;

/// <summary>A containing type of a nested network class, written back as <c>partial</c> around the generated code.</summary>
internal sealed record ContainingType(string Keyword, string Name);

/// <summary>Everything the emitter needs for one network class, as plain values.</summary>
internal sealed record NetworkSpec(
    string HintName,
    string? Namespace,
    string ClassName,
    EquatableArray<ContainingType> ContainingTypes,
    Shape Input,
    EquatableArray<LayerSpec> Layers,
    bool EndsWithSoftmax)
{
    /// <summary>The layer whose output is the logits: the last layer, or what a final Softmax reads; -1 for the input itself.</summary>
    public int OutputLayer => OutputLayerOf(Layers, EndsWithSoftmax);

    /// <summary><see cref="OutputLayer"/> of a network's layers before its spec is made (the analysis's fusions).</summary>
    public static int OutputLayerOf(System.Collections.Generic.IReadOnlyList<LayerSpec> layers, bool endsWithSoftmax) =>
        layers.Count == 0 ? -1 : endsWithSoftmax ? layers[layers.Count - 1].InputIndex : layers.Count - 1;

    public Shape Output => Layers.Count == 0 ? Input : Layers[Layers.Count - 1].Output;
    public long ParameterCount { get { long n = 0; foreach (var l in Layers) n += l.Parameters; return n; } }
    public long ForwardMacs { get { long n = 0; foreach (var l in Layers) n += l.Macs; return n; } }

    /// <summary>Values of the state buffer: each BatchNorm's running mean and variance and its batch count.</summary>
    public int StateLength { get { int n = 0; foreach (var l in Layers) if (l.Op is BatchNormOp b) n += 2 * b.Channels + 1; return n; } }

    public bool HasBatchNorm { get { foreach (var l in Layers) if (l.Kind == LayerKind.BatchNorm) return true; return false; } }
}

/// <summary>What the parse-and-check step yields for one class: a spec when it is sound, and its diagnostics.</summary>
internal sealed record NetworkResult(NetworkSpec? Spec, EquatableArray<DiagnosticInfo> Diagnostics);
