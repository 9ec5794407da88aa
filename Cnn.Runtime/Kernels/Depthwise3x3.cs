using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CnnGen.Kernels;

/// <summary>
/// Depthwise 3x3 convolution, stride 1, padding 1 (the output has the input's height and width), NCHW, read straight
/// from the input: no padded copy of each channel. Each output gets <see cref="DepthwiseConv.Forward"/>'s chain (a
/// fused multiply-add chain in (ky, kx) order from zero, padding as <c>w * 0</c>, then the bias and the activation),
/// so the same bits as it and as im2col + product, with and without SIMD.
/// <para>The AVX-512 path keeps a channel's nine weights in registers and computes four output rows of 16 columns at
/// once from the six input rows they read, each row loaded once per tap column; two neighbouring chunks of 16 columns
/// share their loads (the first's right taps and the second's left taps are the two centres shifted by one lane), four
/// loads per row instead of six, which measured 13-35% faster alone (144x56x56 135 -> 117 us, 192x28x28 55 -> 36). Rows
/// of at most 16 columns load each row once and shift it for both side taps, with no branch per load (MobileNetV2's
/// 14x14 layers a third faster alone: 576 channels 36.8 -> 24.7 us). A column left of or right of the image
/// is a lane masked off the load (so zero, and nothing outside the row is read), a row above or below is a zero vector.
/// With no copy per channel, the small late planes (14x14, 7x7 in MobileNetV2) stop paying a channel's setup more than
/// its arithmetic. A plane of at most 64 values (7x7, 8x8) runs whole in 4 vectors, each tap a masked load of the flat
/// plane shifted by the tap's offset, instead of rows of 16 lanes of which a 7-wide row uses 7: MobileNetV2's 960-channel
/// 7x7 layers 44-46 -> 38-41 us in <c>Cnn.OrtLayers</c> (thread CPU time, one thread). With rows of 2 to 15 values the
/// plane is loaded once and each tap's vectors are its vectors shifted by a permute and masked, instead of nine masked
/// loads per vector: 960 x 7 x 7 32.4 -> 17.8 us alone.</para>
/// <para>On rows wider than 16, each block of rows first prefetches the same rows of the next channel, input and output,
/// so the loads and the stores find their lines in cache: planes written by the layer before or evicted since otherwise
/// stream at a fraction of the memory's speed. Alone, one thread: 144 x 56 x 56 95-107 us in cache, 296-416 from memory
/// and 209-301 with its input just written, against 101-106, 108-129 and 105-112 with the prefetches; 32 x 112 x 112
/// 78-99 / 148-294 / 138-229 against 87-90 / 94-108 / 88-93; in MobileNetV2's pass, features.3's depthwise layer 144-204
/// -> 113-126 us, features.1's 94-156 -> 84-103. Prefetching only the input lines left most of it (144 x 56 x 56 from
/// memory 162-176 us). Rows of at most 16 (14 x 14 maps) prefetch the same way, and planes of at most 64 values ask for
/// the whole next plane first: 384 x 14 x 14 on two threads, each its half of the channels (medians of 7 x 1,000 calls),
/// 21-22 -> 10 us a half with the input just written by the other core, 19-20 -> 10-12 with it in memory, 7.5 -> 8.1
/// in cache; in MobileNetV2's pass on two threads (<c>Cnn.Latency --layers</c>, 4 runs of each build alternating),
/// features.7-13's depthwise layers 31-44 -> 23-35 us where lines moved slowly between the cores, unchanged where not.</para>
/// </summary>
public static unsafe class Depthwise3x3
{
    private const int Lanes = 16, RowsPerBlock = 4;

    /// <summary>Whether <see cref="Forward"/> computes this convolution: 3x3, stride 1, padding 1, no dilation.</summary>
    public static bool Supports(int kernel, int stride, int padding, int dilation) =>
        kernel == 3 && stride == 1 && padding == 1 && dilation == 1;

    /// <summary>Channels <c>[firstChannel, endChannel)</c> of the output (<c>channels x height x width</c>, as the input).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Forward(ReadOnlySpan<float> input, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, Span<float> output,
        int channels, int height, int width, int firstChannel, int endChannel, FusedActivation activation = FusedActivation.None)
    {
        if (height < 1 || width < 1)
            throw new ArgumentException($"Depthwise3x3.Forward: input {height}x{width} must be positive.");
        if (firstChannel < 0 || endChannel > channels || firstChannel > endChannel)
            throw new ArgumentException($"Depthwise3x3.Forward: channel range [{firstChannel}, {endChannel}) is not within the {channels} channels.");
        long plane = (long)height * width;
        CheckSpans("Forward", input, weight, bias, output, channels, plane);
        if (firstChannel == endChannel) return;
        if (!(Avx512F.IsSupported && Vector512.IsHardwareAccelerated))
        {
            // The portable path is the general kernel's (it needs no scratch without SIMD).
            DepthwiseConv.Forward(input, weight, bias, output, default, channels, height, width, kernel: 3, stride: 1, padding: 1,
                outHeight: height, outWidth: width, firstChannel, endChannel, activation);
            return;
        }
        if (plane <= SmallPlane)
        {
            // The whole plane in 4 vectors, each tap a shifted load of it (7x7: 49 of 64 lanes used, where rows of 16
            // lanes used 7).
            var taps = stackalloc Vector512<float>[9 * SmallVectors];
            var store = stackalloc Vector512<float>[SmallVectors];
            SmallMasks(height, width, taps, store);
            if (width >= 2 && width <= Lanes - 1)
            {
                // Rows of 2 to 15 values: the plane loaded once, each tap its four vectors shifted by the tap's offset
                // (at most 16 lanes, so each shifted vector comes from two neighbouring ones) instead of a load.
                var shifts = stackalloc Vector512<int>[9];
                SmallShifts(width, shifts);
                fixed (float* pin = input, pw = weight, pb = bias, pout = output)
                    for (int c = firstChannel; c < endChannel; c++)
                    {
                        if (c + 1 < endChannel) PrefetchPlane(pin + (c + 1) * plane, pout + (c + 1) * plane, plane);
                        SmallChannelShifted(pin + c * plane, pw + c * 9, pb[c], pout + c * plane, taps, store, shifts, activation);
                    }
                return;
            }
            fixed (float* pin = input, pw = weight, pb = bias, pout = output)
                for (int c = firstChannel; c < endChannel; c++)
                {
                    if (c + 1 < endChannel) PrefetchPlane(pin + (c + 1) * plane, pout + (c + 1) * plane, plane);
                    SmallChannel(pin + c * plane, pw + c * 9, pb[c], pout + c * plane, width, taps, store, activation);
                }
            return;
        }
        if (width <= Lanes)
        {
            // Rows of at most 16 columns (MobileNetV2's 14x14): one load per row, both side taps from it.
            var row = LaneMask.First(width);
            fixed (float* pin = input, pw = weight, pb = bias, pout = output)
                for (int c = firstChannel; c < endChannel; c++)
                    NarrowChannel(pin + c * plane, pw + c * 9, pb[c], pout + c * plane, height, width, row, activation,
                        ahead: c + 1 < endChannel ? plane : 0);
            return;
        }
        WideRows(input, weight, bias, output, height, width, firstChannel, endChannel, 0, height, activation);
    }

    /// <summary>Whether <see cref="ForwardRows"/> computes a map of this size: on the AVX-512 path, rows wider than 16
    /// values in planes of more than 64 (the path that walks blocks of four rows).</summary>
    public static bool SplitsRows(int height, int width) =>
        Avx512F.IsSupported && Vector512.IsHardwareAccelerated && width > Lanes && (long)height * width > SmallPlane;

    /// <summary>
    /// Output rows <c>[firstRow, endRow)</c> of every channel (<c>channels x height x width</c>, as the input), for a pass
    /// that splits one image by rows (<see cref="SplitsRows"/> must hold): a thread then reads the input rows of its range
    /// and one row on either side, which a layer split by rows before it wrote on the same core, and writes rows that a
    /// layer split by rows after it reads on the same core. Split by channels, each thread read half of every channel's
    /// rows from the other core and wrote lines the other core had read in the pass before. Each output gets the chain of
    /// <see cref="Forward"/>: the same bits for any rows.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ForwardRows(ReadOnlySpan<float> input, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, Span<float> output,
        int channels, int height, int width, int firstRow, int endRow, FusedActivation activation = FusedActivation.None)
    {
        if (!SplitsRows(height, width))
            throw new ArgumentException($"Depthwise3x3.ForwardRows: a {height}x{width} map is not split by rows on this machine (SplitsRows).");
        if (firstRow < 0 || endRow > height || firstRow > endRow)
            throw new ArgumentException($"Depthwise3x3.ForwardRows: row range [{firstRow}, {endRow}) is not within the {height} rows.");
        CheckSpans("ForwardRows", input, weight, bias, output, channels, (long)height * width);
        if (firstRow == endRow || channels == 0) return;
        WideRows(input, weight, bias, output, height, width, 0, channels, firstRow, endRow, activation);
    }

    /// <summary>Refuses spans too short for <paramref name="channels"/> planes of <paramref name="plane"/> values and
    /// their weights and biases.</summary>
    private static void CheckSpans(string method, ReadOnlySpan<float> input, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias,
        Span<float> output, int channels, long plane)
    {
        if (input.Length < channels * plane || weight.Length < channels * 9L || bias.Length < channels || output.Length < channels * plane)
            throw new ArgumentException($"Depthwise3x3.{method}: spans too short for the given shape.");
    }

    /// <summary>Rows <c>[firstRow, endRow)</c> of channels <c>[firstChannel, endChannel)</c> on rows wider than 16: each
    /// channel's blocks of four rows, the next channel's rows of a block asked for first.</summary>
    private static void WideRows(ReadOnlySpan<float> input, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, Span<float> output,
        int height, int width, int firstChannel, int endChannel, int firstRow, int endRow, FusedActivation activation)
    {
        long plane = (long)height * width;
        int chunks = (width + Lanes - 1) / Lanes;
        // Per chunk of 16 columns: the lanes of tap columns kx = 0, 1, 2 inside the image, and the lanes to store.
        var masks = chunks <= 32 ? stackalloc Masks[chunks] : new Masks[chunks];
        for (int chunk = 0; chunk < chunks; chunk++)
        {
            int ox = chunk * Lanes;
            masks[chunk] = new Masks(Inside(ox - 1, width), Inside(ox, width), Inside(ox + 1, width), ox - 1 >= 0 && ox + Lanes + 1 <= width);
        }
        // Rows above and below the image read this row of zeros (with a zero before it and past its last chunk), so
        // that no load asks whether its row exists.
        float* zeros = stackalloc float[chunks * Lanes + Lanes + 2];
        new Span<float>(zeros, chunks * Lanes + Lanes + 2).Clear();
        fixed (float* pin = input, pw = weight, pb = bias, pout = output)
        fixed (Masks* pm = masks)
            for (int c = firstChannel; c < endChannel; c++)
                Channel(pin + c * plane, pw + c * 9, pb[c], pout + c * plane, height, width, firstRow, endRow, chunks, pm, zeros + 1, activation,
                    ahead: c + 1 < endChannel ? plane : 0);
    }

    /// <summary>Asks for a small plane's input and output lines (the next channel's, while this one is computed).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void PrefetchPlane(float* x, float* y, long plane)
    {
        CacheLines.Prefetch(x, plane);
        CacheLines.Prefetch(y, plane);
    }

    /// <summary>Asks for the input and output rows of the block from row <paramref name="oy"/> of the channel
    /// <paramref name="ahead"/> values past this one's (<paramref name="x"/>, <paramref name="y"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void NextChannelRows(float* x, float* y, long ahead, int oy, int height, int width)
    {
        long count = (long)Math.Min(RowsPerBlock, height - oy) * width;
        CacheLines.Prefetch(x + ahead + (long)oy * width, count);
        CacheLines.Prefetch(y + ahead + (long)oy * width, count);
    }

    /// <summary>Planes of at most this many values (a 7x7 or 8x8 map) run whole, in <see cref="SmallVectors"/> vectors.</summary>
    private const int SmallPlane = 64;
    private const int SmallVectors = SmallPlane / Lanes;

    /// <summary>For a plane of at most 64 values, flat: for each tap (ky, kx) and vector v, the lanes p = 16v + lane of
    /// the plane whose input at p + (ky - 1) * width + (kx - 1) lies inside the image (the others load zero: padding);
    /// and the lanes inside the plane, to store.</summary>
    private static void SmallMasks(int height, int width, Vector512<float>* taps, Vector512<float>* store)
    {
        var lanes = Vector512.Create(0f, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
        var bits = stackalloc float[Lanes];
        for (int v = 0; v < SmallVectors; v++)
        {
            for (int t = 0; t < 9; t++)
            {
                int dy = t / 3 - 1, dx = t % 3 - 1;
                for (int lane = 0; lane < Lanes; lane++)
                {
                    int p = v * Lanes + lane, row = p / width + dy, column = p % width + dx;
                    bits[lane] = p < height * width && row >= 0 && row < height && column >= 0 && column < width ? 1f : 0f;
                }
                taps[t * SmallVectors + v] = Vector512.Equals(Vector512.Load(bits), Vector512<float>.One);
            }
            store[v] = Vector512.LessThan(lanes + Vector512.Create((float)(v * Lanes)), Vector512.Create((float)(height * width)));
        }
    }

    /// <summary>One channel of a plane of at most 64 values: 4 accumulators, each output's chain over the taps in (ky, kx)
    /// order from zero, a tap outside the image a product with a loaded zero.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void SmallChannel(float* x, float* w, float bias, float* y, int width, Vector512<float>* taps, Vector512<float>* store,
        FusedActivation activation)
    {
        var zero = Vector512<float>.Zero;
        Vector512<float> a0 = zero, a1 = zero, a2 = zero, a3 = zero;
        for (int t = 0; t < 9; t++)
        {
            var wt = Vector512.Create(w[t]);
            float* p = x + (t / 3 - 1) * width + (t % 3 - 1);
            Vector512<float>* m = taps + t * SmallVectors;
            a0 = Avx512F.FusedMultiplyAdd(wt, Avx512F.MaskLoad(p, m[0], zero), a0);
            a1 = Avx512F.FusedMultiplyAdd(wt, Avx512F.MaskLoad(p + Lanes, m[1], zero), a1);
            a2 = Avx512F.FusedMultiplyAdd(wt, Avx512F.MaskLoad(p + 2 * Lanes, m[2], zero), a2);
            a3 = Avx512F.FusedMultiplyAdd(wt, Avx512F.MaskLoad(p + 3 * Lanes, m[3], zero), a3);
        }
        var b = Vector512.Create(bias);
        Avx512F.MaskStore(y, store[0], Activate.Apply(a0 + b, activation));
        Avx512F.MaskStore(y + Lanes, store[1], Activate.Apply(a1 + b, activation));
        Avx512F.MaskStore(y + 2 * Lanes, store[2], Activate.Apply(a2 + b, activation));
        Avx512F.MaskStore(y + 3 * Lanes, store[3], Activate.Apply(a3 + b, activation));
    }

    /// <summary>For each tap (ky, kx) of a plane of rows <paramref name="width"/> wide (2 to 15), the permute indices
    /// that shift a vector of the flat plane by the tap's offset d = (ky - 1) * width + (kx - 1): taps 0-3 (d &lt; 0) pick
    /// lane j + d + 16 of the previous vector and this one, taps 5-8 (d &gt; 0) lane j + d of this vector and the next;
    /// tap 4 is the vector itself.</summary>
    private static void SmallShifts(int width, Vector512<int>* shifts)
    {
        var lanes = Vector512.Create(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
        for (int t = 0; t < 9; t++)
        {
            int d = (t / 3 - 1) * width + (t % 3 - 1);
            shifts[t] = lanes + Vector512.Create(d < 0 ? d + Lanes : d);
        }
    }

    /// <summary><see cref="SmallChannel"/> from the plane loaded once: each tap's values are the plane's vectors
    /// shifted by the tap's offset (<see cref="SmallShifts"/>) and masked to the lanes whose input lies inside the image,
    /// the same values the masked loads give, so the same bits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void SmallChannelShifted(float* x, float* w, float bias, float* y, Vector512<float>* taps, Vector512<float>* store,
        Vector512<int>* shifts, FusedActivation activation)
    {
        var zero = Vector512<float>.Zero;
        // The plane, zero past its end; a zero vector before and after it.
        var v0 = Avx512F.MaskLoad(x, store[0], zero);
        var v1 = Avx512F.MaskLoad(x + Lanes, store[1], zero);
        var v2 = Avx512F.MaskLoad(x + 2 * Lanes, store[2], zero);
        var v3 = Avx512F.MaskLoad(x + 3 * Lanes, store[3], zero);
        Vector512<float> a0 = zero, a1 = zero, a2 = zero, a3 = zero;
        // Taps 0-3 shift each vector back (lanes from the vector before it), taps 5-8 forward (from the one after it).
        for (int t = 0; t < 4; t++)
            ShiftedTap(Vector512.Create(w[t]), shifts[t], taps + t * SmallVectors, zero, v0, v1, v2, v3, ref a0, ref a1, ref a2, ref a3);
        var centre = Vector512.Create(w[4]);
        a0 = Avx512F.FusedMultiplyAdd(centre, v0, a0);
        a1 = Avx512F.FusedMultiplyAdd(centre, v1, a1);
        a2 = Avx512F.FusedMultiplyAdd(centre, v2, a2);
        a3 = Avx512F.FusedMultiplyAdd(centre, v3, a3);
        for (int t = 5; t < 9; t++)
            ShiftedTap(Vector512.Create(w[t]), shifts[t], taps + t * SmallVectors, v0, v1, v2, v3, zero, ref a0, ref a1, ref a2, ref a3);
        var b = Vector512.Create(bias);
        Avx512F.MaskStore(y, store[0], Activate.Apply(a0 + b, activation));
        Avx512F.MaskStore(y + Lanes, store[1], Activate.Apply(a1 + b, activation));
        Avx512F.MaskStore(y + 2 * Lanes, store[2], Activate.Apply(a2 + b, activation));
        Avx512F.MaskStore(y + 3 * Lanes, store[3], Activate.Apply(a3 + b, activation));
    }

    /// <summary>One tap added to the four accumulators: vector k's tap values are lanes <paramref name="shift"/> of
    /// (<paramref name="p0"/>, <paramref name="p1"/>) for k = 0, (p1, p2) for k = 1 and so on, masked to the lanes
    /// inside the image.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ShiftedTap(Vector512<float> wt, Vector512<int> shift, Vector512<float>* m, Vector512<float> p0, Vector512<float> p1,
        Vector512<float> p2, Vector512<float> p3, Vector512<float> p4, ref Vector512<float> a0, ref Vector512<float> a1, ref Vector512<float> a2,
        ref Vector512<float> a3)
    {
        a0 = Avx512F.FusedMultiplyAdd(wt, Avx512F.PermuteVar16x32x2(p0, shift, p1) & m[0], a0);
        a1 = Avx512F.FusedMultiplyAdd(wt, Avx512F.PermuteVar16x32x2(p1, shift, p2) & m[1], a1);
        a2 = Avx512F.FusedMultiplyAdd(wt, Avx512F.PermuteVar16x32x2(p2, shift, p3) & m[2], a2);
        a3 = Avx512F.FusedMultiplyAdd(wt, Avx512F.PermuteVar16x32x2(p3, shift, p4) & m[3], a3);
    }

    /// <summary>The lanes of a 16-column load from column <paramref name="start"/> that lie in [0, width).</summary>
    private static Vector512<float> Inside(int start, int width)
    {
        var columns = Vector512.Create(0f, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15) + Vector512.Create((float)start);
        return Vector512.GreaterThanOrEqual(columns, Vector512<float>.Zero) & Vector512.LessThan(columns, Vector512.Create((float)width));
    }

    /// <summary>One chunk's masks: tap columns left (kx = 0), centre (also the store mask) and right; <c>Interior</c>
    /// when all three loads lie inside the row.</summary>
    private readonly record struct Masks(Vector512<float> Left, Vector512<float> Centre, Vector512<float> Right, bool Interior);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Channel(float* x, float* w, float bias, float* y, int height, int width, int firstRow, int endRow, int chunks,
        Masks* masks, float* zeros, FusedActivation activation, long ahead)
    {
        Vector512<float> w0 = Vector512.Create(w[0]), w1 = Vector512.Create(w[1]), w2 = Vector512.Create(w[2]);
        Vector512<float> w3 = Vector512.Create(w[3]), w4 = Vector512.Create(w[4]), w5 = Vector512.Create(w[5]);
        Vector512<float> w6 = Vector512.Create(w[6]), w7 = Vector512.Create(w[7]), w8 = Vector512.Create(w[8]);
        var b = Vector512.Create(bias);
        for (int oy = firstRow; oy < endRow; oy += RowsPerBlock)
        {
            // The next channel's rows of this block, input and output, asked for a channel ahead (ahead = 0 after a
            // range's last channel: its own rows, already in cache, rather than the lines of another thread's channel).
            NextChannelRows(x, y, ahead, oy, endRow, width);
            // Input rows oy - 1 .. oy + 4; the row of zeros above or below the image.
            float* i0 = Row(x, oy - 1, height, width, zeros), i1 = Row(x, oy, height, width, zeros), i2 = Row(x, oy + 1, height, width, zeros);
            float* i3 = Row(x, oy + 2, height, width, zeros), i4 = Row(x, oy + 3, height, width, zeros), i5 = Row(x, oy + 4, height, width, zeros);
            int rows = Math.Min(RowsPerBlock, endRow - oy);
            int chunk = 0;
            // Two chunks side by side: four loads per input row instead of six, loads being what this kernel waits on.
            for (; chunk + 1 < chunks; chunk += 2)
                if (masks[chunk].Interior && masks[chunk + 1].Interior)
                    Pair<Plain>(i0, i1, i2, i3, i4, i5, chunk * Lanes, masks[chunk], masks[chunk + 1], w0, w1, w2, w3, w4, w5, w6, w7, w8, b,
                        y + (long)oy * width + chunk * Lanes, width, rows, activation);
                else
                    Pair<Masked>(i0, i1, i2, i3, i4, i5, chunk * Lanes, masks[chunk], masks[chunk + 1], w0, w1, w2, w3, w4, w5, w6, w7, w8, b,
                        y + (long)oy * width + chunk * Lanes, width, rows, activation);
            if (chunk < chunks)
                if (masks[chunk].Interior)
                    Single<Plain>(i0, i1, i2, i3, i4, i5, chunk * Lanes, masks[chunk], w0, w1, w2, w3, w4, w5, w6, w7, w8, b,
                        y + (long)oy * width + chunk * Lanes, width, rows, activation);
                else
                    Single<Masked>(i0, i1, i2, i3, i4, i5, chunk * Lanes, masks[chunk], w0, w1, w2, w3, w4, w5, w6, w7, w8, b,
                        y + (long)oy * width + chunk * Lanes, width, rows, activation);
        }
    }

    /// <summary>One channel whose rows fit one vector: blocks of four output rows from the six input rows they read, each
    /// loaded once (lanes past the row zero) and its left and right taps that row shifted by a lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void NarrowChannel(float* x, float* w, float bias, float* y, int height, int width, Vector512<float> row,
        FusedActivation activation, long ahead)
    {
        Vector512<float> w0 = Vector512.Create(w[0]), w1 = Vector512.Create(w[1]), w2 = Vector512.Create(w[2]);
        Vector512<float> w3 = Vector512.Create(w[3]), w4 = Vector512.Create(w[4]), w5 = Vector512.Create(w[5]);
        Vector512<float> w6 = Vector512.Create(w[6]), w7 = Vector512.Create(w[7]), w8 = Vector512.Create(w[8]);
        var b = Vector512.Create(bias);
        var zero = Vector512<float>.Zero;
        for (int oy = 0; oy < height; oy += RowsPerBlock)
        {
            // The next channel's rows of this block, input and output, as on wider rows (ahead = 0 after the range's last).
            NextChannelRows(x, y, ahead, oy, height, width);
            Vector512<float> a0 = zero, a1 = zero, a2 = zero, a3 = zero, l, c, r;
            NarrowRow(x, oy - 1, height, width, row, out l, out c, out r);
            a0 = Taps(a0, w0, w1, w2, l, c, r);
            NarrowRow(x, oy, height, width, row, out l, out c, out r);
            a0 = Taps(a0, w3, w4, w5, l, c, r); a1 = Taps(a1, w0, w1, w2, l, c, r);
            NarrowRow(x, oy + 1, height, width, row, out l, out c, out r);
            a0 = Taps(a0, w6, w7, w8, l, c, r); a1 = Taps(a1, w3, w4, w5, l, c, r); a2 = Taps(a2, w0, w1, w2, l, c, r);
            NarrowRow(x, oy + 2, height, width, row, out l, out c, out r);
            a1 = Taps(a1, w6, w7, w8, l, c, r); a2 = Taps(a2, w3, w4, w5, l, c, r); a3 = Taps(a3, w0, w1, w2, l, c, r);
            NarrowRow(x, oy + 3, height, width, row, out l, out c, out r);
            a2 = Taps(a2, w6, w7, w8, l, c, r); a3 = Taps(a3, w3, w4, w5, l, c, r);
            NarrowRow(x, oy + 4, height, width, row, out l, out c, out r);
            a3 = Taps(a3, w6, w7, w8, l, c, r);
            Store(y + (long)oy * width, width, Math.Min(RowsPerBlock, height - oy), row, a0, a1, a2, a3, b, activation);
        }
    }

    /// <summary>Input row <paramref name="r"/> (lanes past the row zero; all zero above or below the image) and its left
    /// and right taps, the row shifted by a lane with the padding at each end.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void NarrowRow(float* x, int r, int height, int width, Vector512<float> row, out Vector512<float> left, out Vector512<float> centre,
        out Vector512<float> right)
    {
        var zero = Vector512<float>.Zero;
        centre = r >= 0 && r < height ? Avx512F.MaskLoad(x + (long)r * width, row, zero) : zero;
        left = LeftOf(centre, zero);
        right = RightOf(centre, zero);
    }

    /// <summary>Output rows oy .. oy + 3 (the first <paramref name="rows"/> stored) of one chunk of 16 columns from input
    /// rows oy - 1 .. oy + 4 (<paramref name="i0"/> .. <paramref name="i5"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Single<TLoad>(float* i0, float* i1, float* i2, float* i3, float* i4, float* i5, int ox, in Masks m,
        Vector512<float> w0, Vector512<float> w1, Vector512<float> w2, Vector512<float> w3, Vector512<float> w4, Vector512<float> w5,
        Vector512<float> w6, Vector512<float> w7, Vector512<float> w8, Vector512<float> b, float* o, int width, int rows, FusedActivation activation)
        where TLoad : struct, IRowLoads
    {
        var zero = Vector512<float>.Zero;
        Vector512<float> a0 = zero, a1 = zero, a2 = zero, a3 = zero, l, c, r;
        // Each accumulator's chain runs over its rows ky = 0, 1, 2 in turn, columns kx = 0, 1, 2 within.
        TLoad.Row(i0, ox, m, out l, out c, out r);
        a0 = Taps(a0, w0, w1, w2, l, c, r);
        TLoad.Row(i1, ox, m, out l, out c, out r);
        a0 = Taps(a0, w3, w4, w5, l, c, r); a1 = Taps(a1, w0, w1, w2, l, c, r);
        TLoad.Row(i2, ox, m, out l, out c, out r);
        a0 = Taps(a0, w6, w7, w8, l, c, r); a1 = Taps(a1, w3, w4, w5, l, c, r); a2 = Taps(a2, w0, w1, w2, l, c, r);
        TLoad.Row(i3, ox, m, out l, out c, out r);
        a1 = Taps(a1, w6, w7, w8, l, c, r); a2 = Taps(a2, w3, w4, w5, l, c, r); a3 = Taps(a3, w0, w1, w2, l, c, r);
        TLoad.Row(i4, ox, m, out l, out c, out r);
        a2 = Taps(a2, w6, w7, w8, l, c, r); a3 = Taps(a3, w3, w4, w5, l, c, r);
        TLoad.Row(i5, ox, m, out l, out c, out r);
        a3 = Taps(a3, w6, w7, w8, l, c, r);
        Store(o, width, rows, m.Centre, a0, a1, a2, a3, b, activation);
    }

    /// <summary><see cref="Single"/> for two neighbouring chunks at once (columns ox .. ox + 31), each output's chain
    /// unchanged.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Pair<TLoad>(float* i0, float* i1, float* i2, float* i3, float* i4, float* i5, int ox, in Masks m, in Masks n,
        Vector512<float> w0, Vector512<float> w1, Vector512<float> w2, Vector512<float> w3, Vector512<float> w4, Vector512<float> w5,
        Vector512<float> w6, Vector512<float> w7, Vector512<float> w8, Vector512<float> b, float* o, int width, int rows, FusedActivation activation)
        where TLoad : struct, IRowLoads
    {
        var zero = Vector512<float>.Zero;
        Vector512<float> a0 = zero, a1 = zero, a2 = zero, a3 = zero, l, c, r;
        Vector512<float> e0 = zero, e1 = zero, e2 = zero, e3 = zero, l2, c2, r2;
        TLoad.Pair(i0, ox, m, n, out l, out c, out r, out l2, out c2, out r2);
        a0 = Taps(a0, w0, w1, w2, l, c, r);
        e0 = Taps(e0, w0, w1, w2, l2, c2, r2);
        TLoad.Pair(i1, ox, m, n, out l, out c, out r, out l2, out c2, out r2);
        a0 = Taps(a0, w3, w4, w5, l, c, r); a1 = Taps(a1, w0, w1, w2, l, c, r);
        e0 = Taps(e0, w3, w4, w5, l2, c2, r2); e1 = Taps(e1, w0, w1, w2, l2, c2, r2);
        TLoad.Pair(i2, ox, m, n, out l, out c, out r, out l2, out c2, out r2);
        a0 = Taps(a0, w6, w7, w8, l, c, r); a1 = Taps(a1, w3, w4, w5, l, c, r); a2 = Taps(a2, w0, w1, w2, l, c, r);
        e0 = Taps(e0, w6, w7, w8, l2, c2, r2); e1 = Taps(e1, w3, w4, w5, l2, c2, r2); e2 = Taps(e2, w0, w1, w2, l2, c2, r2);
        TLoad.Pair(i3, ox, m, n, out l, out c, out r, out l2, out c2, out r2);
        a1 = Taps(a1, w6, w7, w8, l, c, r); a2 = Taps(a2, w3, w4, w5, l, c, r); a3 = Taps(a3, w0, w1, w2, l, c, r);
        e1 = Taps(e1, w6, w7, w8, l2, c2, r2); e2 = Taps(e2, w3, w4, w5, l2, c2, r2); e3 = Taps(e3, w0, w1, w2, l2, c2, r2);
        TLoad.Pair(i4, ox, m, n, out l, out c, out r, out l2, out c2, out r2);
        a2 = Taps(a2, w6, w7, w8, l, c, r); a3 = Taps(a3, w3, w4, w5, l, c, r);
        e2 = Taps(e2, w6, w7, w8, l2, c2, r2); e3 = Taps(e3, w3, w4, w5, l2, c2, r2);
        TLoad.Pair(i5, ox, m, n, out l, out c, out r, out l2, out c2, out r2);
        a3 = Taps(a3, w6, w7, w8, l, c, r);
        e3 = Taps(e3, w6, w7, w8, l2, c2, r2);
        Store(o, width, rows, m.Centre, a0, a1, a2, a3, b, activation);
        Store(o + Lanes, width, rows, n.Centre, e0, e1, e2, e3, b, activation);
    }

    /// <summary>Rows oy .. oy + rows - 1 of one chunk: the bias, the activation, the lanes inside the row.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(float* o, int width, int rows, Vector512<float> mask, Vector512<float> a0, Vector512<float> a1, Vector512<float> a2,
        Vector512<float> a3, Vector512<float> b, FusedActivation activation)
    {
        Avx512F.MaskStore(o, mask, Activate.Apply(a0 + b, activation));
        if (rows > 1) Avx512F.MaskStore(o + width, mask, Activate.Apply(a1 + b, activation));
        if (rows > 2) Avx512F.MaskStore(o + 2 * width, mask, Activate.Apply(a2 + b, activation));
        if (rows > 3) Avx512F.MaskStore(o + 3 * width, mask, Activate.Apply(a3 + b, activation));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float* Row(float* x, int row, int height, int width, float* zeros) => row >= 0 && row < height ? x + (long)row * width : zeros;

    /// <summary>How a block of rows loads the taps of one chunk (<c>Row</c>: columns ox - 1, ox and ox + 1 onwards of one
    /// input row) or of two neighbouring chunks (<c>Pair</c>: the same for columns ox and ox + 16 onwards, four loads
    /// instead of six, the first chunk's right taps and the second's left taps being the two centres shifted by one
    /// lane). Chosen once per chunk, so that a block's loads run without a branch.</summary>
    private interface IRowLoads
    {
        static abstract void Row(float* row, int ox, in Masks m, out Vector512<float> left, out Vector512<float> centre, out Vector512<float> right);

        static abstract void Pair(float* row, int ox, in Masks m, in Masks n, out Vector512<float> left, out Vector512<float> centre,
            out Vector512<float> right, out Vector512<float> left2, out Vector512<float> centre2, out Vector512<float> right2);
    }

    /// <summary>Chunks whose loads all lie inside the row: plain loads.</summary>
    private readonly struct Plain : IRowLoads
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Row(float* row, int ox, in Masks m, out Vector512<float> left, out Vector512<float> centre, out Vector512<float> right)
        {
            float* p = row + ox;
            left = Vector512.Load(p - 1);
            centre = Vector512.Load(p);
            right = Vector512.Load(p + 1);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Pair(float* row, int ox, in Masks m, in Masks n, out Vector512<float> left, out Vector512<float> centre,
            out Vector512<float> right, out Vector512<float> left2, out Vector512<float> centre2, out Vector512<float> right2)
        {
            float* p = row + ox;
            left = Vector512.Load(p - 1);
            centre = Vector512.Load(p);
            centre2 = Vector512.Load(p + Lanes);
            right2 = Vector512.Load(p + Lanes + 1);
            right = RightOf(centre, centre2);
            left2 = LeftOf(centre2, centre);
        }
    }

    /// <summary>Chunks at a row's ends: each load masked to the columns inside the row (zero elsewhere, nothing outside
    /// it read).</summary>
    private readonly struct Masked : IRowLoads
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Row(float* row, int ox, in Masks m, out Vector512<float> left, out Vector512<float> centre, out Vector512<float> right)
        {
            var zero = Vector512<float>.Zero;
            float* p = row + ox;
            left = Avx512F.MaskLoad(p - 1, m.Left, zero);
            centre = Avx512F.MaskLoad(p, m.Centre, zero);
            right = Avx512F.MaskLoad(p + 1, m.Right, zero);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Pair(float* row, int ox, in Masks m, in Masks n, out Vector512<float> left, out Vector512<float> centre,
            out Vector512<float> right, out Vector512<float> left2, out Vector512<float> centre2, out Vector512<float> right2)
        {
            var zero = Vector512<float>.Zero;
            float* p = row + ox;
            left = Avx512F.MaskLoad(p - 1, m.Left, zero);
            centre = Avx512F.MaskLoad(p, m.Centre, zero);
            centre2 = Avx512F.MaskLoad(p + Lanes, n.Centre, zero);
            right2 = Avx512F.MaskLoad(p + Lanes + 1, n.Right, zero);
            right = RightOf(centre, centre2);
            left2 = LeftOf(centre2, centre);
        }
    }

    /// <summary>The left taps of a chunk whose left neighbour is <paramref name="before"/>: lane j holds column ox - 1 + j.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> LeftOf(Vector512<float> centre, Vector512<float> before) =>
        Avx512F.AlignRight32(centre.AsUInt32(), before.AsUInt32(), Lanes - 1).AsSingle();

    /// <summary>The right taps of a chunk whose right neighbour is <paramref name="after"/>: lane j holds column ox + 1 + j.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> RightOf(Vector512<float> centre, Vector512<float> after) =>
        Avx512F.AlignRight32(after.AsUInt32(), centre.AsUInt32(), 1).AsSingle();

    /// <summary>One row of taps, in column order: <c>fma(wc, r, fma(wb, c, fma(wa, l, acc)))</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Taps(Vector512<float> acc, Vector512<float> wa, Vector512<float> wb, Vector512<float> wc,
        Vector512<float> l, Vector512<float> c, Vector512<float> r) =>
        Avx512F.FusedMultiplyAdd(wc, r, Avx512F.FusedMultiplyAdd(wb, c, Avx512F.FusedMultiplyAdd(wa, l, acc)));
}
