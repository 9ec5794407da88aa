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
    /// <summary>For <c>[Add(source)]</c>: the name of the earlier layer whose output is added.</summary>
    public string? Source { get; init; }
}

/// <summary>The <c>[Input]</c> attribute as written.</summary>
internal sealed record InputDeclaration(int Channels, int Height, int Width, LocationInfo? Location);
