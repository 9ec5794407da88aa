namespace CnnGen;

/// <summary>One layer of a generated network, as computed at compile time.</summary>
/// <param name="Name">Layer name, e.g. <c>conv1</c>.</param>
/// <param name="Kind">Layer kind, e.g. <c>Conv</c>, <c>MaxPool</c>, <c>ReLU</c>.</param>
/// <param name="OutputChannels">Channels of the layer's output.</param>
/// <param name="OutputHeight">Height of the layer's output (1 for a dense layer).</param>
/// <param name="OutputWidth">Width of the layer's output (1 for a dense layer).</param>
/// <param name="ReceptiveField">Height of the input region one output unit depends on (padding ignored).</param>
/// <param name="ReceptiveFieldWidth">Width of that region (differs from the height only for a dense layer over a non-square map).</param>
/// <param name="EffectiveStride">Distance in input pixels between neighbouring output units: the product of the strides so far.</param>
/// <param name="EffectivePadding">Padding seen from the input: the sum of each layer's padding times the product of the earlier strides.</param>
/// <param name="Parameters">Trainable parameters (weights and biases).</param>
/// <param name="Macs">Multiply-accumulates of one forward pass for one image (bias additions not counted).</param>
public sealed record LayerInfo(
    string Name,
    string Kind,
    int OutputChannels,
    int OutputHeight,
    int OutputWidth,
    int ReceptiveField,
    int ReceptiveFieldWidth,
    int EffectiveStride,
    int EffectivePadding,
    long Parameters,
    long Macs)
{
    /// <summary>For an <c>[Add]</c> or <c>[Concat]</c> layer: the layer whose output it joins (the shortcut's start); null otherwise.</summary>
    public string? Source { get; init; }

    /// <summary>Values per image at this layer's output.</summary>
    public int OutputLength => OutputChannels * OutputHeight * OutputWidth;
}
