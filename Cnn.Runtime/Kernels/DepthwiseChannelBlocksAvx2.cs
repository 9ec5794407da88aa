using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CnnGen.Kernels;

public static unsafe partial class DepthwiseConv
{
    /// <summary>
    /// Output rows up to which a 3x3 depthwise layer on AVX2 runs eight channels at a time with the channels in the lanes
    /// (<see cref="ChannelBlocksAvx2"/>) instead of a channel at a time with its outputs in the lanes, at stride 1: on
    /// small maps a channel's setup and its padded copy cost more than its arithmetic. MobileNetV2's pass on one thread
    /// (<c>Cnn.OrtLayers</c>, thread CPU time, two runs of each build in turn): 960 x 7 x 7 73-74 -> 37-39 us,
    /// 576 x 14 x 14 108-109 -> 76-79, 384 x 14 x 14 72-74 -> 50-53. On longer rows the transposes in and out cost more
    /// than they save (alternating per call with the channel at a time, medians of 31: 144 x 56 x 56 296-362 against
    /// 250-274 us; 192 x 28 x 28 100.8 against 102.9 and 162 against 195, no clear gain).
    /// </summary>
    private const int BlockOutWidthStrideOne = 16;

    /// <summary>
    /// The same at stride 2, where a channel at a time also gathers every other column with two shuffles per tap: in
    /// MobileNetV2's pass 576 x 14 x 14 76-78 -> 36-37 us, 192 x 28 x 28 76-78 -> 48-50, 144 x 56 x 56 (rows of 28
    /// outputs, in bands) 164-167 -> 125-134; alone, alternating per call, 144 x 56 x 56 156-193 -> 126-135 us in three
    /// runs and 300 -> 215 in a fourth on a slow stretch of the machine. Rows of 56 outputs (96 x 112 x 112) gained
    /// nothing (359-572 against 381-571).
    /// </summary>
    private const int BlockOutWidthStrideTwo = 32;

    /// <summary>Channels of a block: one per lane.</summary>
    private const int BlockChannels = 8;

    /// <summary>Whether <see cref="ChannelBlocksAvx2"/> computes this shape.</summary>
    private static bool UsesChannelBlocks(in Shape s) =>
        Avx2.IsSupported && Fma.IsSupported && s.Kernel == 3 && (s.Stride == 1 || s.Stride == 2) && s.OutWidth <= (s.Stride == 1 ? BlockOutWidthStrideOne : BlockOutWidthStrideTwo);

    /// <summary>Values of a block's channel-last copy of a band's input rows, at most (16 KiB, half the first-level
    /// cache): a band has as many output rows as that allows, at least one.</summary>
    private const int BandCopyFloats = 4096;

    /// <summary>This thread's channel-last copy of a band's input rows, then its outputs and an 8 x 8 tile.</summary>
    [ThreadStatic] private static float[]? t_channelBlock;

    /// <summary>This thread's table of where each input value of a band goes in the channel-last copy.</summary>
    [ThreadStatic] private static int[]? t_channelBlockPositions;

    /// <summary>This thread's table (grown as needed) of where value i of a band's <paramref name="rows"/> input rows of
    /// <paramref name="width"/> goes in its channel-last copy: position <c>(i / width) * rowLength + padding + i % width</c>
    /// (times 8 floats) from the band's first row inside the image.</summary>
    private static int[] BandPositions(int rows, int width, int rowLength, int padding)
    {
        int values = rows * width;
        if ((t_channelBlockPositions?.Length ?? 0) < values) t_channelBlockPositions = new int[values];
        var positions = t_channelBlockPositions!;
        for (int i = 0; i < values; i++) positions[i] = i / width * rowLength + padding + i % width;
        return positions;
    }

    /// <summary>
    /// Output rows [<paramref name="firstRow"/>, <paramref name="endRow"/>) of <paramref name="blocks"/> blocks of eight
    /// channels, channel c's input at <c>channel + c * channelStride</c> (where its row 0 would be) and its output plane at
    /// <c>output + c * outPlane</c>, a band of output rows at a time. A band's input rows are copied channel-last
    /// (position x of a padded row holds the eight channels' values; padding and rows outside the image zero) by 8 x 8
    /// transposes of eight values of the plane at a time, so that every tap of every output is one plain load and one
    /// fused multiply-add with the tap's eight weights: four outputs of a row at a time, the nine weight vectors in
    /// registers. The band's outputs, channel-last in the order of the plane, go back into the eight planes eight at a
    /// time. Each lane is the chain of <see cref="ChannelScalar"/>, one fused multiply-add per tap in (ky, kx) order from
    /// zero, padding as <c>w * 0</c>, then the bias and the activation: the same bits.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ChannelBlocksAvx2(float* channel, long channelStride, float* w, float* bias, float* output, long outPlane, in Shape s,
        int firstRow, int endRow, int blocks)
    {
        // Outputs computed per row: whole groups of four (the extra ones read zeros or values of the row, and land on
        // the next row's first outputs before those are computed, or past the band's last); a copied row holds the
        // padding, the row and what the last group reads.
        int computed = (s.OutWidth + 3) & ~3;
        int rowLength = Math.Max(s.Padding + s.Width + 1, (computed - 1) * s.Stride + 3);
        long rowFloats = (long)rowLength * BlockChannels;
        int bandRows = (int)Math.Clamp((BandCopyFloats / rowFloats - 3) / s.Stride + 1, 1, Math.Max(1, endRow - firstRow));
        int bandInputRows = (bandRows - 1) * s.Stride + 3;
        long copyFloats = bandInputRows * rowFloats, outputFloats = ((long)bandRows * s.OutWidth + 7 & ~7L) * BlockChannels;
        const int tileFloats = BlockChannels * BlockChannels, weightFloats = 9 * BlockChannels;
        float* copy = ThreadScratch.PinnedAtLeast(ref t_channelBlock, copyFloats + outputFloats + 2 * tileFloats + weightFloats);
        float* tile = copy + copyFloats + outputFloats + tileFloats;
        var layout = new BlockLayout(copy, rowFloats, copy + copyFloats, tile, tile + tileFloats);
        // Every band writes the same columns, so the padding's columns cleared once stay zero (rows outside the image are
        // cleared by the bands that read them).
        new Span<float>(copy, (int)copyFloats).Clear();
        fixed (int* positions = BandPositions(bandInputRows, s.Width, rowLength, s.Padding))
        {
            for (int b = 0; b < blocks; b++, channel += BlockChannels * channelStride, w += BlockChannels * 9, bias += BlockChannels,
                 output += BlockChannels * outPlane)
            {
                WeightLanes(w, layout.Weights);
                for (int first = firstRow; first < endRow; first += bandRows)
                {
                    int end = Math.Min(endRow, first + bandRows);
                    CopyBand(channel, channelStride, s, first * s.Stride - s.Padding, (end - 1 - first) * s.Stride + 3, positions, copy, rowFloats);
                    ComputeBand(layout, bias, s, first, end);
                    PlanesFromChannelLast(layout.Outputs, (end - first) * s.OutWidth, output + (long)first * s.OutWidth, outPlane, layout.Tile);
                }
            }
        }
    }

    /// <summary>Where a band's channel-last rows are (<c>RowFloats</c> apart), its outputs, an 8 x 8 tile and a block's
    /// nine weight vectors (<see cref="WeightLanes"/>).</summary>
    private readonly struct BlockLayout(float* copy, long rowFloats, float* outputs, float* tile, float* weights)
    {
        public readonly float* Copy = copy, Outputs = outputs, Tile = tile, Weights = weights;
        public readonly long RowFloats = rowFloats;
    }

    /// <summary>Tap t's weights of eight channels (<paramref name="w"/>: nine per channel), one per lane, at
    /// <c>lanes + 8t</c>: read by each band (held in registers across a band's calls, the JIT kept them on the stack
    /// inside the loop).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void WeightLanes(float* w, float* lanes)
    {
        var weightLanes = Vector256.Create(0, 9, 18, 27, 36, 45, 54, 63);
        for (int t = 0; t < 9; t++) Avx.Store(lanes + t * BlockChannels, Avx2.GatherVector256(w + t, weightLanes, 4));
    }

    /// <summary>Output rows [<paramref name="first"/>, <paramref name="end"/>) of a block of eight channels from its band's
    /// channel-last rows (the first at <c>l.Copy</c>, input row <c>first * stride - padding</c>), into its channel-last
    /// outputs.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ComputeBand(in BlockLayout l, float* bias, in Shape s, int first, int end)
    {
        if (s.Stride == 1) ComputeBandStrideOneAvx2(l, bias, s, first, end);
        else ComputeBandStrideTwoAvx2(l, bias, s, first, end);
    }

    // Each stride compiled on its own, so that the taps' offsets are constants.
    [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.NoInlining)]
    private static void ComputeBandStrideOneAvx2(in BlockLayout l, float* bias, in Shape s, int first, int end) =>
        ComputeBand(l, bias, s, first, end, stride: 1);

    [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.NoInlining)]
    private static void ComputeBandStrideTwoAvx2(in BlockLayout l, float* bias, in Shape s, int first, int end) =>
        ComputeBand(l, bias, s, first, end, stride: 2);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ComputeBand(in BlockLayout l, float* bias, in Shape s, int first, int end, int stride)
    {
        float* weights = l.Weights;
        var w0 = Avx.LoadVector256(weights); var w1 = Avx.LoadVector256(weights + 8); var w2 = Avx.LoadVector256(weights + 16);
        var w3 = Avx.LoadVector256(weights + 24); var w4 = Avx.LoadVector256(weights + 32); var w5 = Avx.LoadVector256(weights + 40);
        var w6 = Avx.LoadVector256(weights + 48); var w7 = Avx.LoadVector256(weights + 56); var w8 = Avx.LoadVector256(weights + 64);
        var biasLanes = Avx.LoadVector256(bias);
        var activation = s.Activation;
        int outWidth = s.OutWidth, computed = (outWidth + 3) & ~3;
        long rowFloats = l.RowFloats;
        float* to = l.Outputs;
        for (int oy = first; oy < end; oy++, to += outWidth * BlockChannels)
        {
            float* corner = l.Copy + (oy - first) * stride * rowFloats;
            for (int ox = 0; ox < computed; ox += 4)
            {
                float* r0 = corner + ox * stride * BlockChannels;
                var zero = Vector256<float>.Zero;
                Vector256<float> a0 = zero, a1 = zero, a2 = zero, a3 = zero;
                Taps(r0, w0, w1, w2, ref a0, ref a1, ref a2, ref a3, stride);
                Taps(r0 + rowFloats, w3, w4, w5, ref a0, ref a1, ref a2, ref a3, stride);
                Taps(r0 + 2 * rowFloats, w6, w7, w8, ref a0, ref a1, ref a2, ref a3, stride);
                float* at = to + ox * BlockChannels;
                Avx.Store(at, Activate.Apply(a0 + biasLanes, activation));
                Avx.Store(at + 8, Activate.Apply(a1 + biasLanes, activation));
                Avx.Store(at + 16, Activate.Apply(a2 + biasLanes, activation));
                Avx.Store(at + 24, Activate.Apply(a3 + biasLanes, activation));
            }
        }
    }

    /// <summary>One row of taps (kx = 0, 1, 2) of four neighbouring outputs, their weights in <paramref name="k0"/> to
    /// <paramref name="k2"/>, output j reading positions <c>j * stride + kx</c> of the copied row. The positions are loaded
    /// in order, each once, and go to every output that reads them at once (each output still gets its taps in kx order):
    /// loads shared between outputs and held for later took the registers of the weights.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Taps(float* row, Vector256<float> k0, Vector256<float> k1, Vector256<float> k2,
        ref Vector256<float> a0, ref Vector256<float> a1, ref Vector256<float> a2, ref Vector256<float> a3, int stride)
    {
        const int v = BlockChannels;
        if (stride == 1)
        {
            a0 = Fma.MultiplyAdd(k0, Avx.LoadVector256(row), a0);
            var x = Avx.LoadVector256(row + v);
            a0 = Fma.MultiplyAdd(k1, x, a0); a1 = Fma.MultiplyAdd(k0, x, a1);
            x = Avx.LoadVector256(row + 2 * v);
            a0 = Fma.MultiplyAdd(k2, x, a0); a1 = Fma.MultiplyAdd(k1, x, a1); a2 = Fma.MultiplyAdd(k0, x, a2);
            x = Avx.LoadVector256(row + 3 * v);
            a1 = Fma.MultiplyAdd(k2, x, a1); a2 = Fma.MultiplyAdd(k1, x, a2); a3 = Fma.MultiplyAdd(k0, x, a3);
            x = Avx.LoadVector256(row + 4 * v);
            a2 = Fma.MultiplyAdd(k2, x, a2); a3 = Fma.MultiplyAdd(k1, x, a3);
            a3 = Fma.MultiplyAdd(k2, Avx.LoadVector256(row + 5 * v), a3);
            return;
        }
        a0 = Fma.MultiplyAdd(k0, Avx.LoadVector256(row), a0);
        a0 = Fma.MultiplyAdd(k1, Avx.LoadVector256(row + v), a0);
        var y = Avx.LoadVector256(row + 2 * v);
        a0 = Fma.MultiplyAdd(k2, y, a0); a1 = Fma.MultiplyAdd(k0, y, a1);
        a1 = Fma.MultiplyAdd(k1, Avx.LoadVector256(row + 3 * v), a1);
        y = Avx.LoadVector256(row + 4 * v);
        a1 = Fma.MultiplyAdd(k2, y, a1); a2 = Fma.MultiplyAdd(k0, y, a2);
        a2 = Fma.MultiplyAdd(k1, Avx.LoadVector256(row + 5 * v), a2);
        y = Avx.LoadVector256(row + 6 * v);
        a2 = Fma.MultiplyAdd(k2, y, a2); a3 = Fma.MultiplyAdd(k0, y, a3);
        a3 = Fma.MultiplyAdd(k1, Avx.LoadVector256(row + 7 * v), a3);
        a3 = Fma.MultiplyAdd(k2, Avx.LoadVector256(row + 8 * v), a3);
    }

    /// <summary>Input rows <c>top .. top + rows - 1</c> of eight channels (channel c's row y at
    /// <c>channel + c * channelStride + y * width</c>) into <paramref name="copy"/>, channel-last, row r at
    /// <c>r * rowFloats</c>, input column x at position <c>padding + x</c> (<paramref name="positions"/>: value i of the
    /// rows at <c>positions[i] * 8</c> from the first row inside the image); rows outside the image cleared. Eight values of
    /// each channel at a time, transposed in registers; the last 1 to 7 loaded under a mask, so that nothing past them is
    /// read.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.NoInlining)]
    private static void CopyBand(float* channel, long channelStride, in Shape s, int top, int rows, int* positions, float* copy, long rowFloats)
    {
        int inFirst = Math.Max(0, top), inEnd = Math.Min(s.Height, top + rows);
        ClearRowsOutside(copy, rowFloats, top, rows, inFirst, inEnd);
        int values = Math.Max(0, inEnd - inFirst) * s.Width;
        float* from = channel + (long)inFirst * s.Width;
        copy += (inFirst - top) * rowFloats;
        for (int i = 0; i < values; i += 8)
        {
            int count = Math.Min(8, values - i);
            var mask = StridedLanes256.First(count);
            float* at = from + i;
            Vector256<float> v0, v1, v2, v3, v4, v5, v6, v7;
            if (count == 8)
            {
                v0 = Avx.LoadVector256(at); v1 = Avx.LoadVector256(at + channelStride);
                v2 = Avx.LoadVector256(at + 2 * channelStride); v3 = Avx.LoadVector256(at + 3 * channelStride);
                v4 = Avx.LoadVector256(at + 4 * channelStride); v5 = Avx.LoadVector256(at + 5 * channelStride);
                v6 = Avx.LoadVector256(at + 6 * channelStride); v7 = Avx.LoadVector256(at + 7 * channelStride);
            }
            else
            {
                v0 = Avx.MaskLoad(at, mask); v1 = Avx.MaskLoad(at + channelStride, mask);
                v2 = Avx.MaskLoad(at + 2 * channelStride, mask); v3 = Avx.MaskLoad(at + 3 * channelStride, mask);
                v4 = Avx.MaskLoad(at + 4 * channelStride, mask); v5 = Avx.MaskLoad(at + 5 * channelStride, mask);
                v6 = Avx.MaskLoad(at + 6 * channelStride, mask); v7 = Avx.MaskLoad(at + 7 * channelStride, mask);
            }
            Transpose8.Registers(ref v0, ref v1, ref v2, ref v3, ref v4, ref v5, ref v6, ref v7);
            int* to = positions + i;
            Avx.Store(copy + to[0] * BlockChannels, v0);
            if (count > 1) Avx.Store(copy + to[1] * BlockChannels, v1);
            if (count > 2) Avx.Store(copy + to[2] * BlockChannels, v2);
            if (count > 3) Avx.Store(copy + to[3] * BlockChannels, v3);
            if (count > 4) Avx.Store(copy + to[4] * BlockChannels, v4);
            if (count > 5) Avx.Store(copy + to[5] * BlockChannels, v5);
            if (count > 6) Avx.Store(copy + to[6] * BlockChannels, v6);
            if (count > 7) Avx.Store(copy + to[7] * BlockChannels, v7);
        }
    }

    /// <summary>Rows of a band's copy (input rows <c>top .. top + rows - 1</c>) outside the image's rows
    /// [<paramref name="inFirst"/>, <paramref name="inEnd"/>): zeros.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ClearRowsOutside(float* copy, long rowFloats, int top, int rows, int inFirst, int inEnd)
    {
        for (int r = 0; r < rows; r++)
            if (r < inFirst - top || r >= inEnd - top) new Span<float>(copy + r * rowFloats, (int)rowFloats).Clear();
    }

    /// <summary><paramref name="count"/> outputs of eight channels, channel-last, into the channels' planes
    /// (<paramref name="outPlane"/> apart): eight of each at a time by a transpose, the last 1 to 7 through
    /// <paramref name="tile"/>, stored without writing past them.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.NoInlining)]
    private static void PlanesFromChannelLast(float* outputs, int count, float* output, long outPlane, float* tile)
    {
        int i = 0;
        for (; i + 8 <= count; i += 8) Transpose8.Block(outputs + i * BlockChannels, BlockChannels, output + i, outPlane);
        if (i == count) return;
        Transpose8.Block(outputs + i * BlockChannels, BlockChannels, tile, BlockChannels);
        for (int c = 0; c < BlockChannels; c++) StridedLanes256.StoreFirst(output + c * outPlane + i, Avx.LoadVector256(tile + c * BlockChannels), count - i);
    }
}
