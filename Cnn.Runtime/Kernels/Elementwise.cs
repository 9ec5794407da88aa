using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Numerics.Tensors;

namespace CnnGen.Kernels;

/// <summary>Bias additions and their gradients, a shortcut's sum with the ReLU after it, and copies of parts of a
/// joined output. Sums run in index order, so results do not depend on SIMD width.</summary>
public static class Elementwise
{
    /// <summary><c>y[r, c] += bias[r]</c> for a <c>[rows, columns]</c> matrix (a convolution's channels).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void AddBias(Span<float> y, ReadOnlySpan<float> bias, int rows, int columns)
    {
        for (int r = 0; r < rows; r++)
        {
            var row = y.Slice(r * columns, columns);
            TensorPrimitives.Add(row, bias[r], row);
        }
    }

    /// <summary><c>y[r, c] += bias[c]</c> for a <c>[rows, columns]</c> matrix (a dense layer's batch).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void AddColumnBias(Span<float> y, ReadOnlySpan<float> bias, int rows, int columns)
    {
        for (int r = 0; r < rows; r++)
        {
            var row = y.Slice(r * columns, columns);
            TensorPrimitives.Add(row, bias[..columns], row);
        }
    }

    /// <summary><c>sums[r] += sum_c x[r, c]</c>, each row summed left to right.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void AddRowSums(ReadOnlySpan<float> x, Span<float> sums, int rows, int columns)
    {
        for (int r = 0; r < rows; r++)
        {
            var row = x.Slice(r * columns, columns);
            float s = 0f;
            for (int c = 0; c < row.Length; c++) s += row[c];
            sums[r] += s;
        }
    }

    /// <summary><c>sums[c] += sum_r x[r, c]</c>, rows added top to bottom.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void AddColumnSums(ReadOnlySpan<float> x, Span<float> sums, int rows, int columns)
    {
        var target = sums[..columns];
        for (int r = 0; r < rows; r++)
            TensorPrimitives.Add(target, x.Slice(r * columns, columns), target);
    }

    /// <summary><c>y = max(x + s, 0)</c> as one pass: each value is the sum <see cref="TensorPrimitives.Add(ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float})"/>
    /// gives, then the comparison and selection of <see cref="Activations.Relu"/> (<c>v &lt; 0 ? 0 : v</c>; NaN stays NaN,
    /// -0 stays -0), so the bits are those of the two passes. <paramref name="y"/> may be <paramref name="x"/> or <paramref name="s"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void AddRelu(ReadOnlySpan<float> x, ReadOnlySpan<float> s, Span<float> y)
    {
        int n = x.Length;
        if (s.Length < n || y.Length < n) throw new ArgumentException("Elementwise.AddRelu: spans differ in length.");
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; i + 16 <= n; i += 16)
            {
                Activate.Apply(Vector512.Create(x.Slice(i, 16)) + Vector512.Create(s.Slice(i, 16)), FusedActivation.Relu).CopyTo(y.Slice(i, 16));
            }
        }
        if (Vector256.IsHardwareAccelerated)
        {
            for (; i + 8 <= n; i += 8)
            {
                Activate.Apply(Vector256.Create(x.Slice(i, 8)) + Vector256.Create(s.Slice(i, 8)), FusedActivation.Relu).CopyTo(y.Slice(i, 8));
            }
        }
        for (; i < n; i++) y[i] = Activate.Apply(x[i] + s[i], FusedActivation.Relu);
    }

    /// <summary>Copies the values of <paramref name="target"/>'s range <c>[start, end)</c> that come from
    /// <paramref name="source"/>, which fills <paramref name="target"/> from <paramref name="offset"/> on (one part of
    /// a channel join): the overlap of the two ranges, nothing when they do not meet.</summary>
    public static void CopyOverlap(ReadOnlySpan<float> source, Span<float> target, int offset, int start, int end)
    {
        int from = Math.Max(start, offset), to = Math.Min(end, offset + source.Length);
        if (from >= to) return;
        source.Slice(from - offset, to - from).CopyTo(target.Slice(from, to - from));
    }
}
