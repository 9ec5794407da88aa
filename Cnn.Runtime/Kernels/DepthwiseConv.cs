using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CnnGen.Kernels;

/// <summary>
/// Depthwise convolution (one k x k filter per channel, <c>Groups</c> = channels = filters), NCHW, without im2col:
/// <c>out[c, oy, ox] = (sum over ky, kx of w[c, ky, kx] * in[c, oy*s + ky - p, ox*s + kx - p]) + bias[c]</c>, then the
/// fused activation, for the channels <c>[firstChannel, endChannel)</c> only (so several threads can share one image).
/// The sum is a fused multiply-add chain in (ky, kx) order from zero, padding contributing <c>w * 0</c>: exactly the
/// chain of im2col + <see cref="Gemm.Multiply"/> (m = 1, k = k*k) + <see cref="Elementwise.AddBias"/>, so both give the
/// same bits, with and without SIMD.
/// <para>The AVX-512 path copies one channel at a time into a zero-padded plane whose rows are split into <c>s</c>
/// phases (column <c>X</c> of a padded row goes to phase <c>X mod s</c> at <c>X / s</c>), so that for any stride the
/// taps of 16 neighbouring outputs are 16 neighbouring values; it then keeps four output rows of 16 values in registers,
/// sharing each weight broadcast.</para>
/// </summary>
public static unsafe partial class DepthwiseConv
{
    private const int Lanes = 16, RowsPerBlock = 4;

    /// <summary>Whether <see cref="Forward"/> handles this convolution (dilation 1, any kernel, padding and stride).</summary>
    public static bool Supports(int stride, int dilation) => stride >= 1 && dilation == 1;

    /// <summary>Values of the padded plane one call needs as scratch (one channel's worth, whatever the channel range).</summary>
    public static int ScratchLength(int height, int width, int kernel, int stride, int padding, int outWidth)
    {
        var plane = new Plane(height, width, kernel, stride, padding, outWidth);
        return plane.Length;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Forward(ReadOnlySpan<float> input, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, Span<float> output,
        Span<float> scratch, int channels, int height, int width, int kernel, int stride, int padding, int outHeight, int outWidth,
        int firstChannel, int endChannel, FusedActivation activation = FusedActivation.None)
    {
        if (stride < 1 || kernel < 1 || padding < 0 || height < 1 || width < 1 || outHeight < 1 || outWidth < 1)
            throw new ArgumentException($"DepthwiseConv.Forward: kernel {kernel}, stride {stride}, padding {padding}, input {height}x{width} and output {outHeight}x{outWidth} must be positive (padding at least 0).");
        if ((outHeight - 1) * stride + kernel > height + 2 * padding || (outWidth - 1) * stride + kernel > width + 2 * padding)
            throw new ArgumentException($"DepthwiseConv.Forward: an output of {outHeight}x{outWidth} reads past the padded {height + 2 * padding}x{width + 2 * padding} input.");
        if (firstChannel < 0 || endChannel > channels || firstChannel > endChannel)
            throw new ArgumentException($"DepthwiseConv.Forward: channel range [{firstChannel}, {endChannel}) is not within the {channels} channels.");
        int kk = kernel * kernel, inPlane = height * width, outPlane = outHeight * outWidth;
        if (input.Length < (long)channels * inPlane || weight.Length < (long)channels * kk || bias.Length < channels ||
            output.Length < (long)channels * outPlane)
            throw new ArgumentException("DepthwiseConv.Forward: spans too short for the given shape.");
        if (firstChannel == endChannel) return;

        bool simd = Avx512F.IsSupported && Vector512.IsHardwareAccelerated;
        var plane = new Plane(height, width, kernel, stride, padding, outWidth);
        if (simd && scratch.Length < plane.Length)
            throw new ArgumentException($"DepthwiseConv.Forward: scratch holds {scratch.Length} values, {plane.Length} needed (ScratchLength).");
        fixed (float* pin = input, pw = weight, pb = bias, pout = output, ps = scratch)
        {
            var shape = new Shape(height, width, kernel, stride, padding, outHeight, outWidth, activation);
            if (simd)
            {
                Span<int> taps = kk <= 256 ? stackalloc int[kk] : new int[kk];
                plane.FillTaps(taps, kernel);
                // Every channel writes the same interior positions, so the borders cleared once stay zero.
                new Span<float>(ps, plane.Length).Clear();
                fixed (int* pt = taps)
                    for (int c = firstChannel; c < endChannel; c++)
                    {
                        plane.Fill(ps, pin + (long)c * inPlane, height, width);
                        ChannelAvx512(ps, plane, pt, pw + c * kk, pb[c], pout + (long)c * outPlane, shape);
                    }
            }
            else
            {
                int c = firstChannel, blocks = UsesChannelBlocks(shape) ? (endChannel - firstChannel) / BlockChannels : 0;
                if (blocks > 0)
                    ChannelBlocksAvx2(pin + (long)c * inPlane, inPlane, pw + c * kk, pb + c, pout + (long)c * outPlane, outPlane, shape, 0, outHeight, blocks);
                for (c += blocks * BlockChannels; c < endChannel; c++)
                    ChannelPortable(pin + (long)c * inPlane, pw + c * kk, pb[c], pout + (long)c * outPlane, shape, 0, shape.OutHeight);
            }
        }
    }

    /// <summary>Values of the padded plane <see cref="ForwardRows"/> needs as scratch for bands of up to
    /// <paramref name="bandRows"/> output rows.</summary>
    public static int BandScratchLength(int bandRows, int width, int kernel, int stride, int padding, int outWidth)
    {
        var plane = new Plane((bandRows - 1) * stride + kernel, 0, width, kernel, stride, padding, outWidth);
        return plane.Length;
    }

    /// <summary>
    /// Output rows [<paramref name="firstRow"/>, <paramref name="endRow"/>) of every channel, from a band of the input
    /// that holds rows [<paramref name="bandFirst"/>, <paramref name="bandEnd"/>) of each channel, <paramref name="bandStride"/>
    /// values apart from one channel to the next (the rows those outputs read that lie inside the image must be in it).
    /// Each output gets <see cref="Forward"/>'s chain, so its bits. <paramref name="output"/> is the whole output,
    /// <c>channels x outHeight x outWidth</c>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void ForwardRows(float* band, long bandStride, int bandFirst, int bandEnd, float* weight, float* bias, float* output,
        float* scratch, int channels, int height, int width, int kernel, int stride, int padding, int outHeight, int outWidth,
        int firstRow, int endRow, FusedActivation activation)
    {
        int kk = kernel * kernel;
        long outPlane = (long)outHeight * outWidth;
        var shape = new Shape(height, width, kernel, stride, padding, outHeight, outWidth, activation);
        if (!(Avx512F.IsSupported && Vector512.IsHardwareAccelerated))
        {
            int blocks = UsesChannelBlocks(shape) ? channels / BlockChannels : 0;
            if (blocks > 0)
                ChannelBlocksAvx2(band - (long)bandFirst * width, bandStride, weight, bias, output, outPlane, shape, firstRow, endRow, blocks);
            for (int c = blocks * BlockChannels; c < channels; c++)
                ChannelPortable(band + c * bandStride - (long)bandFirst * width, weight + c * kk, bias[c], output + c * outPlane, shape, firstRow, endRow);
            return;
        }
        // Padded rows [firstRow * stride, (endRow - 1) * stride + kernel) are the plane's; input row y is padded row y + padding.
        int rows = (endRow - firstRow - 1) * stride + kernel, top = firstRow * stride - padding;
        int inFirst = Math.Max(0, top), inEnd = Math.Min(height, top + rows), copied = Math.Max(0, inEnd - inFirst);
        var plane = new Plane(rows, inFirst - top, width, kernel, stride, padding, outWidth);
        Span<int> tapSpan = kk <= 256 ? stackalloc int[kk] : new int[kk];
        plane.FillTaps(tapSpan, kernel);
        // Every channel fills the same rows and columns, so the rows and columns outside the image cleared once stay zero.
        new Span<float>(scratch, plane.Length).Clear();
        var bandShape = shape with { OutHeight = endRow - firstRow };
        fixed (int* taps = tapSpan)
            for (int c = 0; c < channels; c++)
            {
                plane.Fill(scratch, band + c * bandStride + (long)(inFirst - bandFirst) * width, copied, width);
                ChannelAvx512(scratch, plane, taps, weight + c * kk, bias[c], output + c * outPlane + (long)firstRow * outWidth, bandShape);
            }
    }

    private readonly record struct Shape(int Height, int Width, int Kernel, int Stride, int Padding, int OutHeight, int OutWidth,
        FusedActivation Activation);

    /// <summary>
    /// One channel's zero-padded input: <see cref="Rows"/> rows of <c>Stride</c> phases of <see cref="PhaseLength"/>
    /// values; padded column X is at phase <c>X mod Stride</c>, index <c>X / Stride</c>. A phase is long enough for full
    /// 16-value loads of every output chunk, so the vector loop never needs a mask to load.
    /// </summary>
    private readonly struct Plane
    {
        public readonly int Rows, Stride, Padding, PadTop, PhaseLength, RowLength, Length;

        public Plane(int height, int width, int kernel, int stride, int padding, int outWidth)
            : this(height + 2 * padding, padding, width, kernel, stride, padding, outWidth)
        {
        }

        /// <summary>A plane of <paramref name="rows"/> rows whose first input row goes to row <paramref name="padTop"/>
        /// (a band of output rows: the rows above and below the image that it reads are zero).</summary>
        public Plane(int rows, int padTop, int width, int kernel, int stride, int padding, int outWidth)
        {
            Rows = rows;
            PadTop = padTop;
            Stride = stride;
            Padding = padding;
            int paddedWidth = width + 2 * padding;
            int chunks = (outWidth + Lanes - 1) / Lanes;
            PhaseLength = Math.Max((paddedWidth + stride - 1) / stride, chunks * Lanes + (kernel - 1) / stride);
            RowLength = stride * PhaseLength;
            Length = Rows * RowLength;
        }

        /// <summary>Where tap (ky, kx) of an output sits in the plane, relative to the output's top left tap, for every tap
        /// of a <paramref name="kernel"/> x <paramref name="kernel"/> window (row by row).</summary>
        public void FillTaps(Span<int> taps, int kernel)
        {
            for (int ky = 0; ky < kernel; ky++)
            for (int kx = 0; kx < kernel; kx++)
                taps[ky * kernel + kx] = ky * RowLength + kx % Stride * PhaseLength + kx / Stride;
        }

        /// <summary>Copies one channel into the plane's interior (the borders are left as they are: zero).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Fill(float* plane, float* channel, int height, int width)
        {
            for (int y = 0; y < height; y++)
            {
                float* row = plane + (y + PadTop) * RowLength, source = channel + y * width;
                if (Stride == 1) Buffer.MemoryCopy(source, row + Padding, width * 4L, width * 4L);
                else if (Stride == 2) Deinterleave(source, row, width);
                else
                    for (int x = 0; x < width; x++)
                    {
                        int column = x + Padding;
                        row[column % Stride * PhaseLength + column / Stride] = source[x];
                    }
            }
        }

        /// <summary>Stride 2: even input columns to one phase, odd ones to the other, 32 at a time.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private void Deinterleave(float* source, float* row, int width)
        {
            // Input column x sits at padded column x + Padding: even x go to phase Padding % 2 from index Padding / 2,
            // odd x to phase (Padding + 1) % 2 from index (Padding + 1) / 2.
            float* evens = row + Padding % 2 * PhaseLength + Padding / 2;
            float* odds = row + (Padding + 1) % 2 * PhaseLength + (Padding + 1) / 2;
            int x = 0;
            var evenIndex = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
            var oddIndex = Vector512.Create(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
            for (; x + 2 * Lanes <= width; x += 2 * Lanes)
            {
                var low = Vector512.Load(source + x);
                var high = Vector512.Load(source + x + Lanes);
                Avx512F.PermuteVar16x32x2(low, evenIndex, high).Store(evens + x / 2);
                Avx512F.PermuteVar16x32x2(low, oddIndex, high).Store(odds + x / 2);
            }
            int left = width - x;
            if (left == 0) return;
            // The last 1 to 31 columns: masked loads and stores, so nothing outside the row is read or written.
            var zero = Vector512<float>.Zero;
            var tailLow = Avx512F.MaskLoad(source + x, LaneMask.First(left), zero);
            var tailHigh = left > Lanes ? Avx512F.MaskLoad(source + x + Lanes, LaneMask.First(left - Lanes), zero) : zero;
            Avx512F.MaskStore(evens + x / 2, LaneMask.First((left + 1) / 2), Avx512F.PermuteVar16x32x2(tailLow, evenIndex, tailHigh));
            Avx512F.MaskStore(odds + x / 2, LaneMask.First(left / 2), Avx512F.PermuteVar16x32x2(tailLow, oddIndex, tailHigh));
        }
    }

    /// <summary>The path without AVX-512, output rows [firstRow, endRow) of one channel: eight outputs at a time with AVX2
    /// and FMA at strides 1 and 2 (<see cref="ChannelAvx2"/>), else one chain at a time; the same bits either way.</summary>
    private static void ChannelPortable(float* channel, float* w, float bias, float* output, in Shape s, int firstRow, int endRow)
    {
        if (Avx2.IsSupported && Fma.IsSupported && s.Stride <= 2) ChannelAvx2(channel, w, bias, output, s, firstRow, endRow);
        else ChannelScalar(channel, w, bias, output, s, firstRow, endRow);
    }

    /// <summary>Each output's chain read straight from the input, padding as <c>w * 0</c>: output rows [firstRow, endRow)
    /// of one channel; <paramref name="channel"/> is where input row 0 would be (only the rows those outputs read are).</summary>
    private static void ChannelScalar(float* channel, float* w, float bias, float* output, in Shape s, int firstRow, int endRow)
    {
        for (int oy = firstRow; oy < endRow; oy++)
        for (int ox = 0; ox < s.OutWidth; ox++)
        {
            float acc = 0f;
            for (int ky = 0; ky < s.Kernel; ky++)
            {
                int y = oy * s.Stride + ky - s.Padding;
                bool rowInside = y >= 0 && y < s.Height;
                for (int kx = 0; kx < s.Kernel; kx++)
                {
                    int x = ox * s.Stride + kx - s.Padding;
                    float value = rowInside && x >= 0 && x < s.Width ? channel[y * s.Width + x] : 0f;
                    acc = MathF.FusedMultiplyAdd(w[ky * s.Kernel + kx], value, acc);
                }
            }
            output[oy * s.OutWidth + ox] = Activate.Apply(acc + bias, s.Activation);
        }
    }

    /// <summary>One channel from its padded plane: blocks of four output rows (the last block repeats the last row, writing
    /// the same values twice) by 16 columns (the last chunk stored under a mask).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ChannelAvx512(float* plane, in Plane p, int* taps, float* w, float bias, float* output, in Shape s)
    {
        int kk = s.Kernel * s.Kernel;
        int chunks = (s.OutWidth + Lanes - 1) / Lanes;
        var lastMask = LaneMask.First(s.OutWidth - (chunks - 1) * Lanes);
        var biasVector = Vector512.Create(bias);
        int down = s.Stride * p.RowLength;
        for (int oy = 0; oy < s.OutHeight; oy += RowsPerBlock)
        {
            int last = s.OutHeight - 1;
            int r1 = Math.Min(oy + 1, last), r2 = Math.Min(oy + 2, last), r3 = Math.Min(oy + 3, last);
            float* top = plane + oy * down;
            long step1 = (long)(r1 - oy) * down, step2 = (long)(r2 - oy) * down, step3 = (long)(r3 - oy) * down;
            for (int chunk = 0; chunk < chunks; chunk++)
            {
                int ox = chunk * Lanes;
                var zero = Vector512<float>.Zero;
                Vector512<float> a0 = zero, a1 = zero, a2 = zero, a3 = zero;
                float* corner = top + ox;
                for (int t = 0; t < kk; t++) // (ky, kx) order
                {
                    float* tap = corner + taps[t];
                    var q = Vector512.Create(w[t]);
                    a0 = Avx512F.FusedMultiplyAdd(q, Vector512.Load(tap), a0);
                    a1 = Avx512F.FusedMultiplyAdd(q, Vector512.Load(tap + step1), a1);
                    a2 = Avx512F.FusedMultiplyAdd(q, Vector512.Load(tap + step2), a2);
                    a3 = Avx512F.FusedMultiplyAdd(q, Vector512.Load(tap + step3), a3);
                }
                var mask = chunk == chunks - 1 ? lastMask : Vector512<float>.AllBitsSet;
                float* o = output + ox;
                Avx512F.MaskStore(o + oy * s.OutWidth, mask, Activate.Apply(a0 + biasVector, s.Activation));
                Avx512F.MaskStore(o + r1 * s.OutWidth, mask, Activate.Apply(a1 + biasVector, s.Activation));
                Avx512F.MaskStore(o + r2 * s.OutWidth, mask, Activate.Apply(a2 + biasVector, s.Activation));
                Avx512F.MaskStore(o + r3 * s.OutWidth, mask, Activate.Apply(a3 + biasVector, s.Activation));
            }
        }
    }
}
