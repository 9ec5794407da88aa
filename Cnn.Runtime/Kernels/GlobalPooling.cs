using System.Runtime.CompilerServices;

namespace CnnGen.Kernels;

/// <summary>Global average pooling (PyTorch's <c>AdaptiveAvgPool2d(1)</c>): each plane's mean. Sums run in index order on
/// one scalar path, so every machine gives the same bits.</summary>
public static class GlobalPooling
{
    /// <summary><c>y[p] = (sum of plane p) / plane</c> for <paramref name="planes"/> planes of <paramref name="plane"/> values.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void AverageForward(ReadOnlySpan<float> x, Span<float> y, int planes, int plane)
    {
        if (planes < 0 || plane <= 0 || x.Length < (long)planes * plane || y.Length < planes)
            throw new ArgumentException("GlobalPooling: spans too short for the planes.");
        for (int p = 0; p < planes; p++)
        {
            var values = x.Slice(p * plane, plane);
            float sum = 0f;
            for (int i = 0; i < values.Length; i++) sum += values[i];
            y[p] = sum / plane;
        }
    }

    /// <summary><c>dx = dy[p] / plane</c> at every position of plane <c>p</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void AverageBackward(ReadOnlySpan<float> dy, Span<float> dx, int planes, int plane)
    {
        if (planes < 0 || plane <= 0 || dx.Length < (long)planes * plane || dy.Length < planes)
            throw new ArgumentException("GlobalPooling: spans too short for the planes.");
        for (int p = 0; p < planes; p++)
            dx.Slice(p * plane, plane).Fill(dy[p] / plane);
    }
}
