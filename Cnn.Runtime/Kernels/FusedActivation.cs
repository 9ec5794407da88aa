using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CnnGen.Kernels;

/// <summary>What a kernel applies to each value as it stores it.</summary>
public enum FusedActivation
{
    None,
    /// <summary><c>x &lt; 0 ? 0 : x</c>, as <see cref="Activations.Relu"/>.</summary>
    Relu,
    /// <summary><c>x &lt; 0 ? 0 : x &gt; 6 ? 6 : x</c>, as <see cref="Relu6.Forward"/> (NaN stays NaN).</summary>
    Relu6,
}

/// <summary>
/// The one definition of ReLU's and ReLU6's comparisons and selections, per value and per 16 lanes: the activation
/// layers' kernels (<see cref="Activations.Relu"/>, <see cref="Relu6.Forward"/>, <see cref="Elementwise.AddRelu"/>)
/// and every kernel that fuses an activation into its stores apply it, so a fused value has the bits of the separate
/// pass, NaN and -0 included.
/// </summary>
internal static class Activate
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Apply(float v, FusedActivation activation) => activation switch
    {
        FusedActivation.Relu => v < 0f ? 0f : v,
        FusedActivation.Relu6 => v < 0f ? 0f : v > 6f ? 6f : v,
        _ => v,
    };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Apply(Vector256<float> v, FusedActivation activation)
    {
        if (activation == FusedActivation.None) return v;
        var zero = Vector256<float>.Zero;
        if (activation == FusedActivation.Relu) return Vector256.ConditionalSelect(Vector256.LessThan(v, zero), zero, v);
        var six = Vector256.Create(6f);
        return Vector256.ConditionalSelect(Vector256.LessThan(v, zero), zero, Vector256.ConditionalSelect(Vector256.GreaterThan(v, six), six, v));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Apply(Vector512<float> v, FusedActivation activation)
    {
        if (activation == FusedActivation.None) return v;
        var zero = Vector512<float>.Zero;
        if (Avx512F.IsSupported)
        {
            // vmaxps / vminps return their second operand when either is NaN or both are zeros, so with v second each is
            // exactly the selection below (NaN and -0 kept), in one instruction instead of a comparison and a blend.
            var floor = Avx512F.Max(zero, v);
            return activation == FusedActivation.Relu ? floor : Avx512F.Min(Vector512.Create(6f), floor);
        }
        if (activation == FusedActivation.Relu) return Vector512.ConditionalSelect(Vector512.LessThan(v, zero), zero, v);
        var six = Vector512.Create(6f);
        return Vector512.ConditionalSelect(Vector512.LessThan(v, zero), zero, Vector512.ConditionalSelect(Vector512.GreaterThan(v, six), six, v));
    }
}
