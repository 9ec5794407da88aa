using System.Runtime.CompilerServices;
using System.Numerics.Tensors;

namespace CnnGen.Kernels;

/// <summary>Bias additions and their gradients. Sums run in index order, so results do not depend on SIMD width.</summary>
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
}
