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
                else Avx.MaskStore(to + ox, StridedLanes256.First(lanes), acc);
            }
        }
    }

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
