using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CnnGen.Kernels;

/// <summary>
/// Max pooling forward, any window (<see cref="MaxPool"/>) and, with its own kernel, a 2x2 window at stride 2 without
/// padding (the common case), and backward. Each output keeps
/// the first maximum of its window in the order (0,0), (0,1), (1,0), (1,1), a NaN winning as in PyTorch, and the
/// winner's index within its input plane; the vector and scalar paths choose the same winners. Inference, which needs
/// no winners, runs <see cref="MaxPoolValues"/> (the same values).
/// </summary>
public static unsafe partial class Pooling
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

    /// <summary>
    /// Max pooling of any square window, stride and padding (windows clipped to the image, as padding or ceil mode need):
    /// <paramref name="planes"/> planes of <paramref name="height"/> x <paramref name="width"/> values to
    /// <paramref name="outHeight"/> x <paramref name="outWidth"/>. Each window's values are visited row by row from its
    /// first one and a value wins when it is above the maximum so far or NaN (the generated loops' rule, as PyTorch), so
    /// the vector path for strides 1 and 2 (16 outputs of a row at once, no branch) keeps the scalar path's winners.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MaxPool(ReadOnlySpan<float> input, Span<float> output, Span<int> argmax, int planes, int height, int width,
        int size, int stride, int padding, int outHeight, int outWidth)
    {
        int planeIn = height * width, planeOut = outHeight * outWidth;
        if (size < 1 || stride < 1 || padding < 0 || outHeight < 1 || outWidth < 1)
            throw new ArgumentException("Pooling.MaxPool: the window, stride and output must be positive and the padding not negative.");
        if (input.Length < (long)planes * planeIn || output.Length < (long)planes * planeOut || argmax.Length < (long)planes * planeOut)
            throw new ArgumentException("Pooling.MaxPool: spans too short for the given shape.");
        fixed (float* px = input, py = output)
        fixed (int* pa = argmax)
        {
            for (int plane = 0; plane < planes; plane++)
            {
                float* x = px + (long)plane * planeIn;
                float* y = py + (long)plane * planeOut;
                int* a = pa + (long)plane * planeOut;
                for (int oy = 0; oy < outHeight; oy++)
                {
                    int y0 = Math.Max(oy * stride - padding, 0), y1 = Math.Min(oy * stride - padding + size, height);
                    if (Avx512F.IsSupported && stride <= 2)
                        VectorWindowRow(x, y + oy * outWidth, a + oy * outWidth, width, size, stride, padding, outWidth, y0, y1);
                    else
                        ScalarWindowRow(x, y + oy * outWidth, a + oy * outWidth, width, size, stride, padding, outWidth, y0, y1);
                }
            }
        }
    }

    /// <summary>One output row, window by window: rows <c>[y0, y1)</c>, columns clipped to the image.</summary>
    private static void ScalarWindowRow(float* x, float* y, int* a, int width, int size, int stride, int padding, int outWidth, int y0, int y1)
    {
        for (int ox = 0; ox < outWidth; ox++)
        {
            int x0 = Math.Max(ox * stride - padding, 0), x1 = Math.Min(ox * stride - padding + size, width);
            int best = y0 * width + x0;
            float max = x[best];
            for (int iy = y0; iy < y1; iy++)
                for (int ix = x0; ix < x1; ix++)
                    Take(x, iy * width + ix, ref max, ref best);
            y[ox] = max;
            a[ox] = best;
        }
    }

    /// <summary>One output row, 16 windows at a time: for each window position (row, then column) the 16 values are one
    /// masked load (stride 1) or the even lanes of two (stride 2); a lane's first valid value starts its maximum, and
    /// later ones win by the scalar rule. Lanes outside the image or past the row take nothing.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void VectorWindowRow(float* x, float* y, int* a, int width, int size, int stride, int padding, int outWidth, int y0, int y1)
    {
        var lane = Vector512.Create(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
        var even = lane * 2;
        var zero = Vector512<float>.Zero;
        var limit = Vector512.Create(width);
        for (int c0 = 0; c0 < outWidth; c0 += 16)
        {
            var inRow = Vector512.LessThan(lane + Vector512.Create(c0), Vector512.Create(outWidth));
            var max = zero;
            var index = Vector512<int>.Zero;
            var seen = Vector512<int>.Zero;
            for (int iy = y0; iy < y1; iy++)
            {
                float* row = x + iy * width;
                for (int kx = 0; kx < size; kx++)
                {
                    int first = stride * c0 - padding + kx; // column of lane 0
                    var column = Vector512.Create(first) + lane * stride;
                    var valid = inRow & InImage(column, limit);
                    Vector512<float> v;
                    if (stride == 1)
                    {
                        v = Avx512F.MaskLoad(row + first, valid.AsSingle(), zero);
                    }
                    else
                    {
                        var position = Vector512.Create(first) + lane;
                        var low = Avx512F.MaskLoad(row + first, InImage(position, limit).AsSingle(), zero);
                        var high = Avx512F.MaskLoad(row + first + 16, InImage(position + Vector512.Create(16), limit).AsSingle(), zero);
                        v = Avx512F.PermuteVar16x32x2(low, even, high);
                    }
                    // First value of the window, or above the maximum, or NaN (v != v).
                    var take = valid & (~seen | Vector512.GreaterThan(v, max).AsInt32() | ~Vector512.Equals(v, v).AsInt32());
                    max = Vector512.ConditionalSelect(take.AsSingle(), v, max);
                    index = Vector512.ConditionalSelect(take, Vector512.Create(iy * width) + column, index);
                    seen |= valid;
                }
            }
            Avx512F.MaskStore(y + c0, inRow.AsSingle(), max);
            Avx512F.MaskStore((float*)(a + c0), inRow.AsSingle(), index.AsSingle());
        }
    }

    /// <summary>Lanes whose column lies in <c>[0, width)</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> InImage(Vector512<int> column, Vector512<int> width) =>
        Vector512.GreaterThanOrEqual(column, Vector512<int>.Zero) & Vector512.LessThan(column, width);

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

    /// <summary>
    /// <see cref="MaxPoolBackward"/> and the backward pass of a ReLU before the pool in one: each output's gradient goes
    /// to its window's winner only where the winner is above zero, which the pool's own <paramref name="output"/> (the
    /// winner's value) tells, so <paramref name="inputGradient"/> is the gradient of the ReLU's input. The bits of the two
    /// passes (<c>dx = y &gt; 0 ? dy : 0</c> after the routing): a winner not above zero (NaN included) gets +0 added to
    /// the +0 it is cleared to for each window it wins, where the ReLU would write +0 over the sum routed to it; a winner
    /// above zero gets the same sums in the same order. <paramref name="inputGradient"/> is overwritten.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MaxPoolReluBackward(ReadOnlySpan<float> outputGradient, ReadOnlySpan<int> argmax, ReadOnlySpan<float> output,
        Span<float> inputGradient, int planes, int planeIn, int planeOut)
    {
        if (outputGradient.Length < (long)planes * planeOut || argmax.Length < (long)planes * planeOut || output.Length < (long)planes * planeOut
            || inputGradient.Length < (long)planes * planeIn)
            throw new ArgumentException("Pooling.MaxPoolReluBackward: spans too short for the given shape.");
        inputGradient[..(planes * planeIn)].Clear();
        // The outputs' gradients masked first, a block at a time, by the ReLU's own backward (vectors, no branch on data:
        // about half the winners of a ReLU's output are zero, which a branch per output mispredicted), then routed as
        // MaxPoolBackward routes them.
        const int Block = 512;
        float* masked = stackalloc float[Block];
        fixed (float* pdy = outputGradient, py = output, pdx = inputGradient)
        fixed (int* pa = argmax)
        {
            for (int plane = 0; plane < planes; plane++)
            {
                float* dx = pdx + (long)plane * planeIn;
                for (int o0 = 0; o0 < planeOut; o0 += Block)
                {
                    long at = (long)plane * planeOut + o0;
                    int count = Math.Min(Block, planeOut - o0);
                    Activations.ReluBackward(new ReadOnlySpan<float>(py + at, count), new ReadOnlySpan<float>(pdy + at, count), new Span<float>(masked, count));
                    int* a = pa + at;
                    for (int j = 0; j < count; j++) dx[a[j]] += masked[j];
                }
            }
        }
    }
}
