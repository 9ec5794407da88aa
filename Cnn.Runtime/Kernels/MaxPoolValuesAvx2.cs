using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CnnGen.Kernels;

public static unsafe partial class Pooling
{
    /// <summary>
    /// <see cref="MaxPoolValues"/> at strides 1 and 2 on machines with AVX2 but not AVX-512: eight outputs of a row at a
    /// time wherever their windows lie inside the row, each window folded in <see cref="ScalarValues"/>' order (its first
    /// value, then row by row, column by column), one lane per output; the windows an edge clips fold one by one. The
    /// same values in the same order: the same bits.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ValuesAvx2(float* px, float* py, int planes, int height, int width, int size, int stride, int padding, int outHeight, int outWidth)
    {
        // Outputs [firstWhole, endWhole) have every window column inside the row: column ox * stride - padding >= 0 and,
        // for the last lane of a vector of eight, its window's last column and the columns its loads read below width.
        int firstWhole = Math.Min(outWidth, (padding + stride - 1) / stride);
        int reach = stride == 1 ? 8 : 16; // columns one vector's load covers from its first lane's column
        for (int plane = 0; plane < planes; plane++)
        {
            float* x = px + (long)plane * height * width;
            float* y = py + (long)plane * outHeight * outWidth;
            for (int oy = 0; oy < outHeight; oy++)
            {
                int y0 = Math.Max(oy * stride - padding, 0), y1 = Math.Min(oy * stride - padding + size, height);
                float* to = y + oy * outWidth;
                int ox = 0;
                for (; ox < firstWhole; ox++) to[ox] = Window(x, width, y0, y1, ox * stride - padding, size);
                for (; ox + 8 <= outWidth && ox * stride - padding + size - 1 + reach <= width; ox += 8)
                {
                    float* corner = x + y0 * width + ox * stride - padding;
                    var max = StridedLanes256.Load(corner, stride);
                    for (int iy = 0; iy < y1 - y0; iy++)
                        for (int kx = 0; kx < size; kx++)
                            max = Fold(max, StridedLanes256.Load(corner + iy * width + kx, stride));
                    max.Store(to + ox);
                }
                for (; ox < outWidth; ox++) to[ox] = Window(x, width, y0, y1, ox * stride - padding, size);
            }
        }
    }

    /// <summary>One window's maximum, its columns clipped to the row (<see cref="ScalarValues"/>' fold).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Window(float* x, int width, int y0, int y1, int left, int size)
    {
        int x0 = Math.Max(left, 0), x1 = Math.Min(left + size, width);
        float max = x[y0 * width + x0];
        for (int iy = y0; iy < y1; iy++)
            for (int ix = x0; ix < x1; ix++)
                max = Fold(max, x[iy * width + ix]);
        return max;
    }

    /// <summary><see cref="Fold(float, float)"/> lane by lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<float> Fold(Vector256<float> max, Vector256<float> v)
    {
        var take = Vector256.GreaterThan(v, max) | ~Vector256.Equals(v, v);
        return Vector256.ConditionalSelect(take, v, max);
    }
}
