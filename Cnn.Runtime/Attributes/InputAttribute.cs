namespace CnnGen;

/// <summary>The network's input: <paramref name="channels"/> x <paramref name="height"/> x <paramref name="width"/>,
/// stored channel-major (C, H, W) row by row, as PyTorch's NCHW.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class InputAttribute(int channels, int height, int width) : Attribute
{
    public int Channels { get; } = channels;
    public int Height { get; } = height;
    public int Width { get; } = width;
}
