using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CnnGen.Kernels;

/// <summary>
/// <see cref="Gemm.MultiplyTransposedB"/> on machines with AVX2 and FMA but not AVX-512, for depths that are whole chunks
/// of 16: each row of A against four rows of B at once, each output's two vectors of lane sums (lanes 0-7 and 8-15 of
/// <see cref="Gemm.Dot"/>) in registers, so eight chains of fused multiply-adds run side by side where one dot product
/// has two, each waiting on the last. The lane sums are folded in registers by <see cref="Gemm.FoldLanes(Vector256{float}, Vector256{float})"/>: the same bits as
/// <see cref="Gemm.Dot"/>. A classifier's weights read from memory once per image (1000 outputs, one thread, the caches
/// flushed before each call, medians of 41 calls alternating, two runs), us: depth 512 274 / 324 -> 254 / 302, 1024
/// 499 / 537 -> 370 / 397, 1280 538 / 618 -> 424 / 477. Fetching each row's lines 512 bytes ahead by hand made it
/// slower (1.07-1.27 times as long).
/// </summary>
internal static unsafe class DotRowsAvx2
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MultiplyTransposedB(float* a, float* b, float* c, int m, int n, int k, bool accumulate)
    {
        float* dots = stackalloc float[4];
        for (int i = 0; i < m; i++)
        {
            float* row = a + (long)i * k, to = c + (long)i * n;
            int j = 0;
            for (; j + 4 <= n; j += 4)
            {
                Four(row, b + (long)j * k, k, dots);
                for (int q = 0; q < 4; q++) to[j + q] = accumulate ? to[j + q] + dots[q] : dots[q];
            }
            for (; j < n; j++)
            {
                float dot = Gemm.Dot(new ReadOnlySpan<float>(row, k), new ReadOnlySpan<float>(b + (long)j * k, k));
                to[j] = accumulate ? to[j] + dot : dot;
            }
        }
    }

    /// <summary>The dot products of <paramref name="x"/> with rows 0 to 3 of <paramref name="rows"/> (each
    /// <paramref name="k"/> long, a multiple of 16) into <c>dots[q]</c>, each from its 16 lane sums.</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Four(float* x, float* rows, int k, float* dots)
    {
        float* r0 = rows, r1 = rows + k, r2 = rows + 2L * k, r3 = rows + 3L * k;
        Vector256<float> lo0 = default, hi0 = default, lo1 = default, hi1 = default, lo2 = default, hi2 = default, lo3 = default, hi3 = default;
        for (int p = 0; p < k; p += 16)
        {
            var xl = Vector256.Load(x + p);
            var xh = Vector256.Load(x + p + 8);
            lo0 = Fma.MultiplyAdd(xl, Vector256.Load(r0 + p), lo0); hi0 = Fma.MultiplyAdd(xh, Vector256.Load(r0 + p + 8), hi0);
            lo1 = Fma.MultiplyAdd(xl, Vector256.Load(r1 + p), lo1); hi1 = Fma.MultiplyAdd(xh, Vector256.Load(r1 + p + 8), hi1);
            lo2 = Fma.MultiplyAdd(xl, Vector256.Load(r2 + p), lo2); hi2 = Fma.MultiplyAdd(xh, Vector256.Load(r2 + p + 8), hi2);
            lo3 = Fma.MultiplyAdd(xl, Vector256.Load(r3 + p), lo3); hi3 = Fma.MultiplyAdd(xh, Vector256.Load(r3 + p + 8), hi3);
        }
        dots[0] = Gemm.FoldLanes(lo0, hi0);
        dots[1] = Gemm.FoldLanes(lo1, hi1);
        dots[2] = Gemm.FoldLanes(lo2, hi2);
        dots[3] = Gemm.FoldLanes(lo3, hi3);
    }
}
