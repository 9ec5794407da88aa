using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CnnGen.Kernels;

/// <summary>
/// Max pooling with a 2x2 window and stride 2, no padding (the common case), forward and backward. Each output keeps
/// the first maximum of its window in the order (0,0), (0,1), (1,0), (1,1), a NaN winning as in PyTorch, and the
/// winner's index within its input plane; the vector and scalar paths choose the same winners.
/// </summary>
public static unsafe class Pooling
{
    /// <summary>Pools <paramref name="planes"/> planes of <paramref name="height"/> x <paramref name="width"/> values.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MaxPool2x2(ReadOnlySpan<float> input, Span<float> output, Span<int> argmax, int planes, int height, int width)
    {
        int outH = height / 2, outW = width / 2, planeIn = height * width, planeOut = outH * outW;
        if (input.Length < (long)planes * planeIn || output.Length < (long)planes * planeOut || argmax.Length < (long)planes * planeOut)
            throw new ArgumentException("Pooling.MaxPool2x2: spans too short for the given shape.");
        fixed (float* px = input, py = output)
        fixed (int* pa = argmax)
        {
            if (Avx512F.IsSupported && outW <= 16)
            {
                Vector2x2(px, py, pa, planes, planeIn, width, outH, outW);
                return;
            }
            for (int plane = 0; plane < planes; plane++)
            {
                float* x = px + (long)plane * planeIn;
                float* y = py + (long)plane * planeOut;
                int* a = pa + (long)plane * planeOut;
                for (int oy = 0; oy < outH; oy++)
                for (int ox = 0; ox < outW; ox++)
                {
                    int i0 = 2 * oy * width + 2 * ox;
                    float max = x[i0];
                    int best = i0;
                    Take(x, i0 + 1, ref max, ref best);
                    Take(x, i0 + width, ref max, ref best);
                    Take(x, i0 + width + 1, ref max, ref best);
                    y[oy * outW + ox] = max;
                    a[oy * outW + ox] = best;
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Take(float* x, int index, ref float max, ref int best)
    {
        float v = x[index];
        if (v > max || float.IsNaN(v)) { max = v; best = index; }
    }

    /// <summary>One output row (at most 16 values) per step: the 2 x 2 * outW inputs are two masked loads per input row,
    /// split into even and odd columns by a two-source permute.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Vector2x2(float* px, float* py, int* pa, int planes, int planeIn, int width, int outH, int outW)
    {
        int planeOut = outH * outW;
        var lane = Vector512.Create(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
        var even = lane * 2;                     // columns 0, 2, 4, ... of the 32 values in two vectors
        var odd = even + Vector512<int>.One;
        var outMask = Vector512.LessThan(lane, Vector512.Create(outW)).AsSingle();
        var loMask = Vector512.LessThan(lane, Vector512.Create(2 * outW)).AsSingle();
        var hiMask = Vector512.LessThan(lane + Vector512.Create(16), Vector512.Create(2 * outW)).AsSingle();
        var zero = Vector512<float>.Zero;
        for (int plane = 0; plane < planes; plane++)
        {
            float* x = px + (long)plane * planeIn;
            float* y = py + (long)plane * planeOut;
            int* a = pa + (long)plane * planeOut;
            for (int oy = 0; oy < outH; oy++)
            {
                int top = 2 * oy * width, bottom = top + width;
                var t0 = Avx512F.MaskLoad(x + top, loMask, zero);
                var t1 = Avx512F.MaskLoad(x + top + 16, hiMask, zero);
                var b0 = Avx512F.MaskLoad(x + bottom, loMask, zero);
                var b1 = Avx512F.MaskLoad(x + bottom + 16, hiMask, zero);
                var max = Avx512F.PermuteVar16x32x2(t0, even, t1);
                var index = Vector512.Create(top) + even;
                Take(Avx512F.PermuteVar16x32x2(t0, odd, t1), Vector512.Create(top) + odd, ref max, ref index);
                Take(Avx512F.PermuteVar16x32x2(b0, even, b1), Vector512.Create(bottom) + even, ref max, ref index);
                Take(Avx512F.PermuteVar16x32x2(b0, odd, b1), Vector512.Create(bottom) + odd, ref max, ref index);
                Avx512F.MaskStore(y + oy * outW, outMask, max);
                Avx512F.MaskStore((float*)(a + oy * outW), outMask, index.AsSingle());
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Take(Vector512<float> v, Vector512<int> candidate, ref Vector512<float> max, ref Vector512<int> index)
    {
        // v > max, or v is NaN (v != v)
        var take = Vector512.GreaterThan(v, max) | ~Vector512.Equals(v, v);
        max = Vector512.ConditionalSelect(take, v, max);
        index = Vector512.ConditionalSelect(take.AsInt32(), candidate, index);
    }

    /// <summary>Routes each output's gradient to its window's winner; <paramref name="inputGradient"/> is overwritten.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MaxPoolBackward(ReadOnlySpan<float> outputGradient, ReadOnlySpan<int> argmax, Span<float> inputGradient,
        int planes, int planeIn, int planeOut)
    {
        if (outputGradient.Length < (long)planes * planeOut || argmax.Length < (long)planes * planeOut || inputGradient.Length < (long)planes * planeIn)
            throw new ArgumentException("Pooling.MaxPoolBackward: spans too short for the given shape.");
        inputGradient[..(planes * planeIn)].Clear();
        fixed (float* pdy = outputGradient, pdx = inputGradient)
        fixed (int* pa = argmax)
        {
            for (int plane = 0; plane < planes; plane++)
            {
                float* dx = pdx + (long)plane * planeIn;
                float* dy = pdy + (long)plane * planeOut;
                int* a = pa + (long)plane * planeOut;
                for (int o = 0; o < planeOut; o++) dx[a[o]] += dy[o];
            }
        }
    }
}
