namespace CnnGen;

/// <summary>Max pooling over <paramref name="size"/> x <paramref name="size"/> windows (PyTorch's <c>MaxPool2d</c>);
/// padded positions count as minus infinity.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class MaxPoolAttribute(int size) : LayerAttribute
{
    public int Size { get; } = size;
    /// <summary>Step between windows; 0 (the default) means <see cref="Size"/>.</summary>
    public int Stride { get; set; }
    /// <summary>Padding on each side; at most half the window.</summary>
    public int Padding { get; set; }
    /// <summary>PyTorch's <c>ceil_mode</c>: the output size rounds up, so a last window that starts inside the input (or its
    /// left padding) and runs past its end is kept, clipped (GoogLeNet's pools).</summary>
    public bool CeilMode { get; set; }
}

/// <summary>Average pooling over <paramref name="size"/> x <paramref name="size"/> windows (PyTorch's <c>AvgPool2d</c>);
/// padded zeros count in the average.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class AvgPoolAttribute(int size) : LayerAttribute
{
    public int Size { get; } = size;
    /// <summary>Step between windows; 0 (the default) means <see cref="Size"/>.</summary>
    public int Stride { get; set; }
    /// <summary>Padding on each side; at most half the window.</summary>
    public int Padding { get; set; }
    /// <summary>PyTorch's <c>ceil_mode</c>: the output size rounds up, so a last window that starts inside the input (or its
    /// left padding) and runs past its end is kept, clipped (GoogLeNet's pools).</summary>
    public bool CeilMode { get; set; }
}
