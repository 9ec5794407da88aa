using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CnnGen.Kernels;

public static unsafe partial class DepthwiseConv
{
    /// <summary>Channels of an AVX-512 block: one per lane.</summary>
    private const int WideBlockChannels = 16;

    /// <summary>
    /// <see cref="ExpandedBlocks"/> on AVX-512: 32 expanded channels at a time (16 for a last odd block), eight positions
    /// by 32 channels in sixteen registers, each input value broadcast into both blocks; each block is convolved eight
    /// outputs of a row at a time (two groups of four, eight chains in flight) with the nine taps' weight vectors in
    /// registers, and its outputs go back to their planes by 16 x 16 transposes.
    /// </summary>
    private readonly struct ExpandedAvx512 : IExpandedWidth
    {
        public static int Lanes => WideBlockChannels;

        public static void Expand(float* input, long plane, int inChannels, int count, float* lanes, float* bias, FusedActivation activation,
            float* low, float* high, int* positions, bool two)
        {
            if (two) ExpandTwoBlocksAvx512(input, plane, inChannels, count, lanes, bias, activation, low, high, positions);
            else ExpandOneBlockAvx512(input, plane, inChannels, count, lanes, bias, activation, low, high, positions);
        }

        public static void Convolve(float* copy, long rowFloats, float* weights, float* bias, float* outputs, in Shape s, int first, int end)
        {
            if (s.Stride == 1) ConvolveBandStrideOneAvx512(copy, rowFloats, weights, bias, outputs, s, first, end);
            else ConvolveBandStrideTwoAvx512(copy, rowFloats, weights, bias, outputs, s, first, end);
        }

        public static void Planes(float* outputs, int count, float* output, long outPlane, float* tile) =>
            PlanesFromChannelLastAvx512(outputs, count, output, outPlane, tile);
    }

    // Two blocks and one compiled on their own, each with its registers.
    [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.NoInlining)]
    private static void ExpandTwoBlocksAvx512(float* input, long plane, int inChannels, int count, float* lanes, float* bias, FusedActivation activation,
        float* low, float* high, int* positions) =>
        ExpandWide(input, plane, inChannels, count, lanes, bias, activation, low, high, positions, two: true);

    [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.NoInlining)]
    private static void ExpandOneBlockAvx512(float* input, long plane, int inChannels, int count, float* lanes, float* bias, FusedActivation activation,
        float* low, float* high, int* positions) =>
        ExpandWide(input, plane, inChannels, count, lanes, bias, activation, low, high, positions, two: false);

    /// <summary>
    /// The first <paramref name="count"/> positions of the band's input (input channel i's at <c>input + i * plane</c>)
    /// expanded to sixteen channels (and, with <paramref name="two"/>, the next sixteen), channel-last: position p's
    /// values at <c>low + positions[p] * 16</c> (and <c>high + ...</c>). Eight positions at a time, each input value
    /// broadcast and multiplied into both blocks' vectors; a last 1 to 7 positions one at a time.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ExpandWide(float* input, long plane, int inChannels, int count, float* lanes, float* bias, FusedActivation activation,
        float* low, float* high, int* positions, bool two)
    {
        float* highLanes = lanes + (long)inChannels * WideBlockChannels;
        var bias0 = Vector512.Load(bias);
        var bias1 = two ? Vector512.Load(bias + WideBlockChannels) : Vector512<float>.Zero;
        int p = ExpandEights(input, plane, inChannels, count, lanes, highLanes, bias0, bias1, activation, low, high, positions, two);
        for (; p < count; p++) ExpandOne(input + p, plane, inChannels, lanes, highLanes, bias0, bias1, activation, low + positions[p] * WideBlockChannels,
            high + positions[p] * WideBlockChannels, two);
    }

    /// <summary>The positions of <see cref="ExpandWide"/> eight at a time while eight remain; returns the first left.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int ExpandEights(float* input, long plane, int inChannels, int count, float* lanes, float* highLanes, Vector512<float> bias0,
        Vector512<float> bias1, FusedActivation activation, float* low, float* high, int* positions, bool two)
    {
        const int v = WideBlockChannels;
        int p = 0;
        for (; p + 8 <= count; p += 8)
        {
            Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default, c30 = default, c31 = default;
            Vector512<float> c40 = default, c41 = default, c50 = default, c51 = default, c60 = default, c61 = default, c70 = default, c71 = default;
            float* x = input + p, w = lanes, u = highLanes;
            for (int i = 0; i < inChannels; i++, x += plane, w += v, u += v)
            {
                var w0 = Vector512.Load(w);
                var w1 = two ? Vector512.Load(u) : default;
                var b = Vector512.Create(x[0]); c00 = Avx512F.FusedMultiplyAdd(w0, b, c00); if (two) c01 = Avx512F.FusedMultiplyAdd(w1, b, c01);
                b = Vector512.Create(x[1]); c10 = Avx512F.FusedMultiplyAdd(w0, b, c10); if (two) c11 = Avx512F.FusedMultiplyAdd(w1, b, c11);
                b = Vector512.Create(x[2]); c20 = Avx512F.FusedMultiplyAdd(w0, b, c20); if (two) c21 = Avx512F.FusedMultiplyAdd(w1, b, c21);
                b = Vector512.Create(x[3]); c30 = Avx512F.FusedMultiplyAdd(w0, b, c30); if (two) c31 = Avx512F.FusedMultiplyAdd(w1, b, c31);
                b = Vector512.Create(x[4]); c40 = Avx512F.FusedMultiplyAdd(w0, b, c40); if (two) c41 = Avx512F.FusedMultiplyAdd(w1, b, c41);
                b = Vector512.Create(x[5]); c50 = Avx512F.FusedMultiplyAdd(w0, b, c50); if (two) c51 = Avx512F.FusedMultiplyAdd(w1, b, c51);
                b = Vector512.Create(x[6]); c60 = Avx512F.FusedMultiplyAdd(w0, b, c60); if (two) c61 = Avx512F.FusedMultiplyAdd(w1, b, c61);
                b = Vector512.Create(x[7]); c70 = Avx512F.FusedMultiplyAdd(w0, b, c70); if (two) c71 = Avx512F.FusedMultiplyAdd(w1, b, c71);
            }
            int* to = positions + p;
            StoreEight(low, to, bias0, activation, c00, c10, c20, c30, c40, c50, c60, c70);
            if (two) StoreEight(high, to, bias1, activation, c01, c11, c21, c31, c41, c51, c61, c71);
        }
        return p;
    }

    /// <summary>One position of <see cref="ExpandWide"/> (<paramref name="x"/>: its first input channel's value), into
    /// <paramref name="low"/> (and <paramref name="high"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ExpandOne(float* x, long plane, int inChannels, float* w, float* u, Vector512<float> bias0, Vector512<float> bias1,
        FusedActivation activation, float* low, float* high, bool two)
    {
        var c0 = Vector512<float>.Zero;
        var c1 = Vector512<float>.Zero;
        for (int i = 0; i < inChannels; i++, x += plane, w += WideBlockChannels, u += WideBlockChannels)
        {
            var b = Vector512.Create(x[0]);
            c0 = Avx512F.FusedMultiplyAdd(Vector512.Load(w), b, c0);
            if (two) c1 = Avx512F.FusedMultiplyAdd(Vector512.Load(u), b, c1);
        }
        Vector512.Store(Activate.Apply(c0 + bias0, activation), low);
        if (two) Vector512.Store(Activate.Apply(c1 + bias1, activation), high);
    }

    /// <summary>Eight positions' sums of sixteen channels, with their bias and activation, at <c>copy + to[j] * 16</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreEight(float* copy, int* to, Vector512<float> bias, FusedActivation activation, Vector512<float> v0, Vector512<float> v1,
        Vector512<float> v2, Vector512<float> v3, Vector512<float> v4, Vector512<float> v5, Vector512<float> v6, Vector512<float> v7)
    {
        const int v = WideBlockChannels;
        Vector512.Store(Activate.Apply(v0 + bias, activation), copy + to[0] * v);
        Vector512.Store(Activate.Apply(v1 + bias, activation), copy + to[1] * v);
        Vector512.Store(Activate.Apply(v2 + bias, activation), copy + to[2] * v);
        Vector512.Store(Activate.Apply(v3 + bias, activation), copy + to[3] * v);
        Vector512.Store(Activate.Apply(v4 + bias, activation), copy + to[4] * v);
        Vector512.Store(Activate.Apply(v5 + bias, activation), copy + to[5] * v);
        Vector512.Store(Activate.Apply(v6 + bias, activation), copy + to[6] * v);
        Vector512.Store(Activate.Apply(v7 + bias, activation), copy + to[7] * v);
    }

    // Each stride compiled on its own, so that the taps' offsets are constants.
    [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.NoInlining)]
    private static void ConvolveBandStrideOneAvx512(float* copy, long rowFloats, float* weights, float* bias, float* outputs, in Shape s, int first, int end) =>
        ConvolveBandWide(copy, rowFloats, weights, bias, outputs, s, first, end, stride: 1);

    [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.NoInlining)]
    private static void ConvolveBandStrideTwoAvx512(float* copy, long rowFloats, float* weights, float* bias, float* outputs, in Shape s, int first, int end) =>
        ConvolveBandWide(copy, rowFloats, weights, bias, outputs, s, first, end, stride: 2);

    /// <summary>Output rows [<paramref name="first"/>, <paramref name="end"/>) of a block of sixteen channels from its
    /// band's channel-last rows (the first at <paramref name="copy"/>, input row <c>first * stride - padding</c>), into
    /// its channel-last outputs, eight of a row at a time (a last four where fewer remain); the nine taps' weights
    /// (<paramref name="weights"/>, [9][16]) in registers. Alone on the same bands, eight beat four by 2-21% at stride 1
    /// (4.7-5.5 against 4.1-4.9 G vector multiply-adds a second) and ran even at stride 2.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ConvolveBandWide(float* copy, long rowFloats, float* weights, float* bias, float* outputs, in Shape s, int first, int end, int stride)
    {
        const int v = WideBlockChannels;
        var w0 = Vector512.Load(weights); var w1 = Vector512.Load(weights + v); var w2 = Vector512.Load(weights + 2 * v);
        var w3 = Vector512.Load(weights + 3 * v); var w4 = Vector512.Load(weights + 4 * v); var w5 = Vector512.Load(weights + 5 * v);
        var w6 = Vector512.Load(weights + 6 * v); var w7 = Vector512.Load(weights + 7 * v); var w8 = Vector512.Load(weights + 8 * v);
        var biasLanes = Vector512.Load(bias);
        var activation = s.Activation;
        int outWidth = s.OutWidth, computed = (outWidth + 3) & ~3;
        float* to = outputs;
        for (int oy = first; oy < end; oy++, to += outWidth * v)
        {
            float* corner = copy + (oy - first) * stride * rowFloats;
            int ox = 0;
            for (; ox + 8 <= computed; ox += 8)
            {
                // Eight outputs: two groups of four, eight chains in flight to cover the multiply-add's latency.
                float* r0 = corner + ox * stride * v, r4 = r0 + 4 * stride * v;
                var zero = Vector512<float>.Zero;
                Vector512<float> a0 = zero, a1 = zero, a2 = zero, a3 = zero, a4 = zero, a5 = zero, a6 = zero, a7 = zero;
                WideTaps(r0, w0, w1, w2, ref a0, ref a1, ref a2, ref a3, stride);
                WideTaps(r4, w0, w1, w2, ref a4, ref a5, ref a6, ref a7, stride);
                WideTaps(r0 + rowFloats, w3, w4, w5, ref a0, ref a1, ref a2, ref a3, stride);
                WideTaps(r4 + rowFloats, w3, w4, w5, ref a4, ref a5, ref a6, ref a7, stride);
                WideTaps(r0 + 2 * rowFloats, w6, w7, w8, ref a0, ref a1, ref a2, ref a3, stride);
                WideTaps(r4 + 2 * rowFloats, w6, w7, w8, ref a4, ref a5, ref a6, ref a7, stride);
                StoreFour(to + ox * v, biasLanes, activation, a0, a1, a2, a3);
                StoreFour(to + (ox + 4) * v, biasLanes, activation, a4, a5, a6, a7);
            }
            if (ox < computed)
            {
                float* r0 = corner + ox * stride * v;
                var zero = Vector512<float>.Zero;
                Vector512<float> a0 = zero, a1 = zero, a2 = zero, a3 = zero;
                WideTaps(r0, w0, w1, w2, ref a0, ref a1, ref a2, ref a3, stride);
                WideTaps(r0 + rowFloats, w3, w4, w5, ref a0, ref a1, ref a2, ref a3, stride);
                WideTaps(r0 + 2 * rowFloats, w6, w7, w8, ref a0, ref a1, ref a2, ref a3, stride);
                StoreFour(to + ox * v, biasLanes, activation, a0, a1, a2, a3);
            }
        }
    }

    /// <summary>Four neighbouring outputs' sums with their bias and activation, at <paramref name="at"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreFour(float* at, Vector512<float> bias, FusedActivation activation, Vector512<float> a0, Vector512<float> a1,
        Vector512<float> a2, Vector512<float> a3)
    {
        const int v = WideBlockChannels;
        Vector512.Store(Activate.Apply(a0 + bias, activation), at);
        Vector512.Store(Activate.Apply(a1 + bias, activation), at + v);
        Vector512.Store(Activate.Apply(a2 + bias, activation), at + 2 * v);
        Vector512.Store(Activate.Apply(a3 + bias, activation), at + 3 * v);
    }

    /// <summary>One row of taps (kx = 0, 1, 2) of four neighbouring outputs, as <see cref="Taps"/> does with eight
    /// channels: each position of the row loaded once, in order, into every output that reads it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void WideTaps(float* row, Vector512<float> k0, Vector512<float> k1, Vector512<float> k2,
        ref Vector512<float> a0, ref Vector512<float> a1, ref Vector512<float> a2, ref Vector512<float> a3, int stride)
    {
        const int v = WideBlockChannels;
        if (stride == 1)
        {
            a0 = Avx512F.FusedMultiplyAdd(k0, Vector512.Load(row), a0);
            var x = Vector512.Load(row + v);
            a0 = Avx512F.FusedMultiplyAdd(k1, x, a0); a1 = Avx512F.FusedMultiplyAdd(k0, x, a1);
            x = Vector512.Load(row + 2 * v);
            a0 = Avx512F.FusedMultiplyAdd(k2, x, a0); a1 = Avx512F.FusedMultiplyAdd(k1, x, a1); a2 = Avx512F.FusedMultiplyAdd(k0, x, a2);
            x = Vector512.Load(row + 3 * v);
            a1 = Avx512F.FusedMultiplyAdd(k2, x, a1); a2 = Avx512F.FusedMultiplyAdd(k1, x, a2); a3 = Avx512F.FusedMultiplyAdd(k0, x, a3);
            x = Vector512.Load(row + 4 * v);
            a2 = Avx512F.FusedMultiplyAdd(k2, x, a2); a3 = Avx512F.FusedMultiplyAdd(k1, x, a3);
            a3 = Avx512F.FusedMultiplyAdd(k2, Vector512.Load(row + 5 * v), a3);
            return;
        }
        a0 = Avx512F.FusedMultiplyAdd(k0, Vector512.Load(row), a0);
        a0 = Avx512F.FusedMultiplyAdd(k1, Vector512.Load(row + v), a0);
        var y = Vector512.Load(row + 2 * v);
        a0 = Avx512F.FusedMultiplyAdd(k2, y, a0); a1 = Avx512F.FusedMultiplyAdd(k0, y, a1);
        a1 = Avx512F.FusedMultiplyAdd(k1, Vector512.Load(row + 3 * v), a1);
        y = Vector512.Load(row + 4 * v);
        a1 = Avx512F.FusedMultiplyAdd(k2, y, a1); a2 = Avx512F.FusedMultiplyAdd(k0, y, a2);
        a2 = Avx512F.FusedMultiplyAdd(k1, Vector512.Load(row + 5 * v), a2);
        y = Vector512.Load(row + 6 * v);
        a2 = Avx512F.FusedMultiplyAdd(k2, y, a2); a3 = Avx512F.FusedMultiplyAdd(k0, y, a3);
        a3 = Avx512F.FusedMultiplyAdd(k1, Vector512.Load(row + 7 * v), a3);
        a3 = Avx512F.FusedMultiplyAdd(k2, Vector512.Load(row + 8 * v), a3);
    }

    /// <summary><paramref name="count"/> outputs of sixteen channels, channel-last, into the channels' planes
    /// (<paramref name="outPlane"/> apart): sixteen of each at a time by a transpose, the last 1 to 15 through
    /// <paramref name="tile"/>, stored under a mask so that nothing past them is written.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.NoInlining)]
    private static void PlanesFromChannelLastAvx512(float* outputs, int count, float* output, long outPlane, float* tile)
    {
        const int v = WideBlockChannels;
        int i = 0;
        for (; i + v <= count; i += v) Transpose16.Block(outputs + i * v, v, output + i, outPlane);
        if (i == count) return;
        Transpose16.Block(outputs + i * v, v, tile, v);
        var mask = LaneMask.First(count - i);
        for (int c = 0; c < v; c++) Avx512F.MaskStore(output + c * outPlane + i, mask, Vector512.Load(tile + c * v));
    }
}
