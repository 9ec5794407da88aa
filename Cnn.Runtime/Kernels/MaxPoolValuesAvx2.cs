using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CnnGen.Kernels;

public static unsafe partial class Pooling
{
    /// <summary>
    /// <see cref="MaxPoolValues"/> at strides 1 and 2 on machines with AVX2 but not AVX-512: eight outputs of a row at a
    /// time, each window folded in <see cref="ScalarValues"/>' order (row by row, column by column), one lane per output.
    /// Window columns outside the row are lanes masked off the load that read as minus infinity, which never wins against
    /// a value and is itself the result when all the window's values are minus infinity (the rule of the separable path):
    /// the same bits as the scalar fold over the clipped window.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ValuesAvx2(float* px, float* py, int planes, int height, int width, int size, int stride, int padding, int outHeight, int outWidth)
    {
        int reach = stride == 1 ? 8 : 16; // columns one vector's load covers from its first lane's column
        for (int plane = 0; plane < planes; plane++)
        {
            float* x = px + (long)plane * height * width;
            float* y = py + (long)plane * outHeight * outWidth;
            for (int oy = 0; oy < outHeight; oy++)
            {
                int y0 = Math.Max(oy * stride - padding, 0), y1 = Math.Min(oy * stride - padding + size, height);
                float* to = y + oy * outWidth;
                for (int ox = 0; ox < outWidth; ox += 8)
                {
                    int left = ox * stride - padding;
                    bool inside = left >= 0 && left + size - 1 + reach <= width;
                    float* row = x + y0 * width;
                    var max = inside ? StridedLanes256.Load(row + left, stride) : MinusInfinityOutside(row, left, stride, width);
                    for (int iy = y0; iy < y1; iy++, row += width)
                        for (int kx = 0; kx < size; kx++)
                            max = Fold(max, inside ? StridedLanes256.Load(row + left + kx, stride) : MinusInfinityOutside(row, left + kx, stride, width));
                    if (ox + 8 <= outWidth) max.Store(to + ox);
                    else StridedLanes256.StoreFirst(to + ox, max, outWidth - ox);
                }
            }
        }
    }

    /// <summary>Output rows longer than this at stride 2 take <see cref="ValuesPhasesAvx2"/>.</summary>
    private const int PhasesFromWidth = 8;

    /// <summary>This thread's copy of a plane's rows as their even and odd columns (pinned).</summary>
    [ThreadStatic] private static float[]? t_phases;

    /// <summary>
    /// <see cref="ValuesAvx2"/> at stride 2 from a copy of each plane's rows as their even padded columns, then their odd
    /// ones, minus infinity around and past the row: window column <c>2ox + kx</c> is the even half at <c>ox + kx / 2</c>
    /// (kx even) or the odd half at <c>ox + kx / 2</c> (kx odd), so every tap of eight outputs is one plain load where
    /// <see cref="ValuesAvx2"/> took the even lanes of two (a shuffle and a permute) and, at a row's ends, two masked
    /// loads and two blends. The same folds in the same order over the same values: the same bits. A 3x3 window's three
    /// taps of a row are written out (ResNet-18's 64 x 112 x 112 -> 56 x 56 pool: 460-493 us against 890-896 with the
    /// loop over the window's columns, one thread, medians of 41 calls alternating in one process).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ValuesPhasesAvx2(float* px, float* py, int planes, int height, int width, int size, int padding, int outHeight, int outWidth)
    {
        int half = StridedLanes256.PhaseHalf(outWidth, size, width, padding);
        float* copy = ThreadScratch.PinnedAtLeast(ref t_phases, (long)height * 2 * half);
        var minusInfinity = Vector256.Create(float.NegativeInfinity);
        for (int plane = 0; plane < planes; plane++)
        {
            float* x = px + (long)plane * height * width;
            float* y = py + (long)plane * outHeight * outWidth;
            for (int iy = 0; iy < height; iy++)
                StridedLanes256.SplitPhases(x + (long)iy * width, width, padding, copy + (long)iy * 2 * half, half, minusInfinity);
            for (int oy = 0; oy < outHeight; oy++)
            {
                int y0 = Math.Max(oy * 2 - padding, 0), y1 = Math.Min(oy * 2 - padding + size, height);
                float* to = y + oy * outWidth;
                for (int ox = 0; ox < outWidth; ox += 8)
                {
                    float* row = copy + (long)y0 * 2 * half + ox;
                    var max = Avx.LoadVector256(row);
                    if (size == 3) // the taps written out: no loop over columns, no test of their parity
                        for (int iy = y0; iy < y1; iy++, row += 2 * half)
                        {
                            max = Fold(max, Avx.LoadVector256(row));
                            max = Fold(max, Avx.LoadVector256(row + half));
                            max = Fold(max, Avx.LoadVector256(row + 1));
                        }
                    else
                    for (int iy = y0; iy < y1; iy++, row += 2 * half)
                        for (int kx = 0; kx < size; kx++)
                            max = Fold(max, Avx.LoadVector256(row + (kx % 2 == 0 ? 0 : half) + kx / 2));
                    if (ox + 8 <= outWidth) max.Store(to + ox);
                    else StridedLanes256.StoreFirst(to + ox, max, outWidth - ox);
                }
            }
        }
    }

    /// <summary>
    /// <see cref="ValuesAvx2"/> at stride 1 from a copy of each plane's rows with minus infinity before and after them:
    /// window column <c>ox + kx - padding</c> is the copy's column <c>ox + kx</c>, so every tap of eight outputs is one
    /// plain load, at a row's ends too, where <see cref="ValuesAvx2"/> built a mask and blended for every tap of a vector
    /// that an end cuts (every vector of a row of 14 or fewer). The same folds in the same order over the same values:
    /// the same bits. GoogLeNet's 3x3 pools beside its inception convolutions, one thread, medians of 41 calls
    /// alternating in one process, us: 192 x 28 x 28 641 / 344 -> 245 / 157, 480 x 14 x 14 450 / 455 -> 196 / 203,
    /// 832 x 7 x 7 214 / 217 -> 124 / 128 (two runs); 64 x 56 x 56 722 / 728 -> 249 / 257.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ValuesPaddedRowsAvx2(float* px, float* py, int planes, int height, int width, int size, int padding, int outHeight, int outWidth)
    {
        int span = (outWidth + 7) / 8 * 8 + size - 1; // columns the vectors of a row read
        float* copy = ThreadScratch.PinnedAtLeast(ref t_phases, (long)height * span);
        var minusInfinity = Vector256.Create(float.NegativeInfinity);
        int inside = Math.Min(width, span - padding); // input columns that land in the copy
        for (int plane = 0; plane < planes; plane++)
        {
            float* x = px + (long)plane * height * width;
            float* y = py + (long)plane * outHeight * outWidth;
            for (int iy = 0; iy < height; iy++)
            {
                float* to = copy + (long)iy * span, from = x + (long)iy * width;
                int c = 0;
                for (; c + 8 <= span; c += 8) minusInfinity.Store(to + c);
                for (; c < span; c++) to[c] = float.NegativeInfinity;
                c = 0;
                for (; c + 8 <= inside; c += 8) Avx.LoadVector256(from + c).Store(to + padding + c);
                for (; c < inside; c++) to[padding + c] = from[c];
            }
            for (int oy = 0; oy < outHeight; oy++)
            {
                int y0 = Math.Max(oy - padding, 0), y1 = Math.Min(oy - padding + size, height);
                float* to = y + oy * outWidth;
                for (int ox = 0; ox < outWidth; ox += 8)
                {
                    float* row = copy + (long)y0 * span + ox;
                    var max = Avx.LoadVector256(row);
                    if (size == 3) // the taps written out
                        for (int iy = y0; iy < y1; iy++, row += span)
                        {
                            max = Fold(max, Avx.LoadVector256(row));
                            max = Fold(max, Avx.LoadVector256(row + 1));
                            max = Fold(max, Avx.LoadVector256(row + 2));
                        }
                    else
                        for (int iy = y0; iy < y1; iy++, row += span)
                            for (int kx = 0; kx < size; kx++)
                                max = Fold(max, Avx.LoadVector256(row + kx));
                    if (ox + 8 <= outWidth) max.Store(to + ox);
                    else StridedLanes256.StoreFirst(to + ox, max, outWidth - ox);
                }
            }
        }
    }

    /// <summary><see cref="StridedLanes256.Load"/> from column <paramref name="column"/> of <paramref name="row"/>, columns
    /// outside <c>[0, width)</c> read as minus infinity (never loaded).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> MinusInfinityOutside(float* row, int column, int stride, int width)
    {
        var position = Vector256.Create(column) + Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7);
        var minusInfinity = Vector256.Create(float.NegativeInfinity);
        var inLow = StridedLanes256.Inside(position, width);
        var low = Vector256.ConditionalSelect(inLow, Avx.MaskLoad(row + column, inLow), minusInfinity);
        if (stride == 1) return low;
        var inHigh = StridedLanes256.Inside(position + Vector256.Create(8), width);
        var high = Vector256.ConditionalSelect(inHigh, Avx.MaskLoad(row + column + 8, inHigh), minusInfinity);
        return StridedLanes256.Even(low, high);
    }

    /// <summary><see cref="Fold(float, float)"/> lane by lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<float> Fold(Vector256<float> max, Vector256<float> v)
    {
        var take = Vector256.GreaterThan(v, max) | ~Vector256.Equals(v, v);
        return Vector256.ConditionalSelect(take, v, max);
    }
}
