using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CnnGen.Kernels;

/// <summary>
/// The backward pass of a 2x2 max pool at stride 2 without padding (<see cref="MaxPool2x2"/>'s), alone or with the ReLU
/// before it. Its windows do not overlap, so on AVX-512 every input's gradient is written once: its window's output
/// gradient where it won, zero where it did not and in a last odd row or column that no window covers. The general
/// kernels clear the whole input gradient first and then add each output's gradient to its winner, two passes over it.
/// The bits are theirs: a winner gets <c>+0 + g</c>, the sum they add to the +0 it was cleared to. Without AVX-512, or
/// for rows of fewer than <see cref="RowWindows"/> windows, this calls them: a row's windows are a vector's outputs, and
/// shorter rows left most lanes idle (a CIFAR VGG's 128 x 8 x 8 planes, 12 images: 53-55 us against 41 clearing and
/// adding; its 32 x 32 x 32 ones 48-63 against 97-100).
/// </summary>
public static unsafe partial class Pooling
{
    /// <summary>Windows in a row from which the backward pass writes each input once.</summary>
    public const int RowWindows = 16;

    /// <summary><see cref="MaxPoolBackward"/> of <see cref="MaxPool2x2"/>: <paramref name="planes"/> planes of
    /// <paramref name="height"/> x <paramref name="width"/> inputs; <paramref name="inputGradient"/> is overwritten.</summary>
    public static void MaxPool2x2Backward(ReadOnlySpan<float> outputGradient, ReadOnlySpan<int> argmax, Span<float> inputGradient,
        int planes, int height, int width)
    {
        int planeOut = CheckHalving(outputGradient.Length, argmax.Length, outputGradient.Length, inputGradient.Length, planes, height, width,
            nameof(MaxPool2x2Backward));
        if (!Avx512F.IsSupported || width / 2 < RowWindows)
        {
            MaxPoolBackward(outputGradient, argmax, inputGradient, planes, height * width, planeOut);
            return;
        }
        fixed (float* pdy = outputGradient, pdx = inputGradient)
        fixed (int* pa = argmax)
            Route2x2(pdy, pa, null, pdx, planes, height, width);
    }

    /// <summary><see cref="MaxPoolReluBackward"/> of <see cref="MaxPool2x2"/>: the gradient goes only to winners above
    /// zero (the pool's own <paramref name="output"/>), so <paramref name="inputGradient"/>, overwritten, is the gradient
    /// of the ReLU's input.</summary>
    public static void MaxPool2x2ReluBackward(ReadOnlySpan<float> outputGradient, ReadOnlySpan<int> argmax, ReadOnlySpan<float> output,
        Span<float> inputGradient, int planes, int height, int width)
    {
        int planeOut = CheckHalving(outputGradient.Length, argmax.Length, output.Length, inputGradient.Length, planes, height, width,
            nameof(MaxPool2x2ReluBackward));
        if (!Avx512F.IsSupported || width / 2 < RowWindows)
        {
            MaxPoolReluBackward(outputGradient, argmax, output, inputGradient, planes, height * width, planeOut);
            return;
        }
        fixed (float* pdy = outputGradient, py = output, pdx = inputGradient)
        fixed (int* pa = argmax)
            Route2x2(pdy, pa, py, pdx, planes, height, width);
    }

    /// <summary>The outputs per plane, once the shape and the spans' lengths are checked.</summary>
    private static int CheckHalving(int gradientLength, int argmaxLength, int outputLength, int inputGradientLength, int planes, int height,
        int width, string kernel)
    {
        if (planes < 0 || height < 2 || width < 2)
            throw new ArgumentException($"Pooling.{kernel}: the planes must not be negative and each at least 2 x 2.");
        long planeOut = (long)(height / 2) * (width / 2);
        if (gradientLength < planes * planeOut || argmaxLength < planes * planeOut || outputLength < planes * planeOut
            || inputGradientLength < (long)planes * height * width)
            throw new ArgumentException($"Pooling.{kernel}: spans too short for the given shape.");
        return (int)planeOut;
    }

    /// <summary>Each output row's windows 16 at a time: the output gradients (zero where <paramref name="py"/>, when
    /// given, is not above zero) selected into the window's four places by the winners' indices, the even and odd
    /// columns of each input row interleaved by a two-source permute and stored, a partial group under masks.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Route2x2(float* pdy, int* pa, float* py, float* pdx, int planes, int height, int width)
    {
        int outH = height / 2, outW = width / 2, planeIn = height * width, planeOut = outH * outW;
        var lane = Vector512.Create(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
        var even = lane * 2;
        var low = Vector512.Create(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);   // lanes 0-7 of the two, alternating
        var high = low + Vector512.Create(8);                                                 // lanes 8-15
        var zero = Vector512<float>.Zero;
        for (int plane = 0; plane < planes; plane++)
        {
            float* dx = pdx + (long)plane * planeIn;
            long first = (long)plane * planeOut;
            for (int oy = 0; oy < outH; oy++)
            {
                int top = 2 * oy * width;
                for (int ox = 0; ox < outW; ox += 16)
                {
                    int count = Math.Min(16, outW - ox);
                    var outMask = Vector512.LessThan(lane, Vector512.Create(count)).AsSingle();
                    var lowMask = Vector512.LessThan(lane, Vector512.Create(2 * count)).AsSingle();
                    var highMask = Vector512.LessThan(lane + Vector512.Create(16), Vector512.Create(2 * count)).AsSingle();
                    long o = first + oy * outW + ox;
                    var g = Avx512F.MaskLoad(pdy + o, outMask, zero);
                    if (py != null) g = Vector512.ConditionalSelect(Vector512.GreaterThan(Avx512F.MaskLoad(py + o, outMask, zero), zero), g, zero);
                    g = zero + g; // the cleared +0 plus the gradient: a -0 becomes +0, as the general kernels' sum
                    var winner = Avx512F.MaskLoad((float*)(pa + o), outMask, zero).AsInt32();
                    var column = Vector512.Create(top + 2 * ox) + even;
                    StoreRow(dx + top + 2 * ox, Place(winner, column, g), Place(winner, column + Vector512<int>.One, g), low, high, lowMask, highMask);
                    column += Vector512.Create(width);
                    StoreRow(dx + top + width + 2 * ox, Place(winner, column, g), Place(winner, column + Vector512<int>.One, g), low, high, lowMask, highMask);
                }
                if ((width & 1) != 0)
                {
                    dx[top + width - 1] = 0f;
                    dx[top + 2 * width - 1] = 0f;
                }
            }
            if ((height & 1) != 0) new Span<float>(dx + (height - 1) * width, width).Clear();
        }
    }

    /// <summary>The gradient where the window's winner is this place, else zero.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Place(Vector512<int> winner, Vector512<int> place, Vector512<float> g) =>
        Vector512.ConditionalSelect(Vector512.Equals(winner, place).AsSingle(), g, Vector512<float>.Zero);

    /// <summary>Stores one input row's 2 x 16 values: the even columns' and the odd columns' interleaved.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRow(float* row, Vector512<float> evens, Vector512<float> odds, Vector512<int> low, Vector512<int> high,
        Vector512<float> lowMask, Vector512<float> highMask)
    {
        Avx512F.MaskStore(row, lowMask, Avx512F.PermuteVar16x32x2(evens, low, odds));
        Avx512F.MaskStore(row + 16, highMask, Avx512F.PermuteVar16x32x2(evens, high, odds));
    }
}
