using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CnnGen.Kernels;

/// <summary>
/// The path of <see cref="DirectConv"/> on machines with AVX2 and FMA but not AVX-512, for output rows of whole
/// vectors of 8: the output positions in the lanes, read straight from the padded input. The rows' vectors of 8
/// outputs are taken in groups across rows (a 32-wide map's row is 4 vectors, a 16-wide one's 2, an 8-wide one's 1),
/// and each group is computed for a block of filters at once: 6 vectors by 2 filters or 4 vectors by 3, whichever
/// computes fewer outputs twice for the shape (a group or block past the end repeats its last vector or filter, and
/// writes the same values twice). Each tap is one broadcast of each filter's weight and one load of each vector's 8
/// inputs: 12 accumulators, and 2 or 3 broadcasts per 12 fused multiply-adds. Against the im2col blocks and
/// <see cref="GemmAvx2"/> it replaces (one thread, medians of 41 calls alternating in one process, two runs, us, with
/// a ReLU): the CIFAR ResNet's 16 -> 16 @32 97.6 / 97.2 -> 58.8 / 58.3, 32 -> 32 @16 94.0 / 94.0 -> 53.8 / 53.5,
/// 64 -> 64 @8 82.0 / 85.9 -> 52.7 / 53.0, 3 -> 16 @32 21.9 / 21.4 -> 14.0 / 13.9; 64 -> 64 @32 1,124 / 1,146 ->
/// 1,067 / 1,096, 128 -> 128 @16 1,010 / 1,475 -> 882 / 1,229, 256 -> 256 @8 1,091 / 1,049 -> 838 / 767.
/// <para>Each output gets one fused multiply-add per term in (c, ky, kx) order from zero, then the bias, then the
/// ReLU: <see cref="DirectConv"/>'s chain, so the same bits.</para>
/// </summary>
[SkipLocalsInit]
internal static unsafe class DirectConvAvx2
{
    /// <summary>Whether <see cref="Run"/> takes this shape: rows of whole vectors, and taps few enough for their table
    /// to sit on the stack.</summary>
    public static bool Supports(int outWidth, int taps) => outWidth % 8 == 0 && taps <= 8192;

    /// <summary>Filters <c>[firstFilter, endFilter)</c>, output rows <c>[firstRow, endRow)</c>, from the padded input
    /// <paramref name="x"/> (<c>[channels, paddedHeight, paddedWidth]</c>) and weights <c>[F, C*K*K]</c>; the caller has
    /// checked the shape and the spans.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(float* x, float* weight, float* bias, float* output, int channels, int paddedHeight, int paddedWidth, int kernel,
        int outHeight, int outWidth, int firstFilter, int endFilter, int firstRow, int endRow, bool relu)
    {
        int ckk = channels * kernel * kernel, plane = outHeight * outWidth, perRow = outWidth / 8;
        int* taps = stackalloc int[ckk];
        for (int c = 0, t = 0; c < channels; c++)
            for (int ky = 0; ky < kernel; ky++)
                for (int kx = 0; kx < kernel; kx++) taps[t++] = (c * paddedHeight + ky) * paddedWidth + kx;
        int vectors = (endRow - firstRow) * perRow, filters = endFilter - firstFilter;
        // Outputs computed with groups of 6 vectors by 2 filters, and with 4 by 3 (repeats included).
        long six = (long)(vectors + 5) / 6 * 6 * ((filters + 1) / 2 * 2), four = (long)(vectors + 3) / 4 * 4 * ((filters + 2) / 3 * 3);
        int group = six <= four ? 6 : 4, block = six <= four ? 2 : 3;
        int* from = stackalloc int[6]; // each vector's first input, from x
        int* to = stackalloc int[6];   // and its first output, within a filter's plane
        var activation = relu ? FusedActivation.Relu : FusedActivation.None;
        for (int v0 = 0; v0 < vectors; v0 += group)
        {
            for (int q = 0; q < group; q++)
            {
                int v = Math.Min(v0 + q, vectors - 1), oy = firstRow + v / perRow, ox = v % perRow * 8;
                from[q] = oy * paddedWidth + ox;
                to[q] = oy * outWidth + ox;
            }
            for (int f0 = firstFilter; f0 < endFilter; f0 += block)
            {
                int f1 = Math.Min(f0 + 1, endFilter - 1), f2 = Math.Min(f0 + 2, endFilter - 1);
                if (group == 6)
                    SixByTwo(x, taps, ckk, from, weight + (long)f0 * ckk, weight + (long)f1 * ckk, bias[f0], bias[f1],
                        output + (long)f0 * plane, output + (long)f1 * plane, to, activation);
                else
                    FourByThree(x, taps, ckk, from, weight + (long)f0 * ckk, weight + (long)f1 * ckk, weight + (long)f2 * ckk,
                        bias[f0], bias[f1], bias[f2], output + (long)f0 * plane, output + (long)f1 * plane, output + (long)f2 * plane, to, activation);
            }
        }
    }

    /// <summary>Six vectors of outputs (inputs from <paramref name="from"/>'s offsets) of two filters.</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void SixByTwo(float* x, int* taps, int ckk, int* from, float* w0, float* w1, float bias0, float bias1,
        float* o0, float* o1, int* to, FusedActivation activation)
    {
        Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default;
        Vector256<float> b0 = default, b1 = default, b2 = default, b3 = default, b4 = default, b5 = default;
        float* x0 = x + from[0], x1 = x + from[1], x2 = x + from[2], x3 = x + from[3], x4 = x + from[4], x5 = x + from[5];
        for (int p = 0; p < ckk; p++)
        {
            int t = taps[p];
            var u = Vector256.Create(w0[p]);
            var v = Vector256.Create(w1[p]);
            var i0 = Vector256.Load(x0 + t); a0 = Fma.MultiplyAdd(u, i0, a0); b0 = Fma.MultiplyAdd(v, i0, b0);
            var i1 = Vector256.Load(x1 + t); a1 = Fma.MultiplyAdd(u, i1, a1); b1 = Fma.MultiplyAdd(v, i1, b1);
            var i2 = Vector256.Load(x2 + t); a2 = Fma.MultiplyAdd(u, i2, a2); b2 = Fma.MultiplyAdd(v, i2, b2);
            var i3 = Vector256.Load(x3 + t); a3 = Fma.MultiplyAdd(u, i3, a3); b3 = Fma.MultiplyAdd(v, i3, b3);
            var i4 = Vector256.Load(x4 + t); a4 = Fma.MultiplyAdd(u, i4, a4); b4 = Fma.MultiplyAdd(v, i4, b4);
            var i5 = Vector256.Load(x5 + t); a5 = Fma.MultiplyAdd(u, i5, a5); b5 = Fma.MultiplyAdd(v, i5, b5);
        }
        var c0 = Vector256.Create(bias0);
        var c1 = Vector256.Create(bias1);
        Activate.Apply(a0 + c0, activation).Store(o0 + to[0]); Activate.Apply(b0 + c1, activation).Store(o1 + to[0]);
        Activate.Apply(a1 + c0, activation).Store(o0 + to[1]); Activate.Apply(b1 + c1, activation).Store(o1 + to[1]);
        Activate.Apply(a2 + c0, activation).Store(o0 + to[2]); Activate.Apply(b2 + c1, activation).Store(o1 + to[2]);
        Activate.Apply(a3 + c0, activation).Store(o0 + to[3]); Activate.Apply(b3 + c1, activation).Store(o1 + to[3]);
        Activate.Apply(a4 + c0, activation).Store(o0 + to[4]); Activate.Apply(b4 + c1, activation).Store(o1 + to[4]);
        Activate.Apply(a5 + c0, activation).Store(o0 + to[5]); Activate.Apply(b5 + c1, activation).Store(o1 + to[5]);
    }

    /// <summary>Four vectors of outputs of three filters.</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void FourByThree(float* x, int* taps, int ckk, int* from, float* w0, float* w1, float* w2, float bias0, float bias1, float bias2,
        float* o0, float* o1, float* o2, int* to, FusedActivation activation)
    {
        Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
        Vector256<float> b0 = default, b1 = default, b2 = default, b3 = default;
        Vector256<float> d0 = default, d1 = default, d2 = default, d3 = default;
        float* x0 = x + from[0], x1 = x + from[1], x2 = x + from[2], x3 = x + from[3];
        for (int p = 0; p < ckk; p++)
        {
            int t = taps[p];
            var u = Vector256.Create(w0[p]);
            var v = Vector256.Create(w1[p]);
            var s = Vector256.Create(w2[p]);
            var i0 = Vector256.Load(x0 + t); a0 = Fma.MultiplyAdd(u, i0, a0); b0 = Fma.MultiplyAdd(v, i0, b0); d0 = Fma.MultiplyAdd(s, i0, d0);
            var i1 = Vector256.Load(x1 + t); a1 = Fma.MultiplyAdd(u, i1, a1); b1 = Fma.MultiplyAdd(v, i1, b1); d1 = Fma.MultiplyAdd(s, i1, d1);
            var i2 = Vector256.Load(x2 + t); a2 = Fma.MultiplyAdd(u, i2, a2); b2 = Fma.MultiplyAdd(v, i2, b2); d2 = Fma.MultiplyAdd(s, i2, d2);
            var i3 = Vector256.Load(x3 + t); a3 = Fma.MultiplyAdd(u, i3, a3); b3 = Fma.MultiplyAdd(v, i3, b3); d3 = Fma.MultiplyAdd(s, i3, d3);
        }
        var c0 = Vector256.Create(bias0);
        var c1 = Vector256.Create(bias1);
        var c2 = Vector256.Create(bias2);
        Activate.Apply(a0 + c0, activation).Store(o0 + to[0]); Activate.Apply(b0 + c1, activation).Store(o1 + to[0]); Activate.Apply(d0 + c2, activation).Store(o2 + to[0]);
        Activate.Apply(a1 + c0, activation).Store(o0 + to[1]); Activate.Apply(b1 + c1, activation).Store(o1 + to[1]); Activate.Apply(d1 + c2, activation).Store(o2 + to[1]);
        Activate.Apply(a2 + c0, activation).Store(o0 + to[2]); Activate.Apply(b2 + c1, activation).Store(o1 + to[2]); Activate.Apply(d2 + c2, activation).Store(o2 + to[2]);
        Activate.Apply(a3 + c0, activation).Store(o0 + to[3]); Activate.Apply(b3 + c1, activation).Store(o1 + to[3]); Activate.Apply(d3 + c2, activation).Store(o2 + to[3]);
    }
}
