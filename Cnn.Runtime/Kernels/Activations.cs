using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace CnnGen.Kernels;

/// <summary>
/// Element-wise activation passes that vectorise without changing a bit: each element gets the same operations, in the
/// same order, on every path (no fused multiply-add, no approximated exponentials). Activations with an exponential
/// (sigmoid, tanh, ELU) compute it in the generated code with <see cref="MathF"/>.
/// </summary>
public static class Activations
{
    /// <summary><c>y = x &lt; 0 ? 0 : x</c> (ReLU; NaN stays NaN).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Relu(ReadOnlySpan<float> x, Span<float> y)
    {
        int n = x.Length;
        if (y.Length < n) throw new ArgumentException("Activations: spans differ in length.");
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; i + 16 <= n; i += 16)
            {
                Activate.Apply(Vector512.Create(x.Slice(i, 16)), FusedActivation.Relu).CopyTo(y.Slice(i, 16));
            }
        }
        if (Vector256.IsHardwareAccelerated)
        {
            for (; i + 8 <= n; i += 8)
            {
                Activate.Apply(Vector256.Create(x.Slice(i, 8)), FusedActivation.Relu).CopyTo(y.Slice(i, 8));
            }
        }
        for (; i < n; i++) y[i] = Activate.Apply(x[i], FusedActivation.Relu);
    }

    /// <summary><c>dx = x &gt; 0 ? dy : 0</c> (ReLU backward).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ReluBackward(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx) =>
        LeakyReluBackward(x, dy, dx, 0f);

    /// <summary>
    /// <c>dy = y &gt; 0 ? dy + share : 0</c> in place: a ReLU's output gradient completed by a share added last (a later
    /// sum's output gradient, down its shortcut), then the ReLU's backward, in one pass. The bits of
    /// <c>TensorPrimitives.Add(dy, share, dy)</c> then <see cref="ReluBackward"/>: the same addition with the same
    /// operand order, and no sum is kept where the mask is off.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ReluBackwardAddingShare(ReadOnlySpan<float> y, Span<float> dy, ReadOnlySpan<float> share)
    {
        int n = y.Length;
        if (dy.Length < n || share.Length < n) throw new ArgumentException("Activations.ReluBackwardAddingShare: spans differ in length.");
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; i + 16 <= n; i += 16)
            {
                var sum = Vector512.Create(dy.Slice(i, 16)) + Vector512.Create(share.Slice(i, 16));
                Vector512.ConditionalSelect(Vector512.GreaterThan(Vector512.Create(y.Slice(i, 16)), Vector512<float>.Zero), sum, Vector512<float>.Zero).CopyTo(dy.Slice(i, 16));
            }
        }
        if (Vector256.IsHardwareAccelerated)
        {
            for (; i + 8 <= n; i += 8)
            {
                var sum = Vector256.Create(dy.Slice(i, 8)) + Vector256.Create(share.Slice(i, 8));
                Vector256.ConditionalSelect(Vector256.GreaterThan(Vector256.Create(y.Slice(i, 8)), Vector256<float>.Zero), sum, Vector256<float>.Zero).CopyTo(dy.Slice(i, 8));
            }
        }
        for (; i < n; i++) dy[i] = y[i] > 0f ? dy[i] + share[i] : 0f;
    }

    /// <summary><c>dx = x &gt; 0 ? dy : slope * dy</c> (LeakyReLU backward; ReLU when the slope is 0).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void LeakyReluBackward(ReadOnlySpan<float> x, ReadOnlySpan<float> dy, Span<float> dx, float slope)
    {
        int n = x.Length;
        if (dy.Length < n || dx.Length < n) throw new ArgumentException("Activations: spans differ in length.");
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var s = Vector512.Create(slope);
            for (; i + 16 <= n; i += 16)
            {
                var g = Vector512.Create(dy.Slice(i, 16));
                var negative = slope == 0f ? Vector512<float>.Zero : g * s;
                Vector512.ConditionalSelect(Vector512.GreaterThan(Vector512.Create(x.Slice(i, 16)), Vector512<float>.Zero), g, negative).CopyTo(dx.Slice(i, 16));
            }
        }
        if (Vector256.IsHardwareAccelerated)
        {
            var s = Vector256.Create(slope);
            for (; i + 8 <= n; i += 8)
            {
                var g = Vector256.Create(dy.Slice(i, 8));
                var negative = slope == 0f ? Vector256<float>.Zero : g * s;
                Vector256.ConditionalSelect(Vector256.GreaterThan(Vector256.Create(x.Slice(i, 8)), Vector256<float>.Zero), g, negative).CopyTo(dx.Slice(i, 8));
            }
        }
        for (; i < n; i++) dx[i] = x[i] > 0f ? dy[i] : slope == 0f ? 0f : slope * dy[i];
    }

    /// <summary><c>y = x &gt; 0 ? x : slope * x</c> (LeakyReLU forward).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void LeakyRelu(ReadOnlySpan<float> x, Span<float> y, float slope)
    {
        int n = x.Length;
        if (y.Length < n) throw new ArgumentException("Activations: spans differ in length.");
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var s = Vector512.Create(slope);
            for (; i + 16 <= n; i += 16)
            {
                var v = Vector512.Create(x.Slice(i, 16));
                Vector512.ConditionalSelect(Vector512.GreaterThan(v, Vector512<float>.Zero), v, v * s).CopyTo(y.Slice(i, 16));
            }
        }
        if (Vector256.IsHardwareAccelerated)
        {
            var s = Vector256.Create(slope);
            for (; i + 8 <= n; i += 8)
            {
                var v = Vector256.Create(x.Slice(i, 8));
                Vector256.ConditionalSelect(Vector256.GreaterThan(v, Vector256<float>.Zero), v, v * s).CopyTo(y.Slice(i, 8));
            }
        }
        for (; i < n; i++) y[i] = x[i] > 0f ? x[i] : slope * x[i];
    }

    /// <summary><c>dx = dy * y * (1 - y)</c> (sigmoid backward, from its output).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void SigmoidBackward(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx)
    {
        int n = y.Length;
        if (dy.Length < n || dx.Length < n) throw new ArgumentException("Activations: spans differ in length.");
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; i + 16 <= n; i += 16)
            {
                var v = Vector512.Create(y.Slice(i, 16));
                (Vector512.Create(dy.Slice(i, 16)) * v * (Vector512<float>.One - v)).CopyTo(dx.Slice(i, 16));
            }
        }
        if (Vector256.IsHardwareAccelerated)
        {
            for (; i + 8 <= n; i += 8)
            {
                var v = Vector256.Create(y.Slice(i, 8));
                (Vector256.Create(dy.Slice(i, 8)) * v * (Vector256<float>.One - v)).CopyTo(dx.Slice(i, 8));
            }
        }
        for (; i < n; i++) dx[i] = dy[i] * y[i] * (1f - y[i]);
    }

    /// <summary><c>dx = dy * (1 - y * y)</c> (tanh backward, from its output).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void TanhBackward(ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx)
    {
        int n = y.Length;
        if (dy.Length < n || dx.Length < n) throw new ArgumentException("Activations: spans differ in length.");
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; i + 16 <= n; i += 16)
            {
                var v = Vector512.Create(y.Slice(i, 16));
                (Vector512.Create(dy.Slice(i, 16)) * (Vector512<float>.One - v * v)).CopyTo(dx.Slice(i, 16));
            }
        }
        if (Vector256.IsHardwareAccelerated)
        {
            for (; i + 8 <= n; i += 8)
            {
                var v = Vector256.Create(y.Slice(i, 8));
                (Vector256.Create(dy.Slice(i, 8)) * (Vector256<float>.One - v * v)).CopyTo(dx.Slice(i, 8));
            }
        }
        for (; i < n; i++) dx[i] = dy[i] * (1f - y[i] * y[i]);
    }

    /// <summary><c>dx = x &gt; 0 ? dy : dy * (y + alpha)</c> (ELU backward).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void EluBackward(ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx, float alpha)
    {
        int n = x.Length;
        if (y.Length < n || dy.Length < n || dx.Length < n) throw new ArgumentException("Activations: spans differ in length.");
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var a = Vector512.Create(alpha);
            for (; i + 16 <= n; i += 16)
            {
                var g = Vector512.Create(dy.Slice(i, 16));
                var negative = g * (Vector512.Create(y.Slice(i, 16)) + a);
                Vector512.ConditionalSelect(Vector512.GreaterThan(Vector512.Create(x.Slice(i, 16)), Vector512<float>.Zero), g, negative).CopyTo(dx.Slice(i, 16));
            }
        }
        if (Vector256.IsHardwareAccelerated)
        {
            var a = Vector256.Create(alpha);
            for (; i + 8 <= n; i += 8)
            {
                var g = Vector256.Create(dy.Slice(i, 8));
                var negative = g * (Vector256.Create(y.Slice(i, 8)) + a);
                Vector256.ConditionalSelect(Vector256.GreaterThan(Vector256.Create(x.Slice(i, 8)), Vector256<float>.Zero), g, negative).CopyTo(dx.Slice(i, 8));
            }
        }
        for (; i < n; i++) dx[i] = x[i] > 0f ? dy[i] : dy[i] * (y[i] + alpha);
    }
}
