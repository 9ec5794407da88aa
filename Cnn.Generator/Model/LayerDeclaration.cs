namespace CnnGen.Generator.Model;

/// <summary>One layer attribute as written in source, before any shape is known.
/// Integer arguments that a kind does not take are 0.</summary>
internal sealed record LayerDeclaration(
    LayerKind Kind,
    string? Name,
    int Kernel,
    int Filters,
    int Stride,
    bool StrideGiven,
    int Padding,
    float Slope,
    bool Frozen,
    LocationInfo? Location)
{
    /// <summary>For <c>[Add]</c> and <c>[Concat]</c>: the names of the earlier layers joined to the input, in order.</summary>
    public EquatableArray<string> Sources { get; init; } = EquatableArray<string>.Empty;

    /// <summary><c>Bias</c> on Conv and Dense: false when the layer learns no bias.</summary>
    public bool Bias { get; init; } = true;

    /// <summary><c>Epsilon</c> and <c>Momentum</c> on BatchNorm (PyTorch's defaults unless given).</summary>
    public float Epsilon { get; init; } = 1e-5f;

    public float Momentum { get; init; } = 0.1f;

    /// <summary><c>CeilMode</c> on MaxPool and AvgPool: the output size rounds up (PyTorch's ceil_mode).</summary>
    public bool CeilMode { get; init; }

    /// <summary><c>Groups</c> on Conv: the channels and filters split into this many groups.</summary>
    public int Groups { get; init; } = 1;

    /// <summary><c>Dilation</c> on Conv: the spacing between kernel taps (PyTorch's dilation).</summary>
    public int Dilation { get; init; } = 1;

    /// <summary><c>From</c>: the name of the earlier layer this layer reads; null for the line above.</summary>
    public string? From { get; init; }
}

/// <summary>The <c>[Input]</c> attribute as written.</summary>
internal sealed record InputDeclaration(int Channels, int Height, int Width, LocationInfo? Location);
