using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CnnGen.Kernels;

public static unsafe partial class DepthwiseConv
{
    /// <summary>Whether <see cref="ExpandedBlocks"/> computes an expansion followed by this depthwise convolution: 3x3 at
    /// stride 1 or 2, on AVX-512 with expanded channels a multiple of sixteen, on AVX2 without AVX-512 a multiple of
    /// eight.</summary>
    internal static bool ExpandsChannelLast(int channels, int kernel, int stride)
    {
        if (kernel != 3 || (stride != 1 && stride != 2)) return false;
        if (Avx512F.IsSupported && Vector512.IsHardwareAccelerated) return channels % WideBlockChannels == 0;
        return Avx2.IsSupported && Fma.IsSupported && channels % BlockChannels == 0;
    }

    /// <summary>The kernels of one vector width that <see cref="ExpandedBlocks{TWidth}"/> drives, a block being one channel
    /// per lane.</summary>
    private interface IExpandedWidth
    {
        /// <summary>Channels of a block.</summary>
        static abstract int Lanes { get; }

        /// <summary>The first <paramref name="count"/> positions of a band's input (input channel i's at
        /// <c>input + i * plane</c>) expanded into one block's channel-last rows (position p's values at
        /// <c>low + positions[p] * Lanes</c>) and, with <paramref name="two"/>, the next block's (<c>high + ...</c>).</summary>
        static abstract void Expand(float* input, long plane, int inChannels, int count, float* lanes, float* bias, FusedActivation activation,
            float* low, float* high, int* positions, bool two);

        /// <summary>Output rows [<paramref name="first"/>, <paramref name="end"/>) of one block from its band's channel-last
        /// rows (the first at <paramref name="copy"/>, input row <c>first * stride - padding</c>), its nine taps' weights as
        /// <c>[9][Lanes]</c>, into its channel-last outputs.</summary>
        static abstract void Convolve(float* copy, long rowFloats, float* weights, float* bias, float* outputs, in Shape s, int first, int end);

        /// <summary><paramref name="count"/> channel-last outputs of a block into its channels' planes
        /// (<paramref name="outPlane"/> apart), writing nothing past them; <paramref name="tile"/> holds Lanes x Lanes.</summary>
        static abstract void Planes(float* outputs, int count, float* output, long outPlane, float* tile);
    }

    /// <summary>This thread's two channel-last bands of a block each, the band's outputs, a tile, and both layers' weights
    /// in lanes by blocks.</summary>
    [ThreadStatic] private static float[]? t_expandedBlocks;

    /// <summary><see cref="ExpandDepthwise"/>'s output rows [<paramref name="firstRow"/>, <paramref name="endRow"/>) by
    /// this machine's channel-last kernels; the caller has checked <see cref="ExpandsChannelLast"/>.</summary>
    internal static void ExpandedBlocks(float* input, int inChannels, float* expandWeight, float* expandBias, FusedActivation expandActivation,
        float* weight, float* bias, float* output, int channels, int height, int width, int stride, int padding, int outHeight, int outWidth,
        FusedActivation activation, int bandRows, int firstRow, int endRow)
    {
        if (Avx512F.IsSupported && Vector512.IsHardwareAccelerated)
            ExpandedBlocks<ExpandedAvx512>(input, inChannels, expandWeight, expandBias, expandActivation, weight, bias, output, channels, height, width,
                stride, padding, outHeight, outWidth, activation, bandRows, firstRow, endRow);
        else
            ExpandedBlocks<ExpandedAvx2>(input, inChannels, expandWeight, expandBias, expandActivation, weight, bias, output, channels, height, width,
                stride, padding, outHeight, outWidth, activation, bandRows, firstRow, endRow);
    }

    /// <summary>
    /// The expansion and the depthwise convolution in bands of <paramref name="bandRows"/> output rows: for two blocks of
    /// expanded channels at a time (one for a last odd block), the band's input rows are expanded straight into two
    /// channel-last copies (position x of a padded row holds a block's values; padding and rows outside the image zero),
    /// with the bias and activation as the sums are stored; then each block is convolved from its copy and its outputs go
    /// back to their planes. No expanded plane is written and no output is gathered from one.
    /// <para>Every expanded value gets the chain of <see cref="Gemm.MultiplyBiasActivation"/> (a fused multiply-add per
    /// input channel in order from zero, then the bias, then the activation) and every output
    /// <see cref="ChannelScalar"/>'s (a fused multiply-add per tap in (ky, kx) order from zero, padding as <c>w * 0</c>,
    /// then the bias and the activation): the bits of the two layers run one after the other.</para>
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ExpandedBlocks<TWidth>(float* input, int inChannels, float* expandWeight, float* expandBias, FusedActivation expandActivation,
        float* weight, float* bias, float* output, int channels, int height, int width, int stride, int padding, int outHeight, int outWidth,
        FusedActivation activation, int bandRows, int firstRow, int endRow)
        where TWidth : struct, IExpandedWidth
    {
        int lanes = TWidth.Lanes;
        var s = new Shape(height, width, 3, stride, padding, outHeight, outWidth, activation);
        long plane = (long)height * width, outPlane = (long)outHeight * outWidth;
        var band = new ChannelLastBand(lanes, width, stride, padding, outWidth, bandRows);
        int bandInputRows = band.InputRows, rowLength = band.RowLength;
        long rowFloats = band.RowFloats, copyFloats = band.CopyFloats, outputFloats = band.OutputFloats, tileFloats = band.TileFloats;
        long expandFloats = (long)channels * inChannels, depthwiseFloats = (long)channels * 9;
        // On cache lines: every load and store of a vector then touches one line (AVX-512, unaligned, MobileNetV2's whole
        // 112x112 block took 338-346 us against 318-324 aligned, alternating in one process).
        float* copy = ThreadScratch.PinnedAlignedAtLeast(ref t_expandedBlocks, 2 * copyFloats + outputFloats + tileFloats + depthwiseFloats + expandFloats);
        float* second = copy + copyFloats, outputs = second + copyFloats, tile = outputs + outputFloats;
        float* depthwiseLanes = tile + tileFloats, expandLanes = depthwiseLanes + depthwiseFloats;
        // The padding's columns cleared once stay zero (rows outside the image are cleared by the bands that read them).
        new Span<float>(copy, (int)(2 * copyFloats)).Clear();
        // Both layers' weights in lanes once for every band: the expansion's of block b as [inChannels][lanes] at
        // expandLanes + b * lanes * inChannels, the depthwise taps' as [9][lanes] at depthwiseLanes + b * lanes * 9.
        InLanes(expandWeight, channels, inChannels, lanes, expandLanes);
        InLanes(weight, channels, 9, lanes, depthwiseLanes);
        fixed (int* positions = BandPositions(bandInputRows, width, rowLength, padding))
        {
            for (int first = firstRow; first < endRow; first += bandRows)
            {
                int end = Math.Min(endRow, first + bandRows);
                int top = first * stride - padding, rows = (end - 1 - first) * stride + 3;
                int inFirst = Math.Max(0, top), inEnd = Math.Min(height, top + rows), count = Math.Max(0, inEnd - inFirst) * width;
                float* bandInput = input + (long)inFirst * width;
                long inside = (inFirst - top) * rowFloats;
                for (int c = 0; c < channels; c += 2 * lanes)
                {
                    bool two = channels - c >= 2 * lanes;
                    ClearRowsOutside(copy, rowFloats, top, rows, inFirst, inEnd);
                    if (two) ClearRowsOutside(second, rowFloats, top, rows, inFirst, inEnd);
                    TWidth.Expand(bandInput, plane, inChannels, count, expandLanes + (long)c * inChannels, expandBias + c, expandActivation,
                        copy + inside, second + inside, positions, two);
                    for (int half = 0; half < (two ? 2 : 1); half++)
                    {
                        int at = c + half * lanes;
                        TWidth.Convolve(half == 0 ? copy : second, rowFloats, depthwiseLanes + (long)at * 9, bias + at, outputs, s, first, end);
                        TWidth.Planes(outputs, (end - first) * outWidth, output + at * outPlane + (long)first * outWidth, outPlane, tile);
                    }
                }
            }
        }
    }

    /// <summary>
    /// How the channel-last kernels (<see cref="ExpandedBlocks{TWidth}"/>, <see cref="StemBlocks"/>) lay out a band of
    /// <c>bandRows</c> depthwise output rows for one block of <c>lanes</c> channels. Outputs are computed per row in whole
    /// groups of four (the extra ones read zeros or values of the row, and land on the next row's first outputs before
    /// those are computed, or past the band's last), so a copied input row (<see cref="RowLength"/> positions) holds the
    /// padding, the row and what the last group reads; <see cref="OutputFloats"/> holds a band's outputs and the up to
    /// three extra ones its last group computes; a tile (<see cref="TileFloats"/>) follows them, which a last partial
    /// transpose may read into.
    /// </summary>
    private readonly struct ChannelLastBand(int lanes, int width, int stride, int padding, int outWidth, int bandRows)
    {
        /// <summary>Input rows a band reads.</summary>
        public readonly int InputRows = (bandRows - 1) * stride + 3;

        /// <summary>Positions of a copied row.</summary>
        public readonly int RowLength = Math.Max(padding + width + 1, (((outWidth + 3) & ~3) - 1) * stride + 3);

        public long RowFloats => (long)RowLength * lanes;

        /// <summary>A block's copy of the band's input rows.</summary>
        public long CopyFloats => InputRows * RowFloats;

        public readonly long OutputFloats = ((long)bandRows * outWidth + 4) * lanes, TileFloats = (long)lanes * lanes;
    }

    /// <summary>Weights <c>[channels, taps]</c> into blocks of <paramref name="lanes"/> channels, each <c>[taps][lanes]</c>:
    /// channel c's tap t at <c>(c / lanes) * lanes * taps + t * lanes + c % lanes</c>.</summary>
    private static void InLanes(float* weight, int channels, int taps, int lanes, float* to)
    {
        for (int c = 0; c < channels; c++)
        {
            long block = c / lanes, lane = c % lanes;
            for (int t = 0; t < taps; t++) to[block * lanes * taps + t * lanes + lane] = weight[(long)c * taps + t];
        }
    }
}
