using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace CnnGen.Kernels;

/// <summary>ReLU6 (MobileNetV2's activation, PyTorch's <c>ReLU6</c> = <c>hardtanh(x, 0, 6)</c>): one comparison chain per
/// element. The vector path makes the same two comparisons per lane and selects the same value (NaN stays NaN, -0 stays
/// -0), so it gives the scalar path's bits on every machine.</summary>
public static class Relu6
{
    /// <summary><c>y = x &lt; 0 ? 0 : x &gt; 6 ? 6 : x</c>; NaN stays NaN.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Forward(ReadOnlySpan<float> x, Span<float> y)
    {
        if (y.Length < x.Length) throw new ArgumentException("Relu6: spans differ in length.");
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; i <= x.Length - Vector512<float>.Count; i += Vector512<float>.Count)
                Activate.Apply(Vector512.Create(x.Slice(i, Vector512<float>.Count)), FusedActivation.Relu6).CopyTo(y.Slice(i, Vector512<float>.Count));
        }
        if (Vector256.IsHardwareAccelerated)
        {
            for (; i <= x.Length - Vector256<float>.Count; i += Vector256<float>.Count)
                Activate.Apply(Vector256.Create(x.Slice(i, Vector256<float>.Count)), FusedActivation.Relu6).CopyTo(y.Slice(i, Vector256<float>.Count));
        }
        for (; i < x.Length; i++) y[i] = Activate.Apply(x[i], FusedActivation.Relu6);
    }

    /// <summary><c>dx = 0 &lt; x &lt; 6 ? dy : 0</c>, as PyTorch's hardtanh backward (no gradient at either bound).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx)
    {
        if (dy.Length < x.Length || dx.Length < x.Length) throw new ArgumentException("Relu6: spans differ in length.");
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var zero = Vector512<float>.Zero;
            var six = Vector512.Create(6f);
            for (; i <= x.Length - Vector512<float>.Count; i += Vector512<float>.Count)
            {
                var v = Vector512.Create(x.Slice(i, Vector512<float>.Count));
                var inside = Vector512.GreaterThan(v, zero) & Vector512.LessThan(v, six);
                Vector512.ConditionalSelect(inside, Vector512.Create(dy.Slice(i, Vector512<float>.Count)), zero).CopyTo(dx.Slice(i, Vector512<float>.Count));
            }
        }
        if (Vector256.IsHardwareAccelerated)
        {
            var zero = Vector256<float>.Zero;
            var six = Vector256.Create(6f);
            for (; i <= x.Length - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                var v = Vector256.Create(x.Slice(i, Vector256<float>.Count));
                var inside = Vector256.GreaterThan(v, zero) & Vector256.LessThan(v, six);
                Vector256.ConditionalSelect(inside, Vector256.Create(dy.Slice(i, Vector256<float>.Count)), zero).CopyTo(dx.Slice(i, Vector256<float>.Count));
            }
        }
        for (; i < x.Length; i++)
            dx[i] = x[i] > 0f && x[i] < 6f ? dy[i] : 0f;
    }
}
