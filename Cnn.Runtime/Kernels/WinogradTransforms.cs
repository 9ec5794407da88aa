using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CnnGen.Kernels;

/// <summary>
/// The one-dimensional transforms of Winograd's F(4, 3) (Lavin and Gray's points 0, 1, -1, 2, -2 and infinity):
/// the input transform <c>B^T</c> (6 values to 6), the output transform <c>A^T</c> (6 to 4) and the filter transform
/// <c>G</c> (3 to 6, in double). Each float transform is written twice, for one value and for 16 lanes, with the same
/// operations in the same order (fused multiply-adds where both say so), so both give the same bits; the forward
/// transforms also for 8 lanes, for machines with AVX2 but not AVX-512.
/// </summary>
internal static class WinogradTransforms
{
    /// <summary><c>B^T d</c>: 4d0 - 5d2 + d4, -4(d1 + d2) + d3 + d4, 4(d1 - d2) + d4 - d3, 2(d3 - d1) + d4 - d2,
    /// 2(d1 - d3) + d4 - d2, 4d1 - 5d3 + d5.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Input(float d0, float d1, float d2, float d3, float d4, float d5,
        out float v0, out float v1, out float v2, out float v3, out float v4, out float v5)
    {
        v0 = MathF.FusedMultiplyAdd(4f, d0, MathF.FusedMultiplyAdd(-5f, d2, d4));
        v1 = MathF.FusedMultiplyAdd(-4f, d1 + d2, d3 + d4);
        v2 = MathF.FusedMultiplyAdd(4f, d1 - d2, d4 - d3);
        v3 = MathF.FusedMultiplyAdd(2f, d3 - d1, d4 - d2);
        v4 = MathF.FusedMultiplyAdd(2f, d1 - d3, d4 - d2);
        v5 = MathF.FusedMultiplyAdd(4f, d1, MathF.FusedMultiplyAdd(-5f, d3, d5));
    }

    /// <summary><see cref="Input(float, float, float, float, float, float, out float, out float, out float, out float, out float, out float)"/> on 16 lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Input(Vector512<float> d0, Vector512<float> d1, Vector512<float> d2, Vector512<float> d3, Vector512<float> d4, Vector512<float> d5,
        out Vector512<float> v0, out Vector512<float> v1, out Vector512<float> v2, out Vector512<float> v3, out Vector512<float> v4, out Vector512<float> v5)
    {
        var four = Vector512.Create(4f);
        var minusFive = Vector512.Create(-5f);
        var two = Vector512.Create(2f);
        v0 = Avx512F.FusedMultiplyAdd(four, d0, Avx512F.FusedMultiplyAdd(minusFive, d2, d4));
        v1 = Avx512F.FusedMultiplyAdd(Vector512.Create(-4f), d1 + d2, d3 + d4);
        v2 = Avx512F.FusedMultiplyAdd(four, d1 - d2, d4 - d3);
        v3 = Avx512F.FusedMultiplyAdd(two, d3 - d1, d4 - d2);
        v4 = Avx512F.FusedMultiplyAdd(two, d1 - d3, d4 - d2);
        v5 = Avx512F.FusedMultiplyAdd(four, d1, Avx512F.FusedMultiplyAdd(minusFive, d3, d5));
    }

    /// <summary><see cref="Input(float, float, float, float, float, float, out float, out float, out float, out float, out float, out float)"/> on 8 lanes (AVX2 and FMA).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Input(Vector256<float> d0, Vector256<float> d1, Vector256<float> d2, Vector256<float> d3, Vector256<float> d4, Vector256<float> d5,
        out Vector256<float> v0, out Vector256<float> v1, out Vector256<float> v2, out Vector256<float> v3, out Vector256<float> v4, out Vector256<float> v5)
    {
        var four = Vector256.Create(4f);
        var minusFive = Vector256.Create(-5f);
        var two = Vector256.Create(2f);
        v0 = Fma.MultiplyAdd(four, d0, Fma.MultiplyAdd(minusFive, d2, d4));
        v1 = Fma.MultiplyAdd(Vector256.Create(-4f), d1 + d2, d3 + d4);
        v2 = Fma.MultiplyAdd(four, d1 - d2, d4 - d3);
        v3 = Fma.MultiplyAdd(two, d3 - d1, d4 - d2);
        v4 = Fma.MultiplyAdd(two, d1 - d3, d4 - d2);
        v5 = Fma.MultiplyAdd(four, d1, Fma.MultiplyAdd(minusFive, d3, d5));
    }

    /// <summary><c>A^T m</c>: m0 + m1 + m2 + m3 + m4, m1 - m2 + 2(m3 - m4), m1 + m2 + 4(m3 + m4), m1 - m2 + 8(m3 - m4) + m5.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Output(float m0, float m1, float m2, float m3, float m4, float m5,
        out float o0, out float o1, out float o2, out float o3)
    {
        float a = m1 + m2, b = m1 - m2, c = m3 + m4, d = m3 - m4;
        o0 = m0 + a + c;
        o1 = MathF.FusedMultiplyAdd(2f, d, b);
        o2 = MathF.FusedMultiplyAdd(4f, c, a);
        o3 = MathF.FusedMultiplyAdd(8f, d, b) + m5;
    }

    /// <summary><see cref="Output(float, float, float, float, float, float, out float, out float, out float, out float)"/> on 16 lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Output(Vector512<float> m0, Vector512<float> m1, Vector512<float> m2, Vector512<float> m3, Vector512<float> m4, Vector512<float> m5,
        out Vector512<float> o0, out Vector512<float> o1, out Vector512<float> o2, out Vector512<float> o3)
    {
        Vector512<float> a = m1 + m2, b = m1 - m2, c = m3 + m4, d = m3 - m4;
        o0 = m0 + a + c;
        o1 = Avx512F.FusedMultiplyAdd(Vector512.Create(2f), d, b);
        o2 = Avx512F.FusedMultiplyAdd(Vector512.Create(4f), c, a);
        o3 = Avx512F.FusedMultiplyAdd(Vector512.Create(8f), d, b) + m5;
    }

    /// <summary><see cref="Output(float, float, float, float, float, float, out float, out float, out float, out float)"/> on 8 lanes (AVX2 and FMA).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Output(Vector256<float> m0, Vector256<float> m1, Vector256<float> m2, Vector256<float> m3, Vector256<float> m4, Vector256<float> m5,
        out Vector256<float> o0, out Vector256<float> o1, out Vector256<float> o2, out Vector256<float> o3)
    {
        Vector256<float> a = m1 + m2, b = m1 - m2, c = m3 + m4, d = m3 - m4;
        o0 = m0 + a + c;
        o1 = Fma.MultiplyAdd(Vector256.Create(2f), d, b);
        o2 = Fma.MultiplyAdd(Vector256.Create(4f), c, a);
        o3 = Fma.MultiplyAdd(Vector256.Create(8f), d, b) + m5;
    }

    /// <summary><c>A d</c>, the adjoint of <see cref="Output(float, float, float, float, float, float, out float, out float, out float, out float)"/>
    /// (4 values to 6, for the weight gradient): d0, d0 + d1 + d2 + d3, d0 - d1 + d2 - d3, d0 + 2d1 + 4d2 + 8d3,
    /// d0 - 2d1 + 4d2 - 8d3, d3.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void OutputAdjoint(float d0, float d1, float d2, float d3,
        out float m0, out float m1, out float m2, out float m3, out float m4, out float m5)
    {
        float s = d0 + d2, t = d1 + d3, p = MathF.FusedMultiplyAdd(4f, d2, d0), q = MathF.FusedMultiplyAdd(8f, d3, 2f * d1);
        m0 = d0;
        m1 = s + t;
        m2 = s - t;
        m3 = p + q;
        m4 = p - q;
        m5 = d3;
    }

    /// <summary><see cref="OutputAdjoint(float, float, float, float, out float, out float, out float, out float, out float, out float)"/> on 16 lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void OutputAdjoint(Vector512<float> d0, Vector512<float> d1, Vector512<float> d2, Vector512<float> d3,
        out Vector512<float> m0, out Vector512<float> m1, out Vector512<float> m2, out Vector512<float> m3, out Vector512<float> m4, out Vector512<float> m5)
    {
        Vector512<float> s = d0 + d2, t = d1 + d3;
        var p = Avx512F.FusedMultiplyAdd(Vector512.Create(4f), d2, d0);
        var q = Avx512F.FusedMultiplyAdd(Vector512.Create(8f), d3, Vector512.Create(2f) * d1);
        m0 = d0;
        m1 = s + t;
        m2 = s - t;
        m3 = p + q;
        m4 = p - q;
        m5 = d3;
    }

    /// <summary><c>G^T u</c> in double, the adjoint of <see cref="Filter(double, double, double, double*)"/> (6 values to 3, for the weight gradient):
    /// u0 / 4 - (u1 + u2) / 6 + (u3 + u4) / 24, (u2 - u1) / 6 + (u3 - u4) / 12, (u3 + u4 - u1 - u2) / 6 + u5.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void FilterAdjoint(double u0, double u1, double u2, double u3, double u4, double u5, double* g)
    {
        const double Sixth = 1.0 / 6, Twelfth = 1.0 / 12, TwentyFourth = 1.0 / 24;
        double pair = u1 + u2, ends = u3 + u4;
        g[0] = u0 * 0.25 - pair * Sixth + ends * TwentyFourth;
        g[1] = (u2 - u1) * Sixth + (u3 - u4) * Twelfth;
        g[2] = (ends - pair) * Sixth + u5;
    }

    /// <summary><see cref="FilterAdjoint(double, double, double, double, double, double, double*)"/> on 8 lanes, with
    /// the same operations in the same order: the same bits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void FilterAdjoint(Vector512<double> u0, Vector512<double> u1, Vector512<double> u2, Vector512<double> u3,
        Vector512<double> u4, Vector512<double> u5, out Vector512<double> g0, out Vector512<double> g1, out Vector512<double> g2)
    {
        var sixth = Vector512.Create(1.0 / 6);
        var pair = u1 + u2;
        var ends = u3 + u4;
        g0 = u0 * Vector512.Create(0.25) - pair * sixth + ends * Vector512.Create(1.0 / 24);
        g1 = (u2 - u1) * sixth + (u3 - u4) * Vector512.Create(1.0 / 12);
        g2 = (ends - pair) * sixth + u5;
    }

    /// <summary><c>G g</c> in double: g0 / 4, -(g0 + g1 + g2) / 6, -(g0 - g1 + g2) / 6, g0 / 24 + g1 / 12 + g2 / 6,
    /// g0 / 24 - g1 / 12 + g2 / 6, g2 (multiplications by the reciprocals: a division each would cost more than the rest).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void Filter(double g0, double g1, double g2, double* u)
    {
        const double Sixth = 1.0 / 6, Twelfth = 1.0 / 12, TwentyFourth = 1.0 / 24;
        double outer = g0 + g2, sixth = g2 * Sixth, ends = g0 * TwentyFourth + sixth, middle = g1 * Twelfth;
        u[0] = g0 * 0.25;
        u[1] = -(outer + g1) * Sixth;
        u[2] = -(outer - g1) * Sixth;
        u[3] = ends + middle;
        u[4] = ends - middle;
        u[5] = g2;
    }

    /// <summary><see cref="Filter(double, double, double, double*)"/> on 8 lanes, with the same operations in the same
    /// order (no fused multiply-adds, as there): the same bits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Filter(Vector512<double> g0, Vector512<double> g1, Vector512<double> g2,
        out Vector512<double> u0, out Vector512<double> u1, out Vector512<double> u2, out Vector512<double> u3, out Vector512<double> u4,
        out Vector512<double> u5)
    {
        var sixthOf = Vector512.Create(1.0 / 6);
        var outer = g0 + g2;
        var sixth = g2 * sixthOf;
        var ends = g0 * Vector512.Create(1.0 / 24) + sixth;
        var middle = g1 * Vector512.Create(1.0 / 12);
        u0 = g0 * Vector512.Create(0.25);
        u1 = -(outer + g1) * sixthOf;
        u2 = -(outer - g1) * sixthOf;
        u3 = ends + middle;
        u4 = ends - middle;
        u5 = g2;
    }
}
