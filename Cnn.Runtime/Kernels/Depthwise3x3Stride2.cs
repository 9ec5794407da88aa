using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CnnGen.Kernels;

/// <summary>
/// Depthwise 3x3 convolution, stride 2, padding 1 (an input of <c>height x width</c> gives
/// <c>(height + 1) / 2 x (width + 1) / 2</c>), NCHW, read straight from the input: no padded, phase-split copy of each
/// channel. Each output gets <see cref="DepthwiseConv.Forward"/>'s chain (a fused multiply-add chain in (ky, kx) order
/// from zero, padding as <c>w * 0</c>, then the bias and the activation), so the same bits as it and as im2col + product,
/// with and without SIMD.
/// <para>The AVX-512 path keeps a channel's nine weights in registers and computes four output rows of 16 columns at
/// once from the nine input rows they read. For 16 outputs from column <c>ox</c> an input row gives its columns
/// <c>2ox - 1 + 2j</c> (tap kx = 0), <c>2ox + 2j</c> (kx = 1) and <c>2ox + 1 + 2j</c> (kx = 2): two 16-value loads
/// from <c>2ox</c>, their even and their odd lanes picked by two-source permutes, and the odd lanes moved up one lane
/// behind column <c>2ox - 1</c> for kx = 0 (a second pair of loads from <c>2ox - 1</c>, as this kernel first did, cost
/// 25-35% more: 144x56x56 71-85 -> 52-56 us alone). A column outside the row is a lane masked off the load (zero, and
/// nothing outside the row is read), a row above or below the image is a zero vector. Output rows of at most 8 values
/// (inputs up to 16 wide: MobileNetV2's 14x14 -> 7x7) share a vector two rows at a time, output row <c>oy</c> in lanes
/// 0-7 and <c>oy + 4</c> in lanes 8-15, each half loading its input row whole, so that half the lanes are not idle; their
/// kx = 0 taps are the odd lanes moved up one lane too, with the padding in lanes 0 and 8.</para>
/// <para>Each block of rows first asks for the next channel's input and output rows of the block, as the stride-1
/// kernel does (<see cref="Depthwise3x3"/>): MobileNetV2's 192 x 28 x 28 layer on two threads 45 -> 31 us and its
/// 144 x 56 x 56 one 72 -> 60 where lines moved slowly between the cores.</para>
/// </summary>
public static unsafe class Depthwise3x3Stride2
{
    private const int Lanes = 16, RowsPerBlock = 4;

    /// <summary>Whether <see cref="Forward"/> computes this convolution: 3x3, stride 2, padding 1, no dilation.</summary>
    public static bool Supports(int kernel, int stride, int padding, int dilation) =>
        kernel == 3 && stride == 2 && padding == 1 && dilation == 1;

    /// <summary>The output's height or width for an input of <paramref name="size"/>.</summary>
    public static int OutputSize(int size) => (size + 1) / 2;

    /// <summary>Channels <c>[firstChannel, endChannel)</c> of the output (<c>channels x (height + 1) / 2 x (width + 1) / 2</c>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Forward(ReadOnlySpan<float> input, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, Span<float> output,
        int channels, int height, int width, int firstChannel, int endChannel, FusedActivation activation = FusedActivation.None)
    {
        if (height < 1 || width < 1)
            throw new ArgumentException($"Depthwise3x3Stride2.Forward: input {height}x{width} must be positive.");
        if (firstChannel < 0 || endChannel > channels || firstChannel > endChannel)
            throw new ArgumentException($"Depthwise3x3Stride2.Forward: channel range [{firstChannel}, {endChannel}) is not within the {channels} channels.");
        int outHeight = OutputSize(height), outWidth = OutputSize(width);
        long plane = (long)height * width, outPlane = (long)outHeight * outWidth;
        if (input.Length < channels * plane || weight.Length < channels * 9L || bias.Length < channels || output.Length < channels * outPlane)
            throw new ArgumentException("Depthwise3x3Stride2.Forward: spans too short for the given shape.");
        if (firstChannel == endChannel) return;
        fixed (float* pin = input, pw = weight, pb = bias, pout = output)
        {
            if (!(Avx512F.IsSupported && Vector512.IsHardwareAccelerated))
            {
                // The portable path is the general kernel's (it needs no scratch without SIMD).
                DepthwiseConv.ForwardRows(pin + firstChannel * plane, plane, 0, height, pw + firstChannel * 9, pb + firstChannel,
                    pout + firstChannel * outPlane, null, endChannel - firstChannel, height, width, kernel: 3, stride: 2, padding: 1,
                    outHeight, outWidth, 0, outHeight, activation);
                return;
            }
            Channels(pin + firstChannel * plane, plane, 0, height, pw + firstChannel * 9, pb + firstChannel, pout + firstChannel * outPlane,
                endChannel - firstChannel, height, width, 0, outHeight, activation);
        }
    }

    /// <summary>
    /// Output rows [<paramref name="firstRow"/>, <paramref name="endRow"/>) of every channel, from a band of the input
    /// that holds rows [<paramref name="bandFirst"/>, <paramref name="bandEnd"/>) of each channel, <paramref name="bandStride"/>
    /// values apart from one channel to the next (the rows those outputs read that lie inside the image must be in it), as
    /// <see cref="DepthwiseConv"/>'s band entry takes them, with its bits. <paramref name="output"/> is the whole output,
    /// <c>channels x (height + 1) / 2 x (width + 1) / 2</c>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void ForwardRows(float* band, long bandStride, int bandFirst, int bandEnd, float* weight, float* bias, float* output,
        int channels, int height, int width, int firstRow, int endRow, FusedActivation activation)
    {
        int outHeight = OutputSize(height), outWidth = OutputSize(width);
        if (!(Avx512F.IsSupported && Vector512.IsHardwareAccelerated))
        {
            DepthwiseConv.ForwardRows(band, bandStride, bandFirst, bandEnd, weight, bias, output, null, channels, height, width,
                kernel: 3, stride: 2, padding: 1, outHeight, outWidth, firstRow, endRow, activation);
            return;
        }
        Channels(band - (long)bandFirst * width, bandStride, Math.Max(0, bandFirst), Math.Min(height, bandEnd), weight, bias, output,
            channels, height, width, firstRow, endRow, activation);
    }

    /// <summary>Every channel's output rows [firstRow, endRow); <paramref name="x"/> is where input row 0 of channel 0
    /// would be, and only rows [rowFirst, rowEnd) are read.</summary>
    private static void Channels(float* x, long channelStride, int rowFirst, int rowEnd, float* w, float* b, float* y,
        int channels, int height, int width, int firstRow, int endRow, FusedActivation activation)
    {
        int outWidth = OutputSize(width), outHeight = OutputSize(height);
        long outPlane = (long)outHeight * outWidth;
        int chunks = (outWidth + Lanes - 1) / Lanes;
        var masks = chunks <= 16 ? stackalloc Masks[chunks] : new Masks[chunks];
        for (int chunk = 0; chunk < chunks; chunk++)
        {
            int ox = chunk * Lanes, p = 2 * ox;
            masks[chunk] = new Masks(Inside(p, width), Inside(p + Lanes, width), Inside(ox, outWidth), p + 2 * Lanes <= width);
        }
        // Rows outside those that may be read are this row of zeros (as long as the loads of every chunk), so that no
        // load asks whether its row exists.
        int zeroLength = chunks * 2 * Lanes;
        float* zeros = stackalloc float[zeroLength];
        new Span<float>(zeros, zeroLength).Clear();
        if (outWidth <= Lanes / 2)
        {
            // Rows of up to 8 outputs: two output rows, four apart, share each vector (lanes 0-7 and 8-15).
            // A row has at most 16 values (outputs of at most 8): each is loaded whole, from column 0 and from column -1.
            var packed = new PackedMasks(Inside(0, width), LaneMask.First(outWidth),
                ~LaneMask.First(Lanes / 2) & LaneMask.First(Lanes / 2 + outWidth));
            for (int c = 0; c < channels; c++)
                ChannelPacked(x + c * channelStride, rowFirst, rowEnd, w + c * 9, b[c], y + c * outPlane, width, outWidth, firstRow, endRow,
                    packed, zeros, activation, Ahead(c, channels, channelStride), Ahead(c, channels, outPlane));
            return;
        }
        fixed (Masks* pm = masks)
            for (int c = 0; c < channels; c++)
                Channel(x + c * channelStride, rowFirst, rowEnd, w + c * 9, b[c], y + c * outPlane, width, outWidth, firstRow, endRow, chunks, pm,
                    zeros, activation, Ahead(c, channels, channelStride), Ahead(c, channels, outPlane));
    }

    /// <summary>How far the next channel's values lie from channel <paramref name="c"/>'s: its plane, or 0 after the last.</summary>
    private static long Ahead(int c, int channels, long plane) => c + 1 < channels ? plane : 0;

    /// <summary>Asks for rows [<paramref name="first"/>, <paramref name="first"/> + <paramref name="rows"/>) of a plane (rows of
    /// <paramref name="width"/> values at <paramref name="plane"/>) into the cache: the next channel's rows of a block, read
    /// and written as this channel's are computed, so that they come in from the layer before's core or from memory
    /// meanwhile. A row outside the plane asks for lines next to it, harmless (a prefetch never faults).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Prefetch(float* plane, int first, int rows, int width) =>
        CacheLines.Prefetch(plane + (long)first * width, (long)rows * width);

    /// <summary>The masks of packed rows: a row's load from column 0, and the stores of the rows in the lower and in the
    /// upper lanes.</summary>
    private readonly record struct PackedMasks(Vector512<float> RowLoad, Vector512<float> StoreLow, Vector512<float> StoreHigh);

    /// <summary>One channel whose output rows hold at most 8 values: blocks of eight output rows, output rows oy + k in
    /// lanes 0-7 and oy + 4 + k in lanes 8-15 of accumulator k.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ChannelPacked(float* x, int rowFirst, int rowEnd, float* w, float bias, float* y, int width, int outWidth,
        int firstRow, int endRow, in PackedMasks m, float* zeros, FusedActivation activation, long ahead, long outAhead)
    {
        Vector512<float> w0 = Vector512.Create(w[0]), w1 = Vector512.Create(w[1]), w2 = Vector512.Create(w[2]);
        Vector512<float> w3 = Vector512.Create(w[3]), w4 = Vector512.Create(w[4]), w5 = Vector512.Create(w[5]);
        Vector512<float> w6 = Vector512.Create(w[6]), w7 = Vector512.Create(w[7]), w8 = Vector512.Create(w[8]);
        var b = Vector512.Create(bias);
        for (int oy = firstRow; oy < endRow; oy += 2 * RowsPerBlock)
        {
            int top = 2 * oy - 1, rows = endRow - oy;
            if (ahead != 0)
            {
                // The next channel's input rows of this block and its output rows (ahead = 0 after the last channel).
                Prefetch(x + ahead, Math.Max(top, rowFirst), Math.Min(top + 4 * RowsPerBlock + 1, rowEnd) - Math.Max(top, rowFirst), width);
                Prefetch(y + outAhead, oy, Math.Min(2 * RowsPerBlock, rows), outWidth);
            }
            var zero = Vector512<float>.Zero;
            Vector512<float> a0 = zero, a1 = zero, a2 = zero, a3 = zero, l, c, r;
            // Lower lanes read input rows top .. top + 8, upper lanes the rows 8 below them.
            LoadPacked(x, zeros, top, rowFirst, rowEnd, width, m, out l, out c, out r);
            a0 = Taps(a0, w0, w1, w2, l, c, r);
            LoadPacked(x, zeros, top + 1, rowFirst, rowEnd, width, m, out l, out c, out r);
            a0 = Taps(a0, w3, w4, w5, l, c, r);
            LoadPacked(x, zeros, top + 2, rowFirst, rowEnd, width, m, out l, out c, out r);
            a0 = Taps(a0, w6, w7, w8, l, c, r); a1 = Taps(a1, w0, w1, w2, l, c, r);
            LoadPacked(x, zeros, top + 3, rowFirst, rowEnd, width, m, out l, out c, out r);
            a1 = Taps(a1, w3, w4, w5, l, c, r);
            LoadPacked(x, zeros, top + 4, rowFirst, rowEnd, width, m, out l, out c, out r);
            a1 = Taps(a1, w6, w7, w8, l, c, r); a2 = Taps(a2, w0, w1, w2, l, c, r);
            LoadPacked(x, zeros, top + 5, rowFirst, rowEnd, width, m, out l, out c, out r);
            a2 = Taps(a2, w3, w4, w5, l, c, r);
            LoadPacked(x, zeros, top + 6, rowFirst, rowEnd, width, m, out l, out c, out r);
            a2 = Taps(a2, w6, w7, w8, l, c, r); a3 = Taps(a3, w0, w1, w2, l, c, r);
            LoadPacked(x, zeros, top + 7, rowFirst, rowEnd, width, m, out l, out c, out r);
            a3 = Taps(a3, w3, w4, w5, l, c, r);
            LoadPacked(x, zeros, top + 8, rowFirst, rowEnd, width, m, out l, out c, out r);
            a3 = Taps(a3, w6, w7, w8, l, c, r);
            float* o = y + (long)oy * outWidth;
            // Row oy + 4 + k's values sit in lanes 8 on: its store starts 8 values before the row.
            float* u = o + 4 * outWidth - Lanes / 2;
            var v0 = Activate.Apply(a0 + b, activation);
            Avx512F.MaskStore(o, m.StoreLow, v0);
            if (rows > 4) Avx512F.MaskStore(u, m.StoreHigh, v0);
            if (rows > 1)
            {
                var v1 = Activate.Apply(a1 + b, activation);
                Avx512F.MaskStore(o + outWidth, m.StoreLow, v1);
                if (rows > 5) Avx512F.MaskStore(u + outWidth, m.StoreHigh, v1);
            }
            if (rows > 2)
            {
                var v2 = Activate.Apply(a2 + b, activation);
                Avx512F.MaskStore(o + 2 * outWidth, m.StoreLow, v2);
                if (rows > 6) Avx512F.MaskStore(u + 2 * outWidth, m.StoreHigh, v2);
            }
            if (rows > 3)
            {
                var v3 = Activate.Apply(a3 + b, activation);
                Avx512F.MaskStore(o + 3 * outWidth, m.StoreLow, v3);
                if (rows > 7) Avx512F.MaskStore(u + 3 * outWidth, m.StoreHigh, v3);
            }
        }
    }

    /// <summary>Taps kx = 0, 1, 2 of input row <paramref name="row"/> in lanes 0-7 and of row <paramref name="row"/> + 8 in
    /// lanes 8-15 (zero outside the image or the rows that may be read): each row's first 16 columns from column 0 and
    /// from column -1, even and odd lanes picked by two-source permutes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void LoadPacked(float* x, float* zeros, int row, int rowFirst, int rowEnd, int width, in PackedMasks m,
        out Vector512<float> left, out Vector512<float> centre, out Vector512<float> right)
    {
        var zero = Vector512<float>.Zero;
        float* low = Row(x, row, rowFirst, rowEnd, width, zeros), high = Row(x, row + 8, rowFirst, rowEnd, width, zeros);
        var even = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
        var odd = Vector512.Create(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
        var a = Avx512F.MaskLoad(low, m.RowLoad, zero);
        var b = Avx512F.MaskLoad(high, m.RowLoad, zero);
        centre = Avx512F.PermuteVar16x32x2(a, even, b);
        right = Avx512F.PermuteVar16x32x2(a, odd, b);
        // Column 2j - 1 of either row is the right tap of lane j - 1; column -1 (lanes 0 and 8) is the padding.
        var leftOfRight = Vector512.Create(0, 16, 17, 18, 19, 20, 21, 22, 0, 24, 25, 26, 27, 28, 29, 30);
        left = Avx512F.PermuteVar16x32x2(zero, leftOfRight, right);
    }

    /// <summary>The lanes of a 16-value load from column <paramref name="start"/> that lie in [0, width).</summary>
    private static Vector512<float> Inside(int start, int width)
    {
        var columns = Vector512.Create(0f, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15) + Vector512.Create((float)start);
        return Vector512.GreaterThanOrEqual(columns, Vector512<float>.Zero) & Vector512.LessThan(columns, Vector512.Create((float)width));
    }

    /// <summary>One chunk's masks: the two loads from 2ox (low, high), the store, and <c>Interior</c> when both loads
    /// lie inside the row.</summary>
    private readonly record struct Masks(Vector512<float> Low, Vector512<float> High, Vector512<float> Store, bool Interior);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Channel(float* x, int rowFirst, int rowEnd, float* w, float bias, float* y, int width, int outWidth,
        int firstRow, int endRow, int chunks, Masks* masks, float* zeros, FusedActivation activation, long ahead, long outAhead)
    {
        Vector512<float> w0 = Vector512.Create(w[0]), w1 = Vector512.Create(w[1]), w2 = Vector512.Create(w[2]);
        Vector512<float> w3 = Vector512.Create(w[3]), w4 = Vector512.Create(w[4]), w5 = Vector512.Create(w[5]);
        Vector512<float> w6 = Vector512.Create(w[6]), w7 = Vector512.Create(w[7]), w8 = Vector512.Create(w[8]);
        var b = Vector512.Create(bias);
        for (int oy = firstRow; oy < endRow; oy += RowsPerBlock)
        {
            // Input rows 2oy - 1 .. 2oy + 7; the row of zeros outside the rows that may be read.
            int top = 2 * oy - 1;
            if (ahead != 0)
            {
                // The next channel's input rows of this block and its output rows (ahead = 0 after the last channel).
                Prefetch(x + ahead, Math.Max(top, rowFirst), Math.Min(top + 2 * RowsPerBlock + 1, rowEnd) - Math.Max(top, rowFirst), width);
                Prefetch(y + outAhead, oy, Math.Min(RowsPerBlock, endRow - oy), outWidth);
            }
            float* i0 = Row(x, top, rowFirst, rowEnd, width, zeros), i1 = Row(x, top + 1, rowFirst, rowEnd, width, zeros);
            float* i2 = Row(x, top + 2, rowFirst, rowEnd, width, zeros), i3 = Row(x, top + 3, rowFirst, rowEnd, width, zeros);
            float* i4 = Row(x, top + 4, rowFirst, rowEnd, width, zeros), i5 = Row(x, top + 5, rowFirst, rowEnd, width, zeros);
            float* i6 = Row(x, top + 6, rowFirst, rowEnd, width, zeros), i7 = Row(x, top + 7, rowFirst, rowEnd, width, zeros);
            float* i8 = Row(x, top + 8, rowFirst, rowEnd, width, zeros);
            int rows = Math.Min(RowsPerBlock, endRow - oy);
            // Whether a chunk's loads are plain or masked is chosen once per chunk, so that its block runs without a branch.
            for (int chunk = 0; chunk < chunks; chunk++)
                if (masks[chunk].Interior)
                    Block<Plain>(i0, i1, i2, i3, i4, i5, i6, i7, i8, 2 * chunk * Lanes, masks[chunk], w0, w1, w2, w3, w4, w5, w6, w7, w8, b,
                        y + (long)oy * outWidth + chunk * Lanes, outWidth, rows, activation);
                else
                    Block<Masked>(i0, i1, i2, i3, i4, i5, i6, i7, i8, 2 * chunk * Lanes, masks[chunk], w0, w1, w2, w3, w4, w5, w6, w7, w8, b,
                        y + (long)oy * outWidth + chunk * Lanes, outWidth, rows, activation);
        }
    }

    /// <summary>Output rows oy .. oy + 3 (the first <paramref name="rows"/> stored) of one chunk of 16 outputs, from input
    /// rows 2oy - 1 .. 2oy + 7 (<paramref name="i0"/> .. <paramref name="i8"/>) read from column <paramref name="p"/> = 2ox.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Block<TLoad>(float* i0, float* i1, float* i2, float* i3, float* i4, float* i5, float* i6, float* i7, float* i8, int p, in Masks m,
        Vector512<float> w0, Vector512<float> w1, Vector512<float> w2, Vector512<float> w3, Vector512<float> w4, Vector512<float> w5,
        Vector512<float> w6, Vector512<float> w7, Vector512<float> w8, Vector512<float> b, float* o, int outWidth, int rows, FusedActivation activation)
        where TLoad : struct, IRowLoads
    {
        var zero = Vector512<float>.Zero;
        Vector512<float> a0 = zero, a1 = zero, a2 = zero, a3 = zero, l, c, r;
        // Each accumulator's chain runs over its rows ky = 0, 1, 2 in turn, columns kx = 0, 1, 2 within.
        Load<TLoad>(i0, p, m, out l, out c, out r);
        a0 = Taps(a0, w0, w1, w2, l, c, r);
        Load<TLoad>(i1, p, m, out l, out c, out r);
        a0 = Taps(a0, w3, w4, w5, l, c, r);
        Load<TLoad>(i2, p, m, out l, out c, out r);
        a0 = Taps(a0, w6, w7, w8, l, c, r); a1 = Taps(a1, w0, w1, w2, l, c, r);
        Load<TLoad>(i3, p, m, out l, out c, out r);
        a1 = Taps(a1, w3, w4, w5, l, c, r);
        Load<TLoad>(i4, p, m, out l, out c, out r);
        a1 = Taps(a1, w6, w7, w8, l, c, r); a2 = Taps(a2, w0, w1, w2, l, c, r);
        Load<TLoad>(i5, p, m, out l, out c, out r);
        a2 = Taps(a2, w3, w4, w5, l, c, r);
        Load<TLoad>(i6, p, m, out l, out c, out r);
        a2 = Taps(a2, w6, w7, w8, l, c, r); a3 = Taps(a3, w0, w1, w2, l, c, r);
        Load<TLoad>(i7, p, m, out l, out c, out r);
        a3 = Taps(a3, w3, w4, w5, l, c, r);
        Load<TLoad>(i8, p, m, out l, out c, out r);
        a3 = Taps(a3, w6, w7, w8, l, c, r);
        Avx512F.MaskStore(o, m.Store, Activate.Apply(a0 + b, activation));
        if (rows > 1) Avx512F.MaskStore(o + outWidth, m.Store, Activate.Apply(a1 + b, activation));
        if (rows > 2) Avx512F.MaskStore(o + 2 * outWidth, m.Store, Activate.Apply(a2 + b, activation));
        if (rows > 3) Avx512F.MaskStore(o + 3 * outWidth, m.Store, Activate.Apply(a3 + b, activation));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float* Row(float* x, int row, int rowFirst, int rowEnd, int width, float* zeros) =>
        row >= rowFirst && row < rowEnd ? x + (long)row * width : zeros;

    /// <summary>How a chunk's 32 input values from column p are loaded: plainly when they all lie inside the row,
    /// masked (zero past the row's end, nothing outside it read) otherwise.</summary>
    private interface IRowLoads
    {
        static abstract void Load(float* q, in Masks m, out Vector512<float> low, out Vector512<float> high);
    }

    private readonly struct Plain : IRowLoads
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Load(float* q, in Masks m, out Vector512<float> low, out Vector512<float> high)
        {
            low = Vector512.Load(q);
            high = Vector512.Load(q + Lanes);
        }
    }

    private readonly struct Masked : IRowLoads
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Load(float* q, in Masks m, out Vector512<float> low, out Vector512<float> high)
        {
            low = Avx512F.MaskLoad(q, m.Low, Vector512<float>.Zero);
            high = Avx512F.MaskLoad(q + Lanes, m.High, Vector512<float>.Zero);
        }
    }

    /// <summary>Columns p - 1, p and p + 1 onwards of one input row in steps of two (zero outside the image), from the
    /// two loads from p (<see cref="StrideTwoTaps"/>); column p - 1 is the padding at p = 0.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Load<TLoad>(float* row, int p, in Masks m, out Vector512<float> left, out Vector512<float> centre, out Vector512<float> right)
        where TLoad : struct, IRowLoads
    {
        float* q = row + p;
        TLoad.Load(q, m, out var low, out var high);
        StrideTwoTaps.Split(low, high, p > 0 ? q[-1] : 0f, out left, out centre, out right);
    }

    /// <summary>One row of taps, in column order: <c>fma(wc, r, fma(wb, c, fma(wa, l, acc)))</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Taps(Vector512<float> acc, Vector512<float> wa, Vector512<float> wb, Vector512<float> wc,
        Vector512<float> l, Vector512<float> c, Vector512<float> r) =>
        Avx512F.FusedMultiplyAdd(wc, r, Avx512F.FusedMultiplyAdd(wb, c, Avx512F.FusedMultiplyAdd(wa, l, acc)));
}
