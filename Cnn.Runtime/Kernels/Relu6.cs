using System.Runtime.CompilerServices;

namespace CnnGen.Kernels;

/// <summary>ReLU6 (MobileNetV2's activation, PyTorch's <c>ReLU6</c> = <c>hardtanh(x, 0, 6)</c>): one comparison chain per
/// element, on one scalar path, so every machine gives the same bits.</summary>
public static class Relu6
{
    /// <summary><c>y = min(max(x, 0), 6)</c>; NaN stays NaN.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Forward(ReadOnlySpan<float> x, Span<float> y)
    {
        if (y.Length < x.Length) throw new ArgumentException("Relu6: spans differ in length.");
        for (int i = 0; i < x.Length; i++)
        {
            float v = x[i];
            y[i] = v < 0f ? 0f : v > 6f ? 6f : v;
        }
    }

    /// <summary><c>dx = 0 &lt; x &lt; 6 ? dy : 0</c>, as PyTorch's hardtanh backward (no gradient at either bound).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx)
    {
        if (dy.Length < x.Length || dx.Length < x.Length) throw new ArgumentException("Relu6: spans differ in length.");
        for (int i = 0; i < x.Length; i++)
            dx[i] = x[i] > 0f && x[i] < 6f ? dy[i] : 0f;
    }
}
