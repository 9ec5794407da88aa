using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CnnGen.Kernels;

public static unsafe partial class DepthwiseConv
{
    /// <summary>
    /// <see cref="ChannelScalar(float*, float*, float, float*, in Shape, int, int)"/> at strides 1 and 2 on machines with
    /// AVX2 and FMA (the portable path of every depthwise kernel without AVX-512): eight outputs of a row at once, each
    /// lane the chain of one output, one fused multiply-add per tap in (ky, kx) order from zero. A tap column outside
    /// the row is a lane masked off its load (a zero, nothing read there), a tap row outside the image a vector of
    /// zeros: padding contributes <c>w * 0</c>, as in the scalar chain. Then the bias and the activation: the same bits.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ChannelAvx2(float* channel, float* w, float bias, float* output, in Shape s, int firstRow, int endRow)
    {
        if (s.Kernel == 3)
        {
            if (s.Stride == 1) ThreeByThreeStrideOneAvx2(channel, w, bias, output, s, firstRow, endRow);
            else if (s.OutWidth > PhasesFromWidth) ThreeByThreePhasesAvx2(channel, w, bias, output, s, firstRow, endRow);
            else ThreeByThreeStrideTwoAvx2(channel, w, bias, output, s, firstRow, endRow);
            return;
        }
        int kernel = s.Kernel, stride = s.Stride, width = s.Width;
        var zero = Vector256<float>.Zero;
        var biasVector = Vector256.Create(bias);
        // Columns one load of a tap reads from its first lane's: 8 at stride 1, 16 at stride 2.
        int reach = stride == 1 ? 8 : 16;
        for (int oy = firstRow; oy < endRow; oy++)
        {
            float* to = output + oy * s.OutWidth;
            for (int ox = 0; ox < s.OutWidth; ox += 8)
            {
                int left = ox * stride - s.Padding, lanes = Math.Min(8, s.OutWidth - ox);
                bool inside = left >= 0 && left + kernel - 1 + reach <= width;
                var acc = zero;
                for (int ky = 0; ky < kernel; ky++)
                {
                    int y = oy * stride + ky - s.Padding;
                    float* taps = w + ky * kernel;
                    if (y < 0 || y >= s.Height)
                    {
                        for (int kx = 0; kx < kernel; kx++) acc = Fma.MultiplyAdd(Vector256.Create(taps[kx]), zero, acc);
                        continue;
                    }
                    float* row = channel + (long)y * width;
                    for (int kx = 0; kx < kernel; kx++)
                    {
                        var values = inside ? StridedLanes256.Load(row + left + kx, stride) : MaskedLanes256(row, left + kx, stride, width);
                        acc = Fma.MultiplyAdd(Vector256.Create(taps[kx]), values, acc);
                    }
                }
                acc = Activate.Apply(acc + biasVector, s.Activation);
                if (lanes == 8) acc.Store(to + ox);
                else StridedLanes256.StoreFirst(to + ox, acc, lanes);
            }
        }
    }

    // Each stride compiled on its own (both inlined into ChannelAvx2 ran the JIT's inlining budget out), the copy in a
    // method of its own (a method that pins its scratch is not inlined, and the kernel's stride would not be a constant).
    [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.NoInlining)]
    private static void ThreeByThreeStrideOneAvx2(float* channel, float* w, float bias, float* output, in Shape s, int firstRow, int endRow)
    {
        float* copy = CopyPaddedRows(channel, s, firstRow, endRow, stride: 1, out int rowLength);
        ThreeByThreeAvx2(copy, rowLength, w, bias, output, s, firstRow, endRow, stride: 1, phases: false);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.NoInlining)]
    private static void ThreeByThreeStrideTwoAvx2(float* channel, float* w, float bias, float* output, in Shape s, int firstRow, int endRow)
    {
        float* copy = CopyPaddedRows(channel, s, firstRow, endRow, stride: 2, out int rowLength);
        ThreeByThreeAvx2(copy, rowLength, w, bias, output, s, firstRow, endRow, stride: 2, phases: false);
    }

    /// <summary>
    /// Output rows longer than this at stride 2 are computed from rows copied as their even and their odd columns
    /// (<see cref="CopyPhases"/>), so that a tap is a plain load instead of the even lanes of two (a shuffle and a permute
    /// per tap). Every channel of a layer, medians of 31 calls, each build in turn three times: 96 x 112 x 112 478-490 ->
    /// 361-366 us, 144 x 56 x 56 206-220 -> 158-165 us. Shorter rows keep the strided loads: alternating per call with
    /// them, the copy of the phases ran 192 x 28 x 28 at 0.90-1.02x and 576 x 14 x 14 at 0.81-1.09x, a short row's copy
    /// costing more than its shuffles.
    /// </summary>
    private const int PhasesFromWidth = 16;

    [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.NoInlining)]
    private static void ThreeByThreePhasesAvx2(float* channel, float* w, float bias, float* output, in Shape s, int firstRow, int endRow)
    {
        float* copy = CopyPhases(channel, s, firstRow, endRow, out int half);
        ThreeByThreeAvx2(copy, 2 * half, w, bias, output, s, firstRow, endRow, stride: 2, phases: true);
    }

    /// <summary>
    /// The input rows output rows [<paramref name="firstRow"/>, <paramref name="endRow"/>) read at stride 2, into this
    /// thread's copy (returned), each padded row as its even columns (<paramref name="half"/> values) then its odd ones,
    /// zeros around it (<see cref="StridedLanes256.SplitPhases"/>; rows outside the image all zeros).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float* CopyPhases(float* channel, in Shape s, int firstRow, int endRow, out int half)
    {
        int width = s.Width;
        half = StridedLanes256.PhaseHalf(s.OutWidth, 3, width, s.Padding);
        int rows = Math.Max(0, PaddedRows(firstRow, endRow, 2)), firstInput = firstRow * 2 - s.Padding;
        float* copy = ThreadScratch.PinnedAtLeast(ref t_threeByThreeRows, (long)rows * 2 * half);
        var zeros = Vector256<float>.Zero;
        for (int r = 0; r < rows; r++)
        {
            float* to = copy + (long)r * 2 * half;
            int y = firstInput + r;
            if (y >= 0 && y < s.Height) StridedLanes256.SplitPhases(channel + (long)y * width, width, s.Padding, to, half, zeros);
            else for (int i = 0; i < 2 * half; i += 8) zeros.Store(to + i);
        }
        return copy;
    }

    /// <summary>This thread's copy of the rows a 3x3 range reads, with their zeros around them (pinned).</summary>
    [ThreadStatic] private static float[]? t_threeByThreeRows;

    /// <summary>Input rows that output rows [firstRow, endRow) read.</summary>
    private static int PaddedRows(int firstRow, int endRow, int stride) => (endRow - 1 - firstRow) * stride + 3;

    /// <summary>A copied row's length, a multiple of 8: the padding, the row rounded up to whole vectors, and as far as
    /// the last vector of outputs reads (columns <c>ox * stride .. ox * stride + 2 + 7 * stride</c>, two loads of 8 at
    /// stride 2).</summary>
    private static int PaddedRowLength(in Shape s, int stride)
    {
        int vectors = (s.OutWidth + 7) / 8;
        int length = Math.Max((vectors - 1) * 8 * stride + 2 + (stride == 1 ? 8 : 16), s.Padding + (s.Width + 7) / 8 * 8);
        return (length + 7) / 8 * 8;
    }

    /// <summary>The input rows output rows [<paramref name="firstRow"/>, <paramref name="endRow"/>) read, into this
    /// thread's copy (returned, rows <paramref name="rowLength"/> apart), each with the padding's zeros before it and
    /// zeros after it (rows outside the image all zeros): cleared 8 at a time, then the values copied over 8 at a time,
    /// the last ones loaded under a mask (which reads nothing past the row) and stored with the zeros after them.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float* CopyPaddedRows(float* channel, in Shape s, int firstRow, int endRow, int stride, out int rowLength)
    {
        rowLength = PaddedRowLength(s, stride);
        int rows = Math.Max(0, PaddedRows(firstRow, endRow, stride)), firstInput = firstRow * stride - s.Padding, width = s.Width;
        float* copy = ThreadScratch.PinnedAtLeast(ref t_threeByThreeRows, (long)rows * rowLength);
        var zeros = Vector256<float>.Zero;
        for (int r = 0; r < rows; r++)
        {
            float* to = copy + (long)r * rowLength;
            for (int i = 0; i < rowLength; i += 8) zeros.Store(to + i);
            int y = firstInput + r;
            if (y < 0 || y >= s.Height) continue;
            float* from = channel + (long)y * width;
            to += s.Padding;
            int j = 0;
            for (; j + 8 <= width; j += 8) Avx.LoadVector256(from + j).Store(to + j);
            if (j < width) Avx.MaskLoad(from + j, StridedLanes256.First(width - j)).Store(to + j);
        }
        return copy;
    }

    /// <summary>
    /// <see cref="ChannelAvx2"/> for 3x3 kernels (MobileNetV2's), from the rows the range reads copied with their zeros
    /// (<see cref="CopyPaddedRows"/>: the padding left, zeros right up to the last load's reach, rows of zeros above or
    /// below the image), so every load is a whole one and every tap a lane of it; the nine weights broadcast once per
    /// channel and kept in registers, the taps unrolled. A padded tap is a loaded zero where the portable chain reads a
    /// masked-off lane: the same multiply-adds in the same order, so the same bits. A row's last up to 7 outputs are
    /// stored without a masked store (slow on the AMD cores that lack AVX-512). With <paramref name="phases"/> (stride 2)
    /// each copied row is its even padded columns then its odd ones (<see cref="CopyPhases"/>, <paramref name="rowLength"/>
    /// both halves), and every tap a plain load. <paramref name="stride"/> and <paramref name="phases"/> are constants at
    /// each call.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ThreeByThreeAvx2(float* copy, int rowLength, float* w, float bias, float* output, in Shape s, int firstRow, int endRow,
        int stride, bool phases)
    {
        var zero = Vector256<float>.Zero;
        var biasVector = Vector256.Create(bias);
        Vector256<float> w00 = Vector256.Create(w[0]), w01 = Vector256.Create(w[1]), w02 = Vector256.Create(w[2]);
        Vector256<float> w10 = Vector256.Create(w[3]), w11 = Vector256.Create(w[4]), w12 = Vector256.Create(w[5]);
        Vector256<float> w20 = Vector256.Create(w[6]), w21 = Vector256.Create(w[7]), w22 = Vector256.Create(w[8]);
        int outWidth = s.OutWidth, half = rowLength / 2;
        var activation = s.Activation;
        for (int oy = firstRow; oy < endRow; oy++)
        {
            float* r0 = copy + (long)(oy - firstRow) * stride * rowLength, r1 = r0 + rowLength, r2 = r1 + rowLength;
            float* to = output + oy * outWidth;
            for (int ox = 0; ox < outWidth; ox += 8)
            {
                var acc = Fma.MultiplyAdd(w00, Tap(r0, ox, 0, stride, phases, half), zero);
                acc = Fma.MultiplyAdd(w01, Tap(r0, ox, 1, stride, phases, half), acc);
                acc = Fma.MultiplyAdd(w02, Tap(r0, ox, 2, stride, phases, half), acc);
                acc = Fma.MultiplyAdd(w10, Tap(r1, ox, 0, stride, phases, half), acc);
                acc = Fma.MultiplyAdd(w11, Tap(r1, ox, 1, stride, phases, half), acc);
                acc = Fma.MultiplyAdd(w12, Tap(r1, ox, 2, stride, phases, half), acc);
                acc = Fma.MultiplyAdd(w20, Tap(r2, ox, 0, stride, phases, half), acc);
                acc = Fma.MultiplyAdd(w21, Tap(r2, ox, 1, stride, phases, half), acc);
                acc = Fma.MultiplyAdd(w22, Tap(r2, ox, 2, stride, phases, half), acc);
                acc = Activate.Apply(acc + biasVector, activation);
                if (ox + 8 <= outWidth) acc.Store(to + ox);
                else StridedLanes256.StoreFirst(to + ox, acc, outWidth - ox);
            }
        }
    }

    /// <summary>Tap <paramref name="kx"/> of eight outputs from <paramref name="ox"/>, from a copied row: padded column
    /// <c>ox * stride + kx</c> at stride 1 or 2, or from a row split in phases (two halves of <paramref name="half"/>),
    /// the even half at <c>ox</c> (kx 0), the odd half at <c>ox</c> (1), the even half at <c>ox + 1</c> (2).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Tap(float* row, int ox, int kx, int stride, bool phases, int half) =>
        phases ? Avx.LoadVector256(row + ox + (kx == 1 ? half : kx / 2)) : StridedLanes256.Load(row + ox * stride + kx, stride);

    /// <summary><see cref="StridedLanes256.Load"/> from column <paramref name="column"/> of <paramref name="row"/>, columns outside
    /// <c>[0, width)</c> read as zero (never loaded).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> MaskedLanes256(float* row, int column, int stride, int width)
    {
        var position = Vector256.Create(column) + Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7);
        var low = Avx.MaskLoad(row + column, StridedLanes256.Inside(position, width));
        if (stride == 1) return low;
        var high = Avx.MaskLoad(row + column + 8, StridedLanes256.Inside(position + Vector256.Create(8), width));
        return StridedLanes256.Even(low, high);
    }
}
