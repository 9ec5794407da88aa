using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CnnGen.Kernels;

/// <summary>
/// 2x2 average pooling with stride 2 and no padding (DenseNet's transitions): each output is
/// <c>(((0 + x[2oy, 2ox]) + x[2oy, 2ox + 1]) + x[2oy + 1, 2ox]) + x[2oy + 1, 2ox + 1]) / 4</c>, the window's values
/// added in index order as the general pooling loop adds them, so every path gives its bits. With AVX-512, 16 outputs
/// at a time: two input rows of 32 values, their even and odd columns picked apart into four vectors; with AVX2 alone,
/// 8 at a time the same way (DenseNet-121's first transition, averaged first, in the pass: 1,998-2,033 -> 1,029 us,
/// one value at a time before).
/// </summary>
public static unsafe class AveragePool2x2
{
    /// <summary>Picks the even columns (0, 2, ..., 30) of two consecutive vectors.</summary>
    private static readonly Vector512<int> Even = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);

    /// <summary>Picks the odd columns (1, 3, ..., 31) of two consecutive vectors.</summary>
    private static readonly Vector512<int> Odd = Vector512.Create(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);

    /// <summary>
    /// <paramref name="planes"/> planes of <paramref name="height"/> x <paramref name="width"/> values in
    /// <paramref name="x"/> pooled into planes of <paramref name="outHeight"/> x <paramref name="outWidth"/> in
    /// <paramref name="y"/>; the output sizes are the input's halved, rounded down.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Forward(ReadOnlySpan<float> x, Span<float> y, int planes, int height, int width, int outHeight, int outWidth)
    {
        Check(nameof(Forward), x, y, planes, height, width, outHeight, outWidth);
        fixed (float* px = x, py = y)
            for (long plane = 0; plane < planes; plane++) Plane(px, py, plane, height, width, outHeight, outWidth, default(AsStored));
    }

    /// <summary>
    /// <see cref="Forward"/> of the input normalised and rectified as it is read: each value
    /// <c>relu(x * scale[c] + shift[c])</c> (a multiplication, then an addition, then the ReLU: <see cref="BatchNorm.Apply"/>'s
    /// bits), plane <c>p</c> being channel <c>p % channels</c>; the bits of the BatchNorm's pass with its ReLU, then this
    /// pool. DenseNet's transitions (<c>BatchNorm, ReLU, 1x1 conv, 2x2 average</c>) average their input first, and so
    /// never write the normalised map.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ForwardNormalized(ReadOnlySpan<float> x, Span<float> y, int planes, int height, int width, int outHeight, int outWidth,
        ReadOnlySpan<float> scale, ReadOnlySpan<float> shift, int channels)
    {
        Check(nameof(ForwardNormalized), x, y, planes, height, width, outHeight, outWidth);
        if (channels < 1 || scale.Length < channels || shift.Length < channels)
            throw new ArgumentException($"AveragePool2x2.ForwardNormalized: {channels} channels need that many scales and shifts ({scale.Length} and {shift.Length}).");
        fixed (float* px = x, py = y)
            for (long plane = 0; plane < planes; plane++)
                Plane(px, py, plane, height, width, outHeight, outWidth, new Normalized(scale[(int)(plane % channels)], shift[(int)(plane % channels)]));
    }

    /// <summary>The checks of both entry points, named in their messages.</summary>
    private static void Check(string method, ReadOnlySpan<float> x, Span<float> y, int planes, int height, int width, int outHeight, int outWidth)
    {
        if (planes < 0 || height < 2 || width < 2 || outHeight != height / 2 || outWidth != width / 2)
            throw new ArgumentException($"AveragePool2x2.{method}: {height}x{width} planes pool into {height / 2}x{width / 2}, not {outHeight}x{outWidth}.");
        if (x.Length < planes * (long)height * width || y.Length < planes * (long)outHeight * outWidth)
            throw new ArgumentException($"AveragePool2x2.{method}: spans too short for {planes} planes of {height}x{width} -> {outHeight}x{outWidth}.");
    }

    /// <summary>One plane, each value read through <paramref name="read"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Plane<TRead>(float* x, float* y, long plane, int height, int width, int outHeight, int outWidth, TRead read) where TRead : struct, IRead
    {
        long planeIn = (long)height * width, planeOut = (long)outHeight * outWidth;
        for (int oy = 0; oy < outHeight; oy++)
        {
            float* row0 = x + plane * planeIn + 2L * oy * width, row1 = row0 + width;
            float* output = y + plane * planeOut + (long)oy * outWidth;
            if (Avx512F.IsSupported) RowAvx512(row0, row1, output, outWidth, read);
            else if (Avx2.IsSupported) RowAvx2(row0, row1, output, outWidth, read);
            else Row(row0, row1, output, outWidth, read);
        }
    }

    /// <summary>How a value is read: as stored, or normalised and rectified.</summary>
    private interface IRead
    {
        float Apply(float v);
        Vector256<float> Apply(Vector256<float> v);
        Vector512<float> Apply(Vector512<float> v);
    }

    private readonly struct AsStored : IRead
    {
        public float Apply(float v) => v;
        public Vector256<float> Apply(Vector256<float> v) => v;
        public Vector512<float> Apply(Vector512<float> v) => v;
    }

    /// <summary>Read as <see cref="BatchNorm.Apply"/> with its ReLU writes it (<see cref="BatchNorm.Normalize(float, float, float, FusedActivation)"/>).</summary>
    private readonly struct Normalized(float scale, float shift) : IRead
    {
        private readonly float _scale = scale, _shift = shift;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public float Apply(float v) => BatchNorm.Normalize(v, _scale, _shift, FusedActivation.Relu);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector256<float> Apply(Vector256<float> v) =>
            BatchNorm.Normalize(v, Vector256.Create(_scale), Vector256.Create(_shift), FusedActivation.Relu);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector512<float> Apply(Vector512<float> v) =>
            BatchNorm.Normalize(v, Vector512.Create(_scale), Vector512.Create(_shift), FusedActivation.Relu);
    }

    /// <summary>One output row, one output at a time.</summary>
    private static void Row<TRead>(float* row0, float* row1, float* output, int outWidth, TRead read) where TRead : struct, IRead
    {
        for (int ox = 0; ox < outWidth; ox++)
        {
            float sum = 0f;
            sum += read.Apply(row0[2 * ox]);
            sum += read.Apply(row0[2 * ox + 1]);
            sum += read.Apply(row1[2 * ox]);
            sum += read.Apply(row1[2 * ox + 1]);
            output[ox] = sum / 4f;
        }
    }

    /// <summary>One output row, 16 outputs at a time, the last up to 15 under masks (which load nothing past the row; the
    /// lanes they leave are read as zeros and never stored).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void RowAvx512<TRead>(float* row0, float* row1, float* output, int outWidth, TRead read) where TRead : struct, IRead
    {
        int ox = 0;
        for (; ox + 16 <= outWidth; ox += 16)
        {
            var top0 = read.Apply(Vector512.Load(row0 + 2 * ox));
            var top1 = read.Apply(Vector512.Load(row0 + 2 * ox + 16));
            var bottom0 = read.Apply(Vector512.Load(row1 + 2 * ox));
            var bottom1 = read.Apply(Vector512.Load(row1 + 2 * ox + 16));
            Window(top0, top1, bottom0, bottom1).Store(output + ox);
        }
        int left = outWidth - ox;
        if (left == 0) return;
        // 2 * left input values of each row: the first vector's lanes, then the second's.
        var mask0 = LaneMask.First(2 * left);
        var mask1 = LaneMask.First(2 * left - 16);
        var t0 = read.Apply(Avx512F.MaskLoad(row0 + 2 * ox, mask0, Vector512<float>.Zero));
        var t1 = read.Apply(Avx512F.MaskLoad(row0 + 2 * ox + 16, mask1, Vector512<float>.Zero));
        var b0 = read.Apply(Avx512F.MaskLoad(row1 + 2 * ox, mask0, Vector512<float>.Zero));
        var b1 = read.Apply(Avx512F.MaskLoad(row1 + 2 * ox + 16, mask1, Vector512<float>.Zero));
        Avx512F.MaskStore(output + ox, LaneMask.First(left), Window(t0, t1, b0, b1));
    }

    /// <summary>One output row, 8 outputs at a time (AVX2: two input vectors of each row, their even and odd columns
    /// picked apart by <see cref="StridedLanes256"/>), the last up to 7 one at a time.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void RowAvx2<TRead>(float* row0, float* row1, float* output, int outWidth, TRead read) where TRead : struct, IRead
    {
        int ox = 0;
        for (; ox + 8 <= outWidth; ox += 8)
        {
            var top0 = read.Apply(Vector256.Load(row0 + 2 * ox));
            var top1 = read.Apply(Vector256.Load(row0 + 2 * ox + 8));
            var bottom0 = read.Apply(Vector256.Load(row1 + 2 * ox));
            var bottom1 = read.Apply(Vector256.Load(row1 + 2 * ox + 8));
            var sum = Vector256<float>.Zero + StridedLanes256.Even(top0, top1);
            sum += StridedLanes256.Odd(top0, top1);
            sum += StridedLanes256.Even(bottom0, bottom1);
            sum += StridedLanes256.Odd(bottom0, bottom1);
            (sum / Vector256.Create(4f)).Store(output + ox);
        }
        if (ox < outWidth) Row(row0 + 2 * ox, row1 + 2 * ox, output + ox, outWidth - ox, read);
    }

    /// <summary>16 windows' averages from 32 values of each of their two rows, in <see cref="Row"/>'s order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Window(Vector512<float> top0, Vector512<float> top1, Vector512<float> bottom0, Vector512<float> bottom1)
    {
        var sum = Vector512<float>.Zero + Avx512F.PermuteVar16x32x2(top0, Even, top1);
        sum += Avx512F.PermuteVar16x32x2(top0, Odd, top1);
        sum += Avx512F.PermuteVar16x32x2(bottom0, Even, bottom1);
        sum += Avx512F.PermuteVar16x32x2(bottom0, Odd, bottom1);
        return sum / Vector512.Create(4f);
    }
}
