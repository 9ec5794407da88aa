using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace CnnGen.Optimizers;

/// <summary>
/// One Adam step in one pass over the parameters, their gradients and the two moments: each value is read and written
/// once, where a pass per operation read and wrote the arrays some twenty times. Each value comes from the same
/// roundings in the same order as those passes (products, then sums; a correctly rounded square root and division; no
/// fused multiply-add), so the bits are theirs.
/// </summary>
internal static class AdamUpdate
{
    /// <summary>The step's constants, as floats: <c>Decay</c> is <c>1 - lr*wd</c> for decoupled weight decay (else 1 and
    /// unused), <c>WeightDecay</c> the coupled one (else 0); <c>StepSize</c> is <c>lr / (1 - b1^t)</c>,
    /// <c>BiasCorrection2Sqrt</c> <c>sqrt(1 - b2^t)</c>.</summary>
    internal readonly record struct Rule(bool Decoupled, float Decay, float WeightDecay, float Beta1, float OneMinusBeta1,
        float Beta2, float OneMinusBeta2, float StepSize, float BiasCorrection2Sqrt, float Epsilon);

    /// <summary><c>p *= 1 - lr*wd</c> (decoupled) or <c>g += wd*p</c>; <c>m = b1*m + (1-b1)*g</c>;
    /// <c>v = b2*v + (1-b2)*g*g</c>; <c>p -= step_size * m / (sqrt(v)/sqrt(1-b2^t) + eps)</c>.</summary>
    public static void Step(Span<float> parameters, ReadOnlySpan<float> gradients, Span<float> firstMoment, Span<float> secondMoment, in Rule rule)
    {
        int n = parameters.Length, i = 0;
        ref float p = ref MemoryMarshal.GetReference(parameters);
        ref float g = ref MemoryMarshal.GetReference(gradients);
        ref float m = ref MemoryMarshal.GetReference(firstMoment);
        ref float v = ref MemoryMarshal.GetReference(secondMoment);
        if (Vector256.IsHardwareAccelerated)
        {
            for (; i <= n - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                var param = Vector256.LoadUnsafe(ref p, (nuint)i);
                var grad = Vector256.LoadUnsafe(ref g, (nuint)i);
                if (rule.Decoupled) param *= rule.Decay;
                else if (rule.WeightDecay != 0f) grad = param * rule.WeightDecay + grad;
                var first = grad * rule.OneMinusBeta1 + Vector256.LoadUnsafe(ref m, (nuint)i) * rule.Beta1;
                var second = grad * rule.OneMinusBeta2 * grad + Vector256.LoadUnsafe(ref v, (nuint)i) * rule.Beta2;
                first.StoreUnsafe(ref m, (nuint)i);
                second.StoreUnsafe(ref v, (nuint)i);
                var denominator = Vector256.Sqrt(second) / rule.BiasCorrection2Sqrt + Vector256.Create(rule.Epsilon);
                (first / denominator * -rule.StepSize + param).StoreUnsafe(ref p, (nuint)i);
            }
        }
        for (; i < n; i++)
        {
            float param = Unsafe.Add(ref p, i), grad = Unsafe.Add(ref g, i);
            if (rule.Decoupled) param *= rule.Decay;
            else if (rule.WeightDecay != 0f) grad = param * rule.WeightDecay + grad;
            float first = grad * rule.OneMinusBeta1 + Unsafe.Add(ref m, i) * rule.Beta1;
            float second = grad * rule.OneMinusBeta2 * grad + Unsafe.Add(ref v, i) * rule.Beta2;
            Unsafe.Add(ref m, i) = first;
            Unsafe.Add(ref v, i) = second;
            float denominator = MathF.Sqrt(second) / rule.BiasCorrection2Sqrt + rule.Epsilon;
            Unsafe.Add(ref p, i) = first / denominator * -rule.StepSize + param;
        }
    }
}
