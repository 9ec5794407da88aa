using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CnnGen.Kernels;

public static unsafe partial class DepthwiseConv
{
    /// <summary>
    /// <see cref="ExpandedBlocks"/> on AVX2: sixteen expanded channels at a time go straight into the channel-last rows
    /// of <see cref="ChannelBlocksAvx2"/> (six positions by sixteen channels in twelve registers), then each eight are
    /// convolved as there and go back to their planes by 8 x 8 transposes.
    /// </summary>
    private readonly struct ExpandedAvx2 : IExpandedWidth
    {
        public static int Lanes => BlockChannels;

        public static void Expand(float* input, long plane, int inChannels, int count, float* lanes, float* bias, FusedActivation activation,
            float* low, float* high, int* positions, bool two)
        {
            if (two) ExpandSixteenAvx2(input, plane, inChannels, count, lanes, bias, activation, low, high, positions);
            else ExpandEightAvx2(input, plane, inChannels, count, lanes, bias, activation, low, high, positions);
        }

        public static void Convolve(float* copy, long rowFloats, float* weights, float* bias, float* outputs, in Shape s, int first, int end) =>
            ComputeBand(new BlockLayout(copy, rowFloats, outputs, null, weights), bias, s, first, end);

        public static void Planes(float* outputs, int count, float* output, long outPlane, float* tile) =>
            PlanesFromChannelLast(outputs, count, output, outPlane, tile);
    }

    // Sixteen channels and eight compiled on their own, each with its registers.
    [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.NoInlining)]
    private static void ExpandSixteenAvx2(float* input, long plane, int inChannels, int count, float* lanes, float* bias, FusedActivation activation,
        float* low, float* high, int* positions) =>
        Expand(input, plane, inChannels, count, lanes, bias, activation, low, high, positions, sixteen: true);

    [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.NoInlining)]
    private static void ExpandEightAvx2(float* input, long plane, int inChannels, int count, float* lanes, float* bias, FusedActivation activation,
        float* low, float* high, int* positions) =>
        Expand(input, plane, inChannels, count, lanes, bias, activation, low, high, positions, sixteen: false);

    /// <summary>
    /// The first <paramref name="count"/> positions of the band's input (input channel i's at <c>input + i * plane</c>)
    /// expanded to eight channels (and, with <paramref name="sixteen"/>, the next eight), channel-last: position p's
    /// values at <c>low + positions[p] * 8</c> (and <c>high + ...</c>). Six positions at a time, each input value
    /// broadcast and multiplied into both channel vectors; a last 1 to 5 positions one at a time.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Expand(float* input, long plane, int inChannels, int count, float* lanes, float* bias, FusedActivation activation,
        float* low, float* high, int* positions, bool sixteen)
    {
        float* highLanes = lanes + (long)inChannels * BlockChannels;
        var bias0 = Avx.LoadVector256(bias);
        var bias1 = sixteen ? Avx.LoadVector256(bias + BlockChannels) : Vector256<float>.Zero;
        int p = 0;
        for (; p + 6 <= count; p += 6)
        {
            var zero = Vector256<float>.Zero;
            Vector256<float> c00 = zero, c01 = zero, c10 = zero, c11 = zero, c20 = zero, c21 = zero;
            Vector256<float> c30 = zero, c31 = zero, c40 = zero, c41 = zero, c50 = zero, c51 = zero;
            float* x = input + p, w = lanes, v = highLanes;
            for (int i = 0; i < inChannels; i++, x += plane, w += BlockChannels, v += BlockChannels)
            {
                var w0 = Avx.LoadVector256(w);
                var w1 = sixteen ? Avx.LoadVector256(v) : zero;
                var b = Vector256.Create(x[0]); c00 = Fma.MultiplyAdd(w0, b, c00); if (sixteen) c01 = Fma.MultiplyAdd(w1, b, c01);
                b = Vector256.Create(x[1]); c10 = Fma.MultiplyAdd(w0, b, c10); if (sixteen) c11 = Fma.MultiplyAdd(w1, b, c11);
                b = Vector256.Create(x[2]); c20 = Fma.MultiplyAdd(w0, b, c20); if (sixteen) c21 = Fma.MultiplyAdd(w1, b, c21);
                b = Vector256.Create(x[3]); c30 = Fma.MultiplyAdd(w0, b, c30); if (sixteen) c31 = Fma.MultiplyAdd(w1, b, c31);
                b = Vector256.Create(x[4]); c40 = Fma.MultiplyAdd(w0, b, c40); if (sixteen) c41 = Fma.MultiplyAdd(w1, b, c41);
                b = Vector256.Create(x[5]); c50 = Fma.MultiplyAdd(w0, b, c50); if (sixteen) c51 = Fma.MultiplyAdd(w1, b, c51);
            }
            int* to = positions + p;
            StoreSix(low, to, bias0, activation, c00, c10, c20, c30, c40, c50);
            if (sixteen) StoreSix(high, to, bias1, activation, c01, c11, c21, c31, c41, c51);
        }
        for (; p < count; p++)
        {
            var c0 = Vector256<float>.Zero;
            var c1 = Vector256<float>.Zero;
            float* x = input + p, w = lanes, v = highLanes;
            for (int i = 0; i < inChannels; i++, x += plane, w += BlockChannels, v += BlockChannels)
            {
                var b = Vector256.Create(x[0]);
                c0 = Fma.MultiplyAdd(Avx.LoadVector256(w), b, c0);
                if (sixteen) c1 = Fma.MultiplyAdd(Avx.LoadVector256(v), b, c1);
            }
            Avx.Store(low + positions[p] * BlockChannels, Activate.Apply(c0 + bias0, activation));
            if (sixteen) Avx.Store(high + positions[p] * BlockChannels, Activate.Apply(c1 + bias1, activation));
        }
    }

    /// <summary>Six positions' sums of eight channels, with their bias and activation, at <c>copy + to[j] * 8</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreSix(float* copy, int* to, Vector256<float> bias, FusedActivation activation, Vector256<float> v0, Vector256<float> v1,
        Vector256<float> v2, Vector256<float> v3, Vector256<float> v4, Vector256<float> v5)
    {
        Avx.Store(copy + to[0] * BlockChannels, Activate.Apply(v0 + bias, activation));
        Avx.Store(copy + to[1] * BlockChannels, Activate.Apply(v1 + bias, activation));
        Avx.Store(copy + to[2] * BlockChannels, Activate.Apply(v2 + bias, activation));
        Avx.Store(copy + to[3] * BlockChannels, Activate.Apply(v3 + bias, activation));
        Avx.Store(copy + to[4] * BlockChannels, Activate.Apply(v4 + bias, activation));
        Avx.Store(copy + to[5] * BlockChannels, Activate.Apply(v5 + bias, activation));
    }
}
