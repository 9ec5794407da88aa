using System.Runtime.CompilerServices;

namespace CnnGen.Kernels;

/// <summary>Global average pooling (PyTorch's <c>AdaptiveAvgPool2d(1)</c>): each plane's mean. Each plane's sum runs in
/// index order on one scalar path, so every machine gives the same bits.</summary>
public static class GlobalPooling
{
    /// <summary>Planes summed side by side: their chains of additions are independent, so the core overlaps them
    /// instead of waiting out each addition's latency in turn (one plane at a time, the sums ran at one addition per
    /// 3-4 cycles).</summary>
    private const int PlanesAtOnce = 4;

    /// <summary><c>y[p] = (sum of plane p) / plane</c> for <paramref name="planes"/> planes of <paramref name="plane"/> values.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void AverageForward(ReadOnlySpan<float> x, Span<float> y, int planes, int plane)
    {
        if (planes < 0 || plane <= 0 || x.Length < (long)planes * plane || y.Length < planes)
            throw new ArgumentException("GlobalPooling: spans too short for the planes.");
        int p = 0;
        for (; p + PlanesAtOnce <= planes; p += PlanesAtOnce)
        {
            var x0 = x.Slice(p * plane, plane);
            var x1 = x.Slice((p + 1) * plane, plane);
            var x2 = x.Slice((p + 2) * plane, plane);
            var x3 = x.Slice((p + 3) * plane, plane);
            float sum0 = 0f, sum1 = 0f, sum2 = 0f, sum3 = 0f;
            for (int i = 0; i < plane; i++)
            {
                sum0 += x0[i];
                sum1 += x1[i];
                sum2 += x2[i];
                sum3 += x3[i];
            }
            y[p] = sum0 / plane;
            y[p + 1] = sum1 / plane;
            y[p + 2] = sum2 / plane;
            y[p + 3] = sum3 / plane;
        }
        for (; p < planes; p++)
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
