using System.Runtime.CompilerServices;
namespace CnnGen.Kernels;

/// <summary>Softmax and its fused cross-entropy gradient (seed 001: <c>dL/dz = y_hat - y</c>).</summary>
public static class SoftmaxCrossEntropy
{
    /// <summary><c>probs[i] = exp(z[i] - max z) / sum_j exp(z[j] - max z)</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Softmax(ReadOnlySpan<float> logits, Span<float> probs)
    {
        (_, float sum) = Exponentials(logits, probs);
        float inv = 1f / sum;
        for (int i = 0; i < logits.Length; i++) probs[i] *= inv;
    }

    /// <summary>
    /// Cross-entropy of one sample, <c>-log softmax(z)[label] = log sum_j exp(z_j - max) + max - z_label</c>,
    /// and the gradient of <c>scale</c> times it: <c>dlogits = scale * (softmax(z) - onehot(label))</c>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float LossAndGradient(ReadOnlySpan<float> logits, int label, Span<float> dlogits, float scale)
    {
        (float max, float sum) = Exponentials(logits, dlogits);
        float inv = 1f / sum;
        for (int i = 0; i < logits.Length; i++)
            dlogits[i] = scale * (dlogits[i] * inv - (i == label ? 1f : 0f));
        return MathF.Log(sum) + max - logits[label];
    }

    /// <summary>Writes <c>exp(z[i] - max z)</c> and returns the maximum and the sum, added in index order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static (float Max, float Sum) Exponentials(ReadOnlySpan<float> logits, Span<float> exponentials)
    {
        float max = float.NegativeInfinity;
        foreach (var z in logits) max = MathF.Max(max, z);
        float sum = 0f;
        for (int i = 0; i < logits.Length; i++)
        {
            float e = MathF.Exp(logits[i] - max);
            exponentials[i] = e;
            sum += e;
        }
        return (max, sum);
    }

    /// <summary>Index of the largest value (the first one on ties).</summary>
    public static int ArgMax(ReadOnlySpan<float> values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++)
            if (values[i] > values[best]) best = i;
        return best;
    }
}
