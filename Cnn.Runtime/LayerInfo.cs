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

    /// <summary>The layer whose output this layer reads; null for the network's input. In a chain it is the layer above.</summary>
    public string? Input { get; init; }

    /// <summary>For an <c>[Add]</c> or <c>[Concat]</c> layer: every layer joined to the input, in order; empty otherwise.</summary>
    public IReadOnlyList<string> Sources { get; init; } = [];

    /// <summary>Convolution or pooling window (square); 0 for other kinds.</summary>
    public int Kernel { get; init; }

    /// <summary>Convolution or pooling stride; 1 for other kinds.</summary>
    public int Stride { get; init; } = 1;

    /// <summary>Convolution or pooling padding on each side; 0 for other kinds.</summary>
    public int Padding { get; init; }

    /// <summary>Convolution groups (channels for a depthwise convolution); 1 otherwise.</summary>
    public int Groups { get; init; } = 1;

    /// <summary>Convolution dilation; 1 otherwise.</summary>
    public int Dilation { get; init; } = 1;

    /// <summary>Pooling with PyTorch's <c>ceil_mode</c>.</summary>
    public bool CeilMode { get; init; }

    /// <summary>LeakyReLU's negative slope; 0 for other kinds.</summary>
    public float Slope { get; init; }

    /// <summary>ELU's alpha; 0 for other kinds.</summary>
    public float Alpha { get; init; }

    /// <summary>Dropout's rate; 0 for other kinds.</summary>
    public float DropoutRate { get; init; }

    /// <summary>Maxout's pieces per output channel or unit; 0 for other kinds.</summary>
    public int Pieces { get; init; }

    /// <summary>BatchNorm's epsilon; 0 for other kinds.</summary>
    public float Epsilon { get; init; }

    /// <summary>BatchNorm's momentum for the running statistics; 0 for other kinds.</summary>
    public float Momentum { get; init; }

    /// <summary>Values per image at this layer's output.</summary>
    public int OutputLength => OutputChannels * OutputHeight * OutputWidth;
}
