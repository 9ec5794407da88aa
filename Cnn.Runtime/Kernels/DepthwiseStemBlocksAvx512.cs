using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CnnGen.Kernels;

public static unsafe partial class DepthwiseConv
{
    /// <summary>Whether <see cref="StemBlocks"/> computes a dense convolution followed by this depthwise convolution:
    /// AVX-512, the depthwise convolution 3x3 at stride 1 or 2, its channels a multiple of sixteen.</summary>
    internal static bool StemsChannelLast(int channels, int kernel, int stride) =>
        kernel == 3 && (stride == 1 || stride == 2) && Avx512F.IsSupported && Vector512.IsHardwareAccelerated && channels % WideBlockChannels == 0;

    /// <summary>This thread's channel-last band of every block, the band's outputs, a tile, both layers' weights in lanes,
    /// the stem's tap offsets and its padded input rows.</summary>
    [ThreadStatic] private static float[]? t_stemBlocks;

    /// <summary>
    /// <see cref="StemDepthwise"/>'s output rows [<paramref name="firstRow"/>, <paramref name="endRow"/>) in bands of
    /// <paramref name="bandRows"/>: the stem's output rows a band reads are computed straight into one channel-last copy
    /// per block of sixteen channels (position x of a padded row holds the block's values; padding and rows outside the
    /// image zero), each block is convolved from its copy and its outputs go back to their planes. The stem's rows a band
    /// shares with the band before it (the depthwise kernel's height less its stride) are moved up in the copies, not
    /// computed again. With a <paramref name="projection"/>, each band's outputs go to planes in cache instead and are
    /// projected from there into <paramref name="output"/> (<see cref="Project"/>). The caller has checked
    /// <see cref="StemsChannelLast"/> and the shapes.
    /// <para>Every stem value gets the chain of <see cref="StrideTwoConv"/> (a fused multiply-add per tap in
    /// (channel, ky, kx) order from zero, padding as <c>w * 0</c>, then the bias, then the activation) and every output the
    /// depthwise kernels' (<see cref="ChannelScalar"/>): the bits of the two layers run one after the other.</para>
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void StemBlocks(float* input, int inChannels, int inHeight, int inWidth, float* stemWeight, float* stemBias,
        FusedActivation stemActivation, int stemKernel, int stemStride, int stemPadding,
        float* weight, float* bias, float* output, int channels, int height, int width, int stride, int padding, int outHeight, int outWidth,
        FusedActivation activation, in Projection projection, int bandRows, int firstRow, int endRow)
    {
        const int lanes = WideBlockChannels;
        var s = new Shape(height, width, 3, stride, padding, outHeight, outWidth, activation);
        long outPlane = (long)outHeight * outWidth;
        var band = new ChannelLastBand(lanes, width, stride, padding, outWidth, bandRows);
        int bandInputRows = band.InputRows;
        long rowFloats = band.RowFloats, copyFloats = band.CopyFloats, outputFloats = band.OutputFloats, tileFloats = band.TileFloats;
        int blocks = channels / lanes, taps = inChannels * stemKernel * stemKernel;
        // The stem's padded input rows of one band: the columns its outputs read, the rows its bandInputRows rows read.
        int paddedWidth = (width - 1) * stemStride + stemKernel, stemInputRows = (bandInputRows - 1) * stemStride + stemKernel;
        long depthwiseFloats = (long)channels * 9, stemFloats = (long)channels * taps, inputFloats = (long)inChannels * stemInputRows * paddedWidth;
        // With a projection, a band's depthwise outputs in planes (channel c's at c * count).
        long bandOutputs = (long)bandRows * outWidth;
        long planeFloats = projection.Channels > 0 ? channels * bandOutputs : 0;
        float* copies = ThreadScratch.PinnedAlignedAtLeast(ref t_stemBlocks,
            blocks * copyFloats + outputFloats + tileFloats + depthwiseFloats + stemFloats + taps + inputFloats + planeFloats);
        float* outputs = copies + blocks * copyFloats, tile = outputs + outputFloats, depthwiseLanes = tile + tileFloats;
        float* stemLanes = depthwiseLanes + depthwiseFloats, padded = stemLanes + stemFloats + taps;
        float* bandPlanes = padded + inputFloats;
        int* offsets = (int*)(stemLanes + stemFloats);
        // The padding's columns cleared once stay zero (rows outside the image are cleared by the bands that read them).
        new Span<float>(copies, (int)(blocks * copyFloats)).Clear();
        // Both layers' weights in lanes: the stem's taps of block b as [taps][lanes] at stemLanes + b * lanes * taps, the
        // depthwise taps' as [9][lanes] at depthwiseLanes + b * lanes * 9; tap t = (c, ky, kx) of the stem reads its padded
        // input at offsets[t] from an output's corner.
        InLanes(stemWeight, channels, taps, lanes, stemLanes);
        InLanes(weight, channels, 9, lanes, depthwiseLanes);
        for (int c = 0, t = 0; c < inChannels; c++)
            for (int ky = 0; ky < stemKernel; ky++)
                for (int kx = 0; kx < stemKernel; kx++, t++)
                    offsets[t] = (c * stemInputRows + ky) * paddedWidth + kx;
        // Input rows the copies hold from the band before: [held, heldEnd), copy row 0 being input row heldTop.
        int held = 0, heldEnd = 0, heldTop = 0;
        for (int first = firstRow; first < endRow; first += bandRows)
        {
            int end = Math.Min(endRow, first + bandRows);
            int top = first * stride - padding, rows = (end - 1 - first) * stride + 3;
            int inFirst = Math.Max(0, top), inEnd = Math.Min(height, top + rows);
            // The rows of the band before that this band reads again move up in each copy; the others are computed.
            int keepFirst = Math.Max(inFirst, held), keepEnd = Math.Min(inEnd, heldEnd);
            if (keepFirst >= keepEnd) keepFirst = keepEnd = inFirst;
            for (int b = 0; b < blocks; b++)
            {
                float* copy = copies + b * copyFloats;
                if (keepEnd > keepFirst)
                    new ReadOnlySpan<float>(copy + (keepFirst - heldTop) * rowFloats, (int)((keepEnd - keepFirst) * rowFloats))
                        .CopyTo(new Span<float>(copy + (keepFirst - top) * rowFloats, (int)((keepEnd - keepFirst) * rowFloats)));
                ClearRowsOutside(copy, rowFloats, top, rows, inFirst, inEnd);
            }
            StemRows(input, inChannels, inHeight, inWidth, stemLanes, stemBias, stemActivation, stemKernel, stemStride, stemPadding, offsets, padded,
                paddedWidth, stemInputRows, copies, copyFloats, rowFloats, blocks, top, padding, width, inFirst, keepFirst);
            StemRows(input, inChannels, inHeight, inWidth, stemLanes, stemBias, stemActivation, stemKernel, stemStride, stemPadding, offsets, padded,
                paddedWidth, stemInputRows, copies, copyFloats, rowFloats, blocks, top, padding, width, keepEnd, inEnd);
            held = inFirst;
            heldEnd = inEnd;
            heldTop = top;
            int count = (end - first) * outWidth;
            for (int b = 0; b < blocks; b++)
            {
                ExpandedAvx512.Convolve(copies + b * copyFloats, rowFloats, depthwiseLanes + (long)b * lanes * 9, bias + b * lanes, outputs, s, first, end);
                if (projection.Channels == 0)
                    ExpandedAvx512.Planes(outputs, count, output + b * lanes * outPlane + (long)first * outWidth, outPlane, tile);
                else
                    ExpandedAvx512.Planes(outputs, count, bandPlanes + b * lanes * count, count, tile);
            }
            if (projection.Channels > 0) Project(projection, bandPlanes, channels, count, output + (long)first * outWidth, outPlane);
        }
    }

    /// <summary>A 1x1 convolution after the depthwise one, computed on each band while its outputs are in cache:
    /// <see cref="Channels"/> filters of <see cref="Weight"/> [Channels, depthwise channels], <see cref="Bias"/>, then
    /// <see cref="Activation"/>. None where <see cref="Channels"/> is 0.</summary>
    internal readonly struct Projection(float* weight, float* bias, FusedActivation activation, int channels)
    {
        public readonly float* Weight = weight, Bias = bias;
        public readonly FusedActivation Activation = activation;
        public readonly int Channels = channels;
    }

    /// <summary>
    /// The projection of a band's <paramref name="count"/> positions from the depthwise outputs' planes
    /// (<paramref name="planes"/>, <paramref name="channels"/> rows of <paramref name="count"/>) into the output planes from
    /// <paramref name="output"/> on (<paramref name="outPlane"/> apart): the product's own kernel with B's and C's rows
    /// apart as they lie, so each output gets <see cref="Gemm.MultiplyBiasActivation"/>'s chain (a fused multiply-add per
    /// channel in order from zero, then the bias, then the activation) and nothing is copied.
    /// </summary>
    private static void Project(in Projection projection, float* planes, int channels, int count, float* output, long outPlane) =>
        GemmAvx512.Multiply(projection.Weight, planes, ldb: count, output, ldc: (int)outPlane, m: projection.Channels, n: count, k: channels,
            rowStep: channels, colStep: 1, accumulate: false, projection.Bias, projection.Activation);

    /// <summary>
    /// The stem's output rows [<paramref name="firstRow"/>, <paramref name="endRow"/>) (input rows of the depthwise
    /// convolution) into every block's copy, row r at copy row <c>r - top</c>, position x at <c>padding + x</c>: the input
    /// rows they read are first laid out zero-padded in <paramref name="padded"/> (channel c's row j at
    /// <c>(c * stemInputRows + j) * paddedWidth</c>), so that every tap reads a value, zero in the padding.
    /// </summary>
    private static void StemRows(float* input, int inChannels, int inHeight, int inWidth, float* stemLanes, float* stemBias, FusedActivation stemActivation,
        int stemKernel, int stemStride, int stemPadding, int* offsets, float* padded, int paddedWidth, int stemInputRows,
        float* copies, long copyFloats, long rowFloats, int blocks, int top, int padding, int width, int firstRow, int endRow)
    {
        if (firstRow >= endRow) return;
        const int lanes = WideBlockChannels;
        int readFirst = firstRow * stemStride - stemPadding, readRows = (endRow - 1 - firstRow) * stemStride + stemKernel;
        int copied = Math.Min(inWidth, paddedWidth - stemPadding);
        for (int c = 0; c < inChannels; c++)
            for (int j = 0; j < readRows; j++)
            {
                var row = new Span<float>(padded + ((long)c * stemInputRows + j) * paddedWidth, paddedWidth);
                int y = readFirst + j;
                if (y < 0 || y >= inHeight || copied <= 0) { row.Clear(); continue; }
                row.Slice(0, stemPadding).Clear();
                new ReadOnlySpan<float>(input + ((long)c * inHeight + y) * inWidth, copied).CopyTo(row.Slice(stemPadding));
                row.Slice(stemPadding + copied).Clear();
            }
        int taps = inChannels * stemKernel * stemKernel;
        for (int b = 0; b < blocks; b += 2)
        {
            bool two = blocks - b >= 2;
            float* low = copies + b * copyFloats + padding * lanes, high = two ? low + copyFloats : low;
            for (int r = firstRow; r < endRow; r++)
            {
                float* corner = padded + (long)(r - firstRow) * stemStride * paddedWidth;
                long at = (r - top) * rowFloats;
                if (stemStride == 2 && two)
                    StemRowStrideTwoPair(corner, offsets, taps, stemLanes + (long)b * lanes * taps, stemBias + b * lanes, stemActivation, low + at, high + at, width);
                else if (stemStride == 2)
                    StemRowStrideTwoOne(corner, offsets, taps, stemLanes + (long)b * lanes * taps, stemBias + b * lanes, stemActivation, low + at, high + at, width);
                else
                    StemRowAnyStride(corner, offsets, taps, stemLanes + (long)b * lanes * taps, stemBias + b * lanes, stemActivation, low + at, high + at, width, two,
                        stemStride);
            }
        }
    }

    // Stride 2 (the stems of MobileNet-like networks) compiled on its own for two blocks and for one, so that its offsets
    // are constants and no multiply-add waits on a test of the block count.
    [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.NoInlining)]
    private static void StemRowStrideTwoPair(float* corner, int* offsets, int taps, float* lanes, float* bias, FusedActivation activation,
        float* low, float* high, int width) =>
        StemRow(corner, offsets, taps, lanes, bias, activation, low, high, width, two: true, stride: 2);

    [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.NoInlining)]
    private static void StemRowStrideTwoOne(float* corner, int* offsets, int taps, float* lanes, float* bias, FusedActivation activation,
        float* low, float* high, int width) =>
        StemRow(corner, offsets, taps, lanes, bias, activation, low, high, width, two: false, stride: 2);

    [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.NoInlining)]
    private static void StemRowAnyStride(float* corner, int* offsets, int taps, float* lanes, float* bias, FusedActivation activation,
        float* low, float* high, int width, bool two, int stride) =>
        StemRow(corner, offsets, taps, lanes, bias, activation, low, high, width, two, stride);

    /// <summary>
    /// One stem output row of sixteen filters (and, with <paramref name="two"/>, the next sixteen) into channel-last
    /// positions (x at <c>low + x * 16</c>): eight outputs at a time, each tap's input value broadcast into both blocks'
    /// vectors (<paramref name="lanes"/>: block 0's taps as [taps][16], then block 1's); a last 1 to 7 one at a time.
    /// Output x's tap t reads <c>corner[x * stride + offsets[t]]</c>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StemRow(float* corner, int* offsets, int taps, float* lanes, float* bias, FusedActivation activation,
        float* low, float* high, int width, bool two, int stride)
    {
        const int v = WideBlockChannels;
        float* highLanes = lanes + (long)taps * v;
        var bias0 = Vector512.Load(bias);
        var bias1 = two ? Vector512.Load(bias + v) : Vector512<float>.Zero;
        int x = StemEights(corner, offsets, taps, lanes, highLanes, bias0, bias1, activation, low, high, width, two, stride);
        for (; x < width; x++)
        {
            var c0 = Vector512<float>.Zero;
            var c1 = Vector512<float>.Zero;
            float* from = corner + x * stride, w = lanes, u = highLanes;
            for (int t = 0; t < taps; t++, w += v, u += v)
            {
                var q = Vector512.Create(from[offsets[t]]);
                c0 = Avx512F.FusedMultiplyAdd(Vector512.Load(w), q, c0);
                if (two) c1 = Avx512F.FusedMultiplyAdd(Vector512.Load(u), q, c1);
            }
            Vector512.Store(Activate.Apply(c0 + bias0, activation), low + x * v);
            if (two) Vector512.Store(Activate.Apply(c1 + bias1, activation), high + x * v);
        }
    }

    /// <summary>The outputs of <see cref="StemRow"/> eight at a time while eight remain; returns the first left.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int StemEights(float* corner, int* offsets, int taps, float* lanes, float* highLanes, Vector512<float> bias0, Vector512<float> bias1,
        FusedActivation activation, float* low, float* high, int width, bool two, int stride)
    {
        const int v = WideBlockChannels;
        int x = 0;
        for (; x + 8 <= width; x += 8)
        {
            Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default, c30 = default, c31 = default;
            Vector512<float> c40 = default, c41 = default, c50 = default, c51 = default, c60 = default, c61 = default, c70 = default, c71 = default;
            float* from = corner + x * stride, w = lanes, u = highLanes;
            for (int t = 0; t < taps; t++, w += v, u += v)
            {
                float* p = from + offsets[t];
                var w0 = Vector512.Load(w);
                var w1 = two ? Vector512.Load(u) : default;
                var q = Vector512.Create(p[0]); c00 = Avx512F.FusedMultiplyAdd(w0, q, c00); if (two) c01 = Avx512F.FusedMultiplyAdd(w1, q, c01);
                q = Vector512.Create(p[stride]); c10 = Avx512F.FusedMultiplyAdd(w0, q, c10); if (two) c11 = Avx512F.FusedMultiplyAdd(w1, q, c11);
                q = Vector512.Create(p[2 * stride]); c20 = Avx512F.FusedMultiplyAdd(w0, q, c20); if (two) c21 = Avx512F.FusedMultiplyAdd(w1, q, c21);
                q = Vector512.Create(p[3 * stride]); c30 = Avx512F.FusedMultiplyAdd(w0, q, c30); if (two) c31 = Avx512F.FusedMultiplyAdd(w1, q, c31);
                q = Vector512.Create(p[4 * stride]); c40 = Avx512F.FusedMultiplyAdd(w0, q, c40); if (two) c41 = Avx512F.FusedMultiplyAdd(w1, q, c41);
                q = Vector512.Create(p[5 * stride]); c50 = Avx512F.FusedMultiplyAdd(w0, q, c50); if (two) c51 = Avx512F.FusedMultiplyAdd(w1, q, c51);
                q = Vector512.Create(p[6 * stride]); c60 = Avx512F.FusedMultiplyAdd(w0, q, c60); if (two) c61 = Avx512F.FusedMultiplyAdd(w1, q, c61);
                q = Vector512.Create(p[7 * stride]); c70 = Avx512F.FusedMultiplyAdd(w0, q, c70); if (two) c71 = Avx512F.FusedMultiplyAdd(w1, q, c71);
            }
            StoreRun(low + x * v, bias0, activation, c00, c10, c20, c30, c40, c50, c60, c70);
            if (two) StoreRun(high + x * v, bias1, activation, c01, c11, c21, c31, c41, c51, c61, c71);
        }
        return x;
    }

    /// <summary>Eight neighbouring positions' sums of sixteen channels, with their bias and activation, from
    /// <paramref name="at"/> on.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRun(float* at, Vector512<float> bias, FusedActivation activation, Vector512<float> v0, Vector512<float> v1,
        Vector512<float> v2, Vector512<float> v3, Vector512<float> v4, Vector512<float> v5, Vector512<float> v6, Vector512<float> v7)
    {
        StoreFour(at, bias, activation, v0, v1, v2, v3);
        StoreFour(at + 4 * WideBlockChannels, bias, activation, v4, v5, v6, v7);
    }
}
