using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace CnnGen.Kernels;

/// <summary>
/// Batch normalisation over values laid out <c>[batch, channels, spatial]</c> (spatial = H*W after a map, 1 after a
/// dense layer), statistics per channel over the batch and the spatial positions (<c>M = batch * spatial</c> values).
/// <para>Forward: <c>x_hat = (x - mean) * invstd</c>, <c>y = weight * x_hat + bias</c>, computed as PyTorch's CPU kernel
/// does, <c>y = x * scale + shift</c> with <c>scale = weight * invstd</c>, <c>shift = bias - mean * scale</c>.</para>
/// <para>Backward (training mode, mean and variance depend on x):
/// <c>dbias = sum dy</c>, <c>dweight = sum dy * x_hat</c>,
/// <c>dx = weight * invstd * (dy - sum(dy) / M - x_hat * sum(dy * x_hat) / M)</c>. In evaluation mode the statistics
/// are constants and <c>dx = dy * scale</c>.</para>
/// Sums run over 8 fixed double lanes per row (each float widened exactly), the same bits with or without SIMD.
/// </summary>
public static class BatchNorm
{
    private const int Lanes = 8;

    /// <summary>Adds this worker's per-channel sums: <c>sums[c] += sum x</c>, <c>sums[channels + c] += sum x^2</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void AddSums(ReadOnlySpan<float> x, int batch, int channels, int spatial, Span<double> sums)
    {
        Check(x.Length, batch, channels, spatial, "x");
        for (int b = 0; b < batch; b++)
            for (int c = 0; c < channels; c++)
            {
                var (sum, squares) = RowSums(x.Slice((b * channels + c) * spatial, spatial), default, 0f);
                sums[c] += sum;
                sums[channels + c] += squares;
            }
    }

    /// <summary>Mean and <c>invstd = 1 / sqrt(biased variance + eps)</c> of each channel from the whole batch's sums
    /// over <paramref name="count"/> values per channel.</summary>
    public static void MeanAndInvStd(ReadOnlySpan<double> sums, long count, float epsilon, Span<float> mean, Span<float> invstd)
    {
        int channels = mean.Length;
        for (int c = 0; c < channels; c++)
        {
            double m = sums[c] / count;
            double variance = Math.Max(0.0, sums[channels + c] / count - m * m);
            mean[c] = (float)m;
            invstd[c] = (float)(1.0 / Math.Sqrt(variance + epsilon));
        }
    }

    /// <summary>PyTorch's running-statistics update: <c>running = (1 - momentum) * running + momentum * batch</c>, the
    /// variance taken unbiased (<c>M / (M - 1)</c>) as PyTorch does; <paramref name="batchesTracked"/> counts the update.</summary>
    public static void UpdateRunning(ReadOnlySpan<double> sums, long count, float momentum, Span<float> runningMean,
        Span<float> runningVar, ref float batchesTracked)
    {
        int channels = runningMean.Length;
        for (int c = 0; c < channels; c++)
        {
            double m = sums[c] / count;
            double variance = Math.Max(0.0, sums[channels + c] / count - m * m);
            double unbiased = count > 1 ? variance * count / (count - 1) : variance;
            runningMean[c] = (float)((1.0 - momentum) * runningMean[c] + momentum * m);
            runningVar[c] = (float)((1.0 - momentum) * runningVar[c] + momentum * unbiased);
        }
        batchesTracked += 1f;
    }

    /// <summary><c>scale = weight * invstd</c>, <c>shift = bias - mean * scale</c>, per channel.</summary>
    public static void ScaleAndShift(ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, ReadOnlySpan<float> mean,
        ReadOnlySpan<float> invstd, Span<float> scale, Span<float> shift)
    {
        TensorPrimitives.Multiply(weight, invstd, scale);
        TensorPrimitives.Multiply(mean, scale, shift);
        TensorPrimitives.Subtract(bias, shift, shift);
    }

    /// <summary>Evaluation mode's <c>invstd = 1 / sqrt(running_var + eps)</c> (float operations, each correctly rounded).</summary>
    public static void InvStd(ReadOnlySpan<float> runningVar, float epsilon, Span<float> invstd)
    {
        TensorPrimitives.Add(runningVar, epsilon, invstd);
        TensorPrimitives.Sqrt(invstd, invstd);
        TensorPrimitives.Reciprocal(invstd, invstd);
    }

    /// <summary><c>y = x * scale[c] + shift[c]</c> (a multiplication, then an addition), then
    /// <paramref name="activation"/> (a gradient pass's BatchNorm applies the ReLU after it as it stores), with the bits
    /// of the activation's own pass over the values.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Apply(ReadOnlySpan<float> x, Span<float> y, int batch, int channels, int spatial,
        ReadOnlySpan<float> scale, ReadOnlySpan<float> shift, FusedActivation activation = FusedActivation.None)
    {
        Check(x.Length, batch, channels, spatial, "x");
        Check(y.Length, batch, channels, spatial, "y");
        if (spatial == 1)
        {
            // After a dense layer: one value per unit, so vectorise across the units of each image.
            for (int b = 0; b < batch; b++)
            {
                var xs = x.Slice(b * channels, channels);
                var ys = y.Slice(b * channels, channels);
                TensorPrimitives.Multiply(xs, scale.Slice(0, channels), ys);
                TensorPrimitives.Add(ys, shift.Slice(0, channels), ys);
                if (activation != FusedActivation.None)
                    for (int i = 0; i < channels; i++) ys[i] = Activate.Apply(ys[i], activation);
            }
            return;
        }
        for (int b = 0; b < batch; b++)
            for (int c = 0; c < channels; c++)
            {
                int at = (b * channels + c) * spatial;
                var xs = x.Slice(at, spatial);
                var ys = y.Slice(at, spatial);
                float s = scale[c], t = shift[c];
                int i = 0;
                if (Vector256.IsHardwareAccelerated)
                {
                    var vs = Vector256.Create(s);
                    var vt = Vector256.Create(t);
                    for (; i <= spatial - Lanes; i += Lanes)
                        Activate.Apply(Vector256.Add(Vector256.Multiply(Vector256.Create(xs.Slice(i, Lanes)), vs), vt), activation).CopyTo(ys.Slice(i, Lanes));
                }
                for (; i < spatial; i++) ys[i] = Normalize(xs[i], s, t, activation);
            }
    }

    /// <summary>One value as <see cref="Apply"/> computes it: <c>x * scale + shift</c> (a multiplication, then an
    /// addition, never fused), then <paramref name="activation"/>. The kernels that normalise their input as they read
    /// it (<see cref="NormReluProduct"/>, <see cref="AveragePool2x2.ForwardNormalized"/>) read it through this, so they
    /// keep the bits of this layer's own pass.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static float Normalize(float x, float scale, float shift, FusedActivation activation) => Activate.Apply(x * scale + shift, activation);

    /// <summary><see cref="Normalize(float, float, float, FusedActivation)"/> of 16 values.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<float> Normalize(Vector512<float> x, Vector512<float> scale, Vector512<float> shift, FusedActivation activation) =>
        Activate.Apply(Vector512.Add(Vector512.Multiply(x, scale), shift), activation);

    /// <summary><see cref="Normalize(float, float, float, FusedActivation)"/> of 8 values.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<float> Normalize(Vector256<float> x, Vector256<float> scale, Vector256<float> shift, FusedActivation activation) =>
        Activate.Apply(Vector256.Add(Vector256.Multiply(x, scale), shift), activation);

    /// <summary>Adds this worker's per-channel gradient sums: <c>sums[c] += sum dy</c>,
    /// <c>sums[channels + c] += sum dy * (x - mean)</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void AddGradientSums(ReadOnlySpan<float> dy, ReadOnlySpan<float> x, ReadOnlySpan<float> mean,
        int batch, int channels, int spatial, Span<double> sums)
    {
        Check(dy.Length, batch, channels, spatial, "dy");
        Check(x.Length, batch, channels, spatial, "x");
        for (int b = 0; b < batch; b++)
            for (int c = 0; c < channels; c++)
            {
                int at = (b * channels + c) * spatial;
                var (sum, products) = RowSums(dy.Slice(at, spatial), x.Slice(at, spatial), mean[c]);
                sums[c] += sum;
                sums[channels + c] += products;
            }
    }

    /// <summary>The backward pass of the ReLU after this BatchNorm, then <see cref="AddGradientSums"/>: each channel's row
    /// of <paramref name="dy"/> (the ReLU's output gradient) is masked in place by the ReLU's output
    /// (<c>dy = y &gt; 0 ? dy : 0</c>, <see cref="Activations.ReluBackward"/>), becoming this layer's output gradient, and its
    /// sums are added while the row is still in the first-level cache. The same bits as the ReLU's pass over the whole
    /// map followed by <see cref="AddGradientSums"/>, with one pass over the map fewer.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MaskAndAddGradientSums(Span<float> dy, ReadOnlySpan<float> reluOutput, ReadOnlySpan<float> x, ReadOnlySpan<float> mean,
        int batch, int channels, int spatial, Span<double> sums)
    {
        Check(dy.Length, batch, channels, spatial, "dy");
        Check(reluOutput.Length, batch, channels, spatial, "reluOutput");
        Check(x.Length, batch, channels, spatial, "x");
        for (int b = 0; b < batch; b++)
            for (int c = 0; c < channels; c++)
            {
                int at = (b * channels + c) * spatial;
                var row = dy.Slice(at, spatial);
                Activations.ReluBackward(reluOutput.Slice(at, spatial), row, row);
                var (sum, products) = RowSums(row, x.Slice(at, spatial), mean[c]);
                sums[c] += sum;
                sums[channels + c] += products;
            }
    }

    /// <summary><c>dweight[c] += invstd[c] * sum dy * (x - mean)</c> (= sum dy * x_hat), <c>dbias[c] += sum dy</c>.</summary>
    public static void AddParameterGradients(ReadOnlySpan<double> sums, ReadOnlySpan<float> invstd, Span<float> dweight, Span<float> dbias)
    {
        int channels = dweight.Length;
        for (int c = 0; c < channels; c++)
        {
            dweight[c] += (float)(invstd[c] * sums[channels + c]);
            dbias[c] += (float)sums[c];
        }
    }

    /// <summary>Training mode's input gradient from the whole batch's gradient sums over <paramref name="count"/> values
    /// per channel: <c>dx = weight * invstd * (dy - sum(dy) / M - (x - mean) * invstd^2 * sum(dy * (x - mean)) / M)</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void InputGradient(ReadOnlySpan<float> dy, ReadOnlySpan<float> x, ReadOnlySpan<float> mean,
        ReadOnlySpan<float> invstd, ReadOnlySpan<float> weight, ReadOnlySpan<double> sums, long count,
        int batch, int channels, int spatial, Span<float> dx)
    {
        Check(dy.Length, batch, channels, spatial, "dy");
        Check(dx.Length, batch, channels, spatial, "dx");
        for (int c = 0; c < channels; c++)
        {
            float k1 = weight[c] * invstd[c];
            float meanDy = (float)(sums[c] / count);
            float k2 = (float)((double)invstd[c] * invstd[c] * sums[channels + c] / count);
            float mu = mean[c];
            for (int b = 0; b < batch; b++)
            {
                int at = (b * channels + c) * spatial;
                var dys = dy.Slice(at, spatial);
                var xs = x.Slice(at, spatial);
                var dxs = dx.Slice(at, spatial);
                int i = 0;
                if (Vector256.IsHardwareAccelerated)
                {
                    var v1 = Vector256.Create(k1);
                    var vm = Vector256.Create(meanDy);
                    var v2 = Vector256.Create(k2);
                    var vmu = Vector256.Create(mu);
                    for (; i <= spatial - Lanes; i += Lanes)
                    {
                        var centred = Vector256.Subtract(Vector256.Create(xs.Slice(i, Lanes)), vmu);
                        var inner = Vector256.Subtract(Vector256.Subtract(Vector256.Create(dys.Slice(i, Lanes)), vm), Vector256.Multiply(centred, v2));
                        Vector256.Multiply(inner, v1).CopyTo(dxs.Slice(i, Lanes));
                    }
                }
                for (; i < spatial; i++) dxs[i] = (dys[i] - meanDy - (xs[i] - mu) * k2) * k1;
            }
        }
    }

    /// <summary>Evaluation mode's input gradient: <c>dx = dy * scale[c]</c>.</summary>
    public static void ScaledGradient(ReadOnlySpan<float> dy, ReadOnlySpan<float> scale, int batch, int channels, int spatial, Span<float> dx)
    {
        Check(dy.Length, batch, channels, spatial, "dy");
        Check(dx.Length, batch, channels, spatial, "dx");
        for (int b = 0; b < batch; b++)
        {
            if (spatial == 1)
                TensorPrimitives.Multiply(dy.Slice(b * channels, channels), scale.Slice(0, channels), dx.Slice(b * channels, channels));
            else
                for (int c = 0; c < channels; c++)
                {
                    int at = (b * channels + c) * spatial;
                    TensorPrimitives.Multiply(dy.Slice(at, spatial), scale[c], dx.Slice(at, spatial));
                }
        }
    }

    /// <summary>
    /// Folds an evaluation-mode batch normalisation into the convolution (or dense layer) before it:
    /// <c>weight'[f, :] = weight[f, :] * s[f]</c>, <c>bias'[f] = (bias[f] - running_mean[f]) * s[f] + bn_bias[f]</c>
    /// with <c>s = bn_weight / sqrt(running_var + eps)</c>, so the layer's output already is the normalised one.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Fold(ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, ReadOnlySpan<float> bnWeight,
        ReadOnlySpan<float> bnBias, ReadOnlySpan<float> runningMean, ReadOnlySpan<float> runningVar, float epsilon,
        Span<float> foldedWeight, Span<float> foldedBias)
    {
        int filters = bias.Length, perFilter = weight.Length / filters;
        for (int f = 0; f < filters; f++)
        {
            float s = bnWeight[f] / MathF.Sqrt(runningVar[f] + epsilon);
            TensorPrimitives.Multiply(weight.Slice(f * perFilter, perFilter), s, foldedWeight.Slice(f * perFilter, perFilter));
            foldedBias[f] = (bias[f] - runningMean[f]) * s + bnBias[f];
        }
    }

    /// <summary>
    /// <see cref="Fold"/> into spans that hold an earlier fold: each folded value is computed by the same operation, compared
    /// bit for bit with the value already there, and written only where a bit differs (a vector of 16 or 8 at a time).
    /// Returns whether any bit changed, so that what was made from the folded weights is made again only then. The spans
    /// end up holding exactly what <see cref="Fold"/> writes; reading the held values instead of writing all of them
    /// is what makes an unchanged fold cheap.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static bool Refold(ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, ReadOnlySpan<float> bnWeight,
        ReadOnlySpan<float> bnBias, ReadOnlySpan<float> runningMean, ReadOnlySpan<float> runningVar, float epsilon,
        Span<float> foldedWeight, Span<float> foldedBias)
    {
        int filters = bias.Length;
        if (filters == 0 || weight.Length % filters != 0 || foldedWeight.Length < weight.Length || foldedBias.Length < filters
            || bnWeight.Length < filters || bnBias.Length < filters || runningMean.Length < filters || runningVar.Length < filters)
            throw new ArgumentException($"BatchNorm.Refold: {weight.Length} weights and {filters} biases need as many folded ones, but there are {foldedWeight.Length} folded weights, " +
                                        $"{foldedBias.Length} folded biases, and the BatchNorm's {Math.Min(Math.Min(bnWeight.Length, bnBias.Length), Math.Min(runningMean.Length, runningVar.Length))} channels.");
        int perFilter = weight.Length / filters;
        bool changed = false;
        for (int f = 0; f < filters; f++)
        {
            float s = bnWeight[f] / MathF.Sqrt(runningVar[f] + epsilon);
            changed |= ScaleWhereChanged(weight.Slice(f * perFilter, perFilter), s, foldedWeight.Slice(f * perFilter, perFilter));
            float shift = (bias[f] - runningMean[f]) * s + bnBias[f];
            if (BitConverter.SingleToInt32Bits(shift) != BitConverter.SingleToInt32Bits(foldedBias[f]))
            {
                foldedBias[f] = shift;
                changed = true;
            }
        }
        return changed;
    }

    /// <summary>The bit that makes a NaN quiet: a product with a NaN operand is that NaN, quieted.</summary>
    private const int QuietBit = 0x0040_0000;

    /// <summary><c>held[i] = x[i] * s</c> where the product's bits differ from <c>held[i]</c>'s; returns whether any did.
    /// One multiplication per value, as <see cref="TensorPrimitives.Multiply(ReadOnlySpan{float}, float, Span{float})"/>
    /// makes, so the bits are the same (-0 included: the comparison is of bits, not of floats). Where both operands are
    /// NaN the processor returns the first one's, and which that is may be the compiler's choice: the weight's NaN
    /// (quieted) is taken explicitly, as Fold gives it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool ScaleWhereChanged(ReadOnlySpan<float> x, float s, Span<float> held)
    {
        ref float px = ref MemoryMarshal.GetReference(x);
        ref float ph = ref MemoryMarshal.GetReference(held);
        int n = x.Length, i = 0;
        bool changed = false;
        if (Vector512.IsHardwareAccelerated)
        {
            var vs = Vector512.Create(s);
            for (; i <= n - Vector512<float>.Count; i += Vector512<float>.Count)
            {
                var value = Vector512.LoadUnsafe(ref px, (nuint)i);
                var product = Vector512.ConditionalSelect(Vector512.IsNaN(value), (value.AsInt32() | Vector512.Create(QuietBit)).AsSingle(), Vector512.Multiply(value, vs));
                if (Vector512.EqualsAll(product.AsInt32(), Vector512.LoadUnsafe(ref ph, (nuint)i).AsInt32())) continue;
                product.StoreUnsafe(ref ph, (nuint)i);
                changed = true;
            }
        }
        if (Vector256.IsHardwareAccelerated)
        {
            var vs = Vector256.Create(s);
            for (; i <= n - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                var value = Vector256.LoadUnsafe(ref px, (nuint)i);
                var product = Vector256.ConditionalSelect(Vector256.IsNaN(value), (value.AsInt32() | Vector256.Create(QuietBit)).AsSingle(), Vector256.Multiply(value, vs));
                if (Vector256.EqualsAll(product.AsInt32(), Vector256.LoadUnsafe(ref ph, (nuint)i).AsInt32())) continue;
                product.StoreUnsafe(ref ph, (nuint)i);
                changed = true;
            }
        }
        for (; i < n; i++)
        {
            float value = Unsafe.Add(ref px, i);
            float product = float.IsNaN(value) ? BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(value) | QuietBit) : value * s;
            if (BitConverter.SingleToInt32Bits(product) == BitConverter.SingleToInt32Bits(Unsafe.Add(ref ph, i))) continue;
            Unsafe.Add(ref ph, i) = product;
            changed = true;
        }
        return changed;
    }

    /// <summary>In one pass over a row: the sum of <c>x</c>, and the sum of <c>x^2</c> or, when <paramref name="other"/> is
    /// given, of <c>x * (other - centre)</c>; each value widened to double and added into 8 double lanes in a fixed order
    /// (the lanes, then the rest of the row), the same bits with or without SIMD. Double lanes keep the variance
    /// <c>E[x^2] - mean^2</c> of a channel whose mean is large against its spread: float lanes lost it over long rows.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (double Sum, double Second) RowSums(ReadOnlySpan<float> x, ReadOnlySpan<float> other, float centre)
    {
        bool product = !other.IsEmpty;
        int n = x.Length, i = 0;
        double sum = 0, second = 0;
        if (n >= Lanes)
        {
            Span<double> acc = stackalloc double[2 * Lanes]; // the sum's lanes, then the second sum's
            if (Vector256.IsHardwareAccelerated)
            {
                // Lanes 0-3 in the lower vectors, 4-7 in the upper ones.
                var sumLower = Vector256<double>.Zero;
                var sumUpper = Vector256<double>.Zero;
                var secondLower = Vector256<double>.Zero;
                var secondUpper = Vector256<double>.Zero;
                var vc = Vector256.Create((double)centre);
                for (; i <= n - Lanes; i += Lanes)
                {
                    var (lower, upper) = Vector256.Widen(Vector256.Create(x.Slice(i, Lanes)));
                    sumLower = Vector256.Add(sumLower, lower);
                    sumUpper = Vector256.Add(sumUpper, upper);
                    if (product)
                    {
                        var (otherLower, otherUpper) = Vector256.Widen(Vector256.Create(other.Slice(i, Lanes)));
                        secondLower = Vector256.Add(secondLower, Vector256.Multiply(lower, Vector256.Subtract(otherLower, vc)));
                        secondUpper = Vector256.Add(secondUpper, Vector256.Multiply(upper, Vector256.Subtract(otherUpper, vc)));
                    }
                    else
                    {
                        secondLower = Vector256.Add(secondLower, Vector256.Multiply(lower, lower));
                        secondUpper = Vector256.Add(secondUpper, Vector256.Multiply(upper, upper));
                    }
                }
                sumLower.CopyTo(acc);
                sumUpper.CopyTo(acc[4..]);
                secondLower.CopyTo(acc[Lanes..]);
                secondUpper.CopyTo(acc[(Lanes + 4)..]);
            }
            else
            {
                acc.Clear();
                for (; i <= n - Lanes; i += Lanes)
                    for (int j = 0; j < Lanes; j++)
                    {
                        double v = x[i + j];
                        acc[j] += v;
                        acc[Lanes + j] += v * (product ? other[i + j] - (double)centre : v);
                    }
            }
            for (int j = 0; j < Lanes; j++)
            {
                sum += acc[j];
                second += acc[Lanes + j];
            }
        }
        for (; i < n; i++)
        {
            double v = x[i];
            sum += v;
            second += v * (product ? other[i] - (double)centre : v);
        }
        return (sum, second);
    }

    private static void Check(int length, int batch, int channels, int spatial, string name)
    {
        if (length < (long)batch * channels * spatial)
            throw new ArgumentException($"BatchNorm: {name} holds {length} values, fewer than {batch} x {channels} x {spatial}.");
    }
}
