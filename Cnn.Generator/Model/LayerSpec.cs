namespace CnnGen.Generator.Model;

/// <summary>Shape of a tensor flowing between layers, per image: C x H x W (a dense output is C x 1 x 1).</summary>
internal readonly record struct Shape(int Channels, int Height, int Width)
{
    public long Length => (long)Channels * Height * Width;
    public override string ToString() => $"{Channels}x{Height}x{Width}";
}

/// <summary>A checked layer with everything computed at compile time.</summary>
/// <param name="Index">0-based position among the layers.</param>
/// <param name="Kernel">Conv kernel or pool window (square); for a dense layer 0.</param>
/// <param name="Units">Conv filters, dense units, or the channels a BatchNorm normalises; 0 otherwise.</param>
/// <param name="Slope">LeakyReLU slope or ELU alpha.</param>
/// <param name="ParameterOffset">Start of this layer's weight in the parameter buffer (its bias follows the weight).</param>
/// <param name="StateOffset">Start of a BatchNorm's running statistics in the state buffer.</param>
internal sealed record LayerSpec(
    int Index,
    LayerKind Kind,
    string Name,
    Shape Input,
    Shape Output,
    bool InputIsFlat,
    int Kernel,
    int Units,
    int Stride,
    int Padding,
    float Slope,
    int ReceptiveFieldHeight,
    int ReceptiveFieldWidth,
    int EffectiveStride,
    int EffectivePadding,
    long Parameters,
    long Macs,
    int ParameterOffset)
{
    /// <summary>Start of a BatchNorm's running mean in the state buffer (running variance and batch count follow).</summary>
    public int StateOffset { get; init; }

    /// <summary>For a convolution whose following BatchNorm is folded into it for inference: where its folded weights start
    /// in the folded buffer (its folded bias follows); -1 when nothing is folded into it. The analysis decides, once.</summary>
    public int FoldOffset { get; init; } = -1;

    /// <summary>For an Add or Concat layer: the index of the layer whose output it joins; -1 otherwise.</summary>
    public int SourceIndex { get; init; } = -1;

    /// <summary>For an Add or Concat layer: the name of the layer whose output it joins.</summary>
    public string? SourceName { get; init; }

    /// <summary>An Add or Concat reads this layer's output, so inference must write it (no fusion or folding may skip it).</summary>
    public bool IsShortcutSource { get; init; }

    /// <summary>Values per image in one channel: what a BatchNorm averages over besides the batch.</summary>
    public int Spatial => Input.Height * Input.Width;

    /// <summary>Declared with <c>Frozen = true</c>.</summary>
    public bool Frozen { get; init; }

    public int WeightLength => Kind switch
    {
        LayerKind.Conv => Units * Input.Channels * Kernel * Kernel,
        LayerKind.Dense => Units * (int)Input.Length,
        LayerKind.BatchNorm => Units,
        _ => 0,
    };

    public int BiasLength => Kind.HasParameters() ? Units : 0;
}
