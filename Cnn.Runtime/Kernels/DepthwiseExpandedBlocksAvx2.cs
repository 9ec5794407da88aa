using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CnnGen.Kernels;

public static unsafe partial class DepthwiseConv
{
    /// <summary>This thread's copies of a band for sixteen expanded channels, the band's outputs, a tile, and both layers'
    /// weights in lanes by blocks of eight channels.</summary>
    [ThreadStatic] private static float[]? t_expandedBlocks;

    /// <summary>
    /// <see cref="ExpandDepthwise"/>'s output rows [<paramref name="firstRow"/>, <paramref name="endRow"/>) on AVX2, in
    /// bands of <paramref name="bandRows"/>: for sixteen expanded channels at a time, the band's input rows are expanded
    /// straight into the channel-last rows of <see cref="ChannelBlocksAvx2"/> (six positions by sixteen channels in
    /// twelve registers, the expansion's weights in lanes by blocks of eight channels, the bias and activation as the
    /// sums are stored), then each eight are convolved as there and go back to their planes. No expanded plane is
    /// written and no transpose reads one. Every expanded value gets the chain of
    /// <see cref="Gemm.MultiplyBiasActivation"/> (a fused multiply-add per input channel in order from zero, then the
    /// bias, then the activation) and every output <see cref="ChannelScalar"/>'s: the bits of the two layers.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void ExpandedBlocksAvx2(float* input, int inChannels, float* expandWeight, float* expandBias, FusedActivation expandActivation,
        float* weight, float* bias, float* output, int channels, int height, int width, int stride, int padding, int outHeight, int outWidth,
        FusedActivation activation, int bandRows, int firstRow, int endRow)
    {
        var s = new Shape(height, width, 3, stride, padding, outHeight, outWidth, activation);
        long plane = (long)height * width, outPlane = (long)outHeight * outWidth;
        int computed = (outWidth + 3) & ~3;
        int rowLength = Math.Max(padding + width + 1, (computed - 1) * stride + 3);
        long rowFloats = (long)rowLength * BlockChannels;
        int bandInputRows = (bandRows - 1) * stride + 3;
        long copyFloats = bandInputRows * rowFloats, outputFloats = ((long)bandRows * outWidth + 7 & ~7L) * BlockChannels;
        const int tileFloats = BlockChannels * BlockChannels;
        long expandFloats = (long)channels * inChannels, depthwiseFloats = (long)channels * 9;
        float* copy = ThreadScratch.PinnedAtLeast(ref t_expandedBlocks, 2 * copyFloats + outputFloats + 2 * tileFloats + depthwiseFloats + expandFloats);
        float* second = copy + copyFloats, outputs = second + copyFloats, tile = outputs + outputFloats + tileFloats;
        float* depthwiseLanes = tile + tileFloats, expandLanes = depthwiseLanes + depthwiseFloats;
        // The padding's columns cleared once stay zero (rows outside the image are cleared by the bands that read them).
        new Span<float>(copy, (int)(2 * copyFloats)).Clear();
        // Both layers' weights in lanes once for every band: the expansion's of channels 8b .. 8b + 7 as [inChannels][8]
        // at expandLanes + 8b * inChannels, the depthwise taps' as [9][8] at depthwiseLanes + 72b.
        for (int c = 0; c < channels; c++)
            for (int i = 0; i < inChannels; i++)
                expandLanes[(long)(c / BlockChannels) * BlockChannels * inChannels + i * BlockChannels + c % BlockChannels] = expandWeight[(long)c * inChannels + i];
        for (int c = 0; c < channels; c += BlockChannels) WeightLanes(weight + c * 9, depthwiseLanes + c * 9);
        fixed (int* positions = BandPositions(bandInputRows, width, rowLength, padding))
        {
            for (int first = firstRow; first < endRow; first += bandRows)
            {
                int end = Math.Min(endRow, first + bandRows);
                int top = first * stride - padding, rows = (end - 1 - first) * stride + 3;
                int inFirst = Math.Max(0, top), inEnd = Math.Min(height, top + rows), count = Math.Max(0, inEnd - inFirst) * width;
                float* bandInput = input + (long)inFirst * width;
                long inside = (inFirst - top) * rowFloats;
                for (int c = 0; c < channels; c += 2 * BlockChannels)
                {
                    bool sixteen = channels - c >= 2 * BlockChannels;
                    ClearRowsOutside(copy, rowFloats, top, rows, inFirst, inEnd);
                    if (sixteen) ClearRowsOutside(second, rowFloats, top, rows, inFirst, inEnd);
                    float* lanes = expandLanes + (long)c * inChannels;
                    if (sixteen) ExpandSixteenAvx2(bandInput, plane, inChannels, count, lanes, expandBias + c, expandActivation, copy + inside, second + inside, positions);
                    else ExpandEightAvx2(bandInput, plane, inChannels, count, lanes, expandBias + c, expandActivation, copy + inside, second + inside, positions);
                    for (int half = 0; half < (sixteen ? 2 : 1); half++)
                    {
                        int at = c + half * BlockChannels;
                        ComputeBand(new BlockLayout(half == 0 ? copy : second, rowFloats, outputs, tile, depthwiseLanes + at * 9), bias + at, s, first, end);
                        PlanesFromChannelLast(outputs, (end - first) * outWidth, output + at * outPlane + (long)first * outWidth, outPlane, tile);
                    }
                }
            }
        }
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
