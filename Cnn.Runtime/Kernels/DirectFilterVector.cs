using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CnnGen.Kernels;

/// <summary>
/// A stride-1 convolution of exactly 16 filters on small maps, with the filters in the vector lanes: one register holds
/// the 16 filters' sums at one output position, so every lane does work whatever the width of the map. <see cref="DirectConv"/>
/// puts positions in the lanes instead, a row of the map per register, which on LeNet-5's 10-wide second layer left 6 of
/// 16 lanes idle (6.97 us an image against 5.27 here, one thread, 64 images a call, 2-core Zen 4).
/// <para>The weights are laid out <c>[tap][16 filters]</c> in a cache the caller keeps (<see cref="CacheLength"/>: the
/// weights' copy the layout was made from, with a flag, then the layout), made again only when the weights differ from that
/// copy in any bit. Output positions run in groups of 8 in row-major order (a group may cross rows: each
/// position reads through its own pointer); per tap, one load of 16 weights and 8 broadcast input values feed 8
/// multiply-adds. Each group's 8 x 16 sums are written to the filters' planes through a small tile.</para>
/// <para>Each output is one fused multiply-add chain in (c, ky, kx) order from zero, padding contributing <c>w * 0</c>,
/// then the bias, then the ReLU: the bits of <see cref="DirectConv.Forward"/> and of im2col + product, with and without
/// AVX-512 (without it, this calls <see cref="DirectConv.Forward"/> for each image).</para>
/// </summary>
[SkipLocalsInit]
public static unsafe class DirectFilterVector
{
    /// <summary>Filters this kernel computes: one vector of them.</summary>
    public const int Filters = 16;

    /// <summary>Output positions computed together (8 accumulators).</summary>
    private const int Group = 8;

    /// <summary>Largest number of taps (channels x kernel x kernel) taken: their input offsets sit on the stack.</summary>
    public const int MaxTaps = 4096;

    /// <summary>Values of the cache <see cref="Forward"/> keeps the laid-out weights in: the weights' copy
    /// (weights and a flag), then the layout.</summary>
    public static int CacheLength(int channels, int kernel) => WeightCopy.Length(Filters * channels * kernel * kernel) + Filters * channels * kernel * kernel;

    /// <summary>Whether <see cref="Forward"/> takes this convolution: 16 filters, stride 1, at most <see cref="MaxTaps"/> taps.</summary>
    public static bool Supports(int filters, int stride, int channels, int kernel) =>
        filters == Filters && stride == 1 && kernel >= 1 && (long)channels * kernel * kernel <= MaxTaps;

    /// <summary>
    /// <paramref name="images"/> NCHW images of <paramref name="input"/> convolved with <paramref name="weight"/>
    /// (<c>[16, channels, kernel, kernel]</c>), plus <paramref name="bias"/>, then the ReLU when <paramref name="relu"/>,
    /// into <paramref name="output"/> (<c>[images, 16, outHeight, outWidth]</c>). <paramref name="padded"/> receives one
    /// image at a time padded by <paramref name="padding"/> (<see cref="DirectConv.PaddedLength"/>; empty without padding);
    /// <paramref name="cache"/> (<see cref="CacheLength"/>, zeros at first) keeps the laid-out weights from call to call.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Forward(ReadOnlySpan<float> input, int images, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, Span<float> output,
        Span<float> padded, Span<float> cache, int channels, int height, int width, int kernel, int padding, int outHeight, int outWidth, bool relu = false)
    {
        int taps = channels * kernel * kernel;
        if (images < 0 || channels < 1 || kernel < 1 || padding < 0 || taps > MaxTaps
            || outHeight != height + 2 * padding - kernel + 1 || outWidth != width + 2 * padding - kernel + 1 || outHeight < 1 || outWidth < 1)
            throw new ArgumentException($"DirectFilterVector.Forward: {channels} channels of {height}x{width}, kernel {kernel}, padding {padding} do not give a {outHeight}x{outWidth} output at stride 1, or take more than {MaxTaps} taps.");
        int inLen = channels * height * width, outLen = Filters * outHeight * outWidth;
        if (input.Length < (long)images * inLen || output.Length < (long)images * outLen || weight.Length < Filters * taps || bias.Length < Filters
            || padded.Length < DirectConv.PaddedLength(channels, height, width, padding) || cache.Length != CacheLength(channels, kernel))
            throw new ArgumentException("DirectFilterVector.Forward: spans too short for the given shape, or a cache not of CacheLength values.");
        if (!Avx512F.IsSupported)
        {
            for (int b = 0; b < images; b++)
                DirectConv.Forward(input.Slice(b * inLen, inLen), weight, bias, output.Slice(b * outLen, outLen), padded, channels, height, width,
                    Filters, kernel, padding, outHeight, outWidth, relu);
            return;
        }
        var laidOut = LaidOut(weight.Slice(0, Filters * taps), cache, taps);
        int ph = height + 2 * padding, pw = width + 2 * padding;
        int* offsets = stackalloc int[taps];
        for (int c = 0, t = 0; c < channels; c++)
        for (int ky = 0; ky < kernel; ky++)
        for (int kx = 0; kx < kernel; kx++)
            offsets[t++] = (c * ph + ky) * pw + kx;
        var shape = new Shape(taps, pw, outHeight, outWidth, relu);
        fixed (float* pin = input, pout = output, ppad = padded, pl = laidOut, pb = bias)
            for (int b = 0; b < images; b++)
            {
                float* x = pin + (long)b * inLen;
                if (padding > 0)
                {
                    DirectConv.Pad(input.Slice(b * inLen, inLen), padded, channels, height, width, padding);
                    x = ppad;
                }
                Image(x, pl, pb, offsets, pout + (long)b * outLen, shape);
            }
    }

    private readonly record struct Shape(int Taps, int PaddedWidth, int OutHeight, int OutWidth, bool Relu);

    /// <summary>The weights <c>[16][taps]</c> as <c>[taps][16]</c>, from <paramref name="cache"/> when its copy holds the
    /// same bits, else laid out again there (whole blocks of 16 taps through <see cref="Transpose16"/>, the rest one
    /// value at a time).</summary>
    private static Span<float> LaidOut(ReadOnlySpan<float> weight, Span<float> cache, int taps)
    {
        int length = taps * Filters;
        var copy = cache.Slice(0, WeightCopy.Length(length));
        var laidOut = cache.Slice(copy.Length, length);
        if (WeightCopy.Holds(weight, copy)) return laidOut;
        int t = 0;
        for (; t + Filters <= taps; t += Filters)
            Transpose16.Block(weight.Slice(t), taps, laidOut.Slice(t * Filters), Filters);
        for (int f = 0; f < Filters; f++)
            for (int rest = t; rest < taps; rest++)
                laidOut[rest * Filters + f] = weight[f * taps + rest];
        WeightCopy.Take(weight, copy);
        return laidOut;
    }

    /// <summary>One image: its positions in groups of 8 (a last group repeats its last position), each group's sums
    /// finished and written to the 16 planes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Image(float* x, float* laidOut, float* bias, int* offsets, float* output, in Shape s)
    {
        int plane = s.OutHeight * s.OutWidth;
        float* tile = stackalloc float[Group * Filters];
        var biases = Vector512.Load(bias);
        var activation = s.Relu ? FusedActivation.Relu : FusedActivation.None;
        var gatherColumn = Vector256.Create(0, 16, 32, 48, 64, 80, 96, 112);
        for (int p0 = 0; p0 < plane; p0 += Group)
        {
            int n = Math.Min(Group, plane - p0);
            float* q0 = x + Origin(p0, n, 0, s), q1 = x + Origin(p0, n, 1, s), q2 = x + Origin(p0, n, 2, s), q3 = x + Origin(p0, n, 3, s);
            float* q4 = x + Origin(p0, n, 4, s), q5 = x + Origin(p0, n, 5, s), q6 = x + Origin(p0, n, 6, s), q7 = x + Origin(p0, n, 7, s);
            var zero = Vector512<float>.Zero;
            Vector512<float> a0 = zero, a1 = zero, a2 = zero, a3 = zero, a4 = zero, a5 = zero, a6 = zero, a7 = zero;
            float* w = laidOut;
            int k = 0;
            // Two taps per pass: the loop's own instructions take less of each pass's 16 multiply-adds.
            for (; k + 2 <= s.Taps; k += 2, w += 2 * Filters)
            {
                int d = offsets[k], e = offsets[k + 1];
                Tap(Vector512.Load(w), q0 + d, q1 + d, q2 + d, q3 + d, q4 + d, q5 + d, q6 + d, q7 + d, ref a0, ref a1, ref a2, ref a3, ref a4, ref a5, ref a6, ref a7);
                Tap(Vector512.Load(w + Filters), q0 + e, q1 + e, q2 + e, q3 + e, q4 + e, q5 + e, q6 + e, q7 + e, ref a0, ref a1, ref a2, ref a3, ref a4, ref a5, ref a6, ref a7);
            }
            if (k < s.Taps)
            {
                int d = offsets[k];
                Tap(Vector512.Load(w), q0 + d, q1 + d, q2 + d, q3 + d, q4 + d, q5 + d, q6 + d, q7 + d, ref a0, ref a1, ref a2, ref a3, ref a4, ref a5, ref a6, ref a7);
            }
            Activate.Apply(a0 + biases, activation).Store(tile);
            Activate.Apply(a1 + biases, activation).Store(tile + Filters);
            Activate.Apply(a2 + biases, activation).Store(tile + 2 * Filters);
            Activate.Apply(a3 + biases, activation).Store(tile + 3 * Filters);
            Activate.Apply(a4 + biases, activation).Store(tile + 4 * Filters);
            Activate.Apply(a5 + biases, activation).Store(tile + 5 * Filters);
            Activate.Apply(a6 + biases, activation).Store(tile + 6 * Filters);
            Activate.Apply(a7 + biases, activation).Store(tile + 7 * Filters);
            // Filter f's values at the group's positions are column f of the tile; the positions are consecutive in its plane.
            for (int f = 0; f < Filters; f++)
            {
                float* to = output + f * plane + p0;
                if (n == Group) Vector256.Store(Avx2.GatherVector256(tile + f, gatherColumn, sizeof(float)), to);
                else for (int j = 0; j < n; j++) to[j] = tile[j * Filters + f];
            }
        }
    }

    /// <summary>One tap's 16 weights <paramref name="v"/> times each of the 8 positions' input value at that tap, added to
    /// its sums.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Tap(Vector512<float> v, float* x0, float* x1, float* x2, float* x3, float* x4, float* x5, float* x6, float* x7,
        ref Vector512<float> a0, ref Vector512<float> a1, ref Vector512<float> a2, ref Vector512<float> a3,
        ref Vector512<float> a4, ref Vector512<float> a5, ref Vector512<float> a6, ref Vector512<float> a7)
    {
        a0 = Avx512F.FusedMultiplyAdd(v, Vector512.Create(*x0), a0);
        a1 = Avx512F.FusedMultiplyAdd(v, Vector512.Create(*x1), a1);
        a2 = Avx512F.FusedMultiplyAdd(v, Vector512.Create(*x2), a2);
        a3 = Avx512F.FusedMultiplyAdd(v, Vector512.Create(*x3), a3);
        a4 = Avx512F.FusedMultiplyAdd(v, Vector512.Create(*x4), a4);
        a5 = Avx512F.FusedMultiplyAdd(v, Vector512.Create(*x5), a5);
        a6 = Avx512F.FusedMultiplyAdd(v, Vector512.Create(*x6), a6);
        a7 = Avx512F.FusedMultiplyAdd(v, Vector512.Create(*x7), a7);
    }

    /// <summary>Where the window of the group's position <paramref name="j"/> starts in the padded input (a group of
    /// fewer than 8 positions repeats its last).</summary>
    private static int Origin(int p0, int n, int j, in Shape s)
    {
        int p = p0 + Math.Min(j, n - 1);
        return p / s.OutWidth * s.PaddedWidth + p % s.OutWidth;
    }
}
