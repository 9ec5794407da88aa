using CnnGen.Checkpoints;

namespace CnnGen.Onnx;

/// <summary>
/// A network read from an ONNX model, as CnnGen declares it: the input shape, the layers in declaration order (each
/// with the arguments of its attribute) and the weights under the tensor names the generated class gives them.
/// </summary>
/// <param name="Source">Where the model came from (a file name), for the generated file's comment.</param>
public sealed record ImportedNetwork(
    int InputChannels,
    int InputHeight,
    int InputWidth,
    IReadOnlyList<ImportedLayer> Layers,
    IReadOnlyList<NamedTensor> Tensors,
    string Source)
{
    /// <summary>Trainable values: every tensor but BatchNorm's running statistics and batch count.</summary>
    public long ParameterCount => Tensors.Where(t => !ImportedLayer.IsStateTensor(t.Name)).Sum(t => (long)t.Values.Length);
}

/// <summary>
/// One layer as its CnnGen attribute declares it. <see cref="Kind"/> is the attribute's name (<c>Conv</c>, <c>Dense</c>,
/// <c>MaxPool</c>, <c>AvgPool</c>, <c>GlobalAvgPool</c>, <c>ReLU</c>, <c>ReLU6</c>, <c>LeakyReLU</c>, <c>ELU</c>,
/// <c>Sigmoid</c>, <c>Tanh</c>, <c>Softmax</c>, <c>Dropout</c>, <c>BatchNorm</c>, <c>Add</c>, <c>Concat</c>); the
/// output shape is the one the generator will compute.
/// </summary>
public sealed record ImportedLayer(string Kind, string Name)
{
    /// <summary>The earlier layer this one reads when it is not the line above; null otherwise.</summary>
    public string? From { get; init; }

    /// <summary>An <c>Add</c> or <c>Concat</c>'s sources, in order.</summary>
    public IReadOnlyList<string> Sources { get; init; } = [];

    /// <summary>Convolution or pooling window; 0 for other kinds.</summary>
    public int Kernel { get; init; }

    /// <summary>Convolution filters or dense units; 0 for other kinds.</summary>
    public int Filters { get; init; }

    public int Stride { get; init; } = 1;
    public int Padding { get; init; }
    public int Groups { get; init; } = 1;

    /// <summary>A convolution's dilation (1: taps side by side).</summary>
    public int Dilation { get; init; } = 1;

    public bool Bias { get; init; } = true;
    public bool CeilMode { get; init; }

    /// <summary>LeakyReLU's slope, ELU's alpha or Dropout's rate.</summary>
    public float Argument { get; init; }

    public float Epsilon { get; init; } = BatchNormAttribute.DefaultEpsilon;
    public float Momentum { get; init; } = BatchNormAttribute.DefaultMomentum;

    /// <summary>A convolution or pool whose stride leaves the last input rows or columns unread (as in the model);
    /// the generator warns about it (CNN0011).</summary>
    public bool LeavesInputUnread { get; init; }

    public int OutputChannels { get; init; }
    public int OutputHeight { get; init; } = 1;
    public int OutputWidth { get; init; } = 1;

    /// <summary>Whether a tensor name is a BatchNorm statistic (state) rather than a trained parameter.</summary>
    public static bool IsStateTensor(string name) =>
        name.EndsWith(".running_mean", StringComparison.Ordinal) || name.EndsWith(".running_var", StringComparison.Ordinal)
        || name.EndsWith(".num_batches_tracked", StringComparison.Ordinal);
}
