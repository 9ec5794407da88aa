using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CnnGen.Kernels;

/// <summary>
/// The AVX-512 micro-kernels behind <see cref="Gemm"/>. Each output element gets exactly the fused multiply-add
/// chain (or the 16-lane dot product) of the portable paths; only the register blocking differs:
/// <see cref="Multiply"/> keeps a 4 x 32 block of C in eight registers and masks the last, partial columns.
/// </summary>
internal static unsafe class GemmAvx512
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Multiply(float* a, float* b, float* c, int m, int n, int k, int rowStep, int colStep, bool accumulate)
    {
        int tail = n & 15;
        var tailMask = Vector512.LessThan(Vector512.Create(0f, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15), Vector512.Create((float)tail));
        int i = 0;
        for (; i + 4 <= m; i += 4)
        {
            float* a0 = a + i * rowStep;
            float* c0 = c + i * n;
            int j = 0;
            for (; j + 32 <= n; j += 32) Block4x32(a0, b + j, c0 + j, n, k, rowStep, colStep, accumulate);
            for (; j + 16 <= n; j += 16) Block4x16(a0, b + j, c0 + j, n, k, rowStep, colStep, accumulate, Vector512<float>.AllBitsSet, false);
            if (tail != 0) Block4x16(a0, b + j, c0 + j, n, k, rowStep, colStep, accumulate, tailMask, true);
        }
        for (; i < m; i++)
        {
            float* a0 = a + i * rowStep;
            float* c0 = c + i * n;
            int j = 0;
            for (; j + 16 <= n; j += 16) Block1x16(a0, b + j, c0 + j, n, k, colStep, accumulate, Vector512<float>.AllBitsSet, false);
            if (tail != 0) Block1x16(a0, b + j, c0 + j, n, k, colStep, accumulate, tailMask, true);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Block4x32(float* a0, float* b, float* c, int n, int k, int rowStep, int colStep, bool accumulate)
    {
        Vector512<float> c00, c01, c10, c11, c20, c21, c30, c31;
        if (accumulate)
        {
            c00 = Vector512.Load(c); c01 = Vector512.Load(c + 16);
            c10 = Vector512.Load(c + n); c11 = Vector512.Load(c + n + 16);
            c20 = Vector512.Load(c + 2 * n); c21 = Vector512.Load(c + 2 * n + 16);
            c30 = Vector512.Load(c + 3 * n); c31 = Vector512.Load(c + 3 * n + 16);
        }
        else c00 = c01 = c10 = c11 = c20 = c21 = c30 = c31 = Vector512<float>.Zero;
        for (int p = 0; p < k; p++)
        {
            float* bp = b + p * n;
            var b0 = Vector512.Load(bp);
            var b1 = Vector512.Load(bp + 16);
            float* ap = a0 + p * colStep;
            var x0 = Vector512.Create(ap[0]);
            c00 = Avx512F.FusedMultiplyAdd(x0, b0, c00); c01 = Avx512F.FusedMultiplyAdd(x0, b1, c01);
            var x1 = Vector512.Create(ap[rowStep]);
            c10 = Avx512F.FusedMultiplyAdd(x1, b0, c10); c11 = Avx512F.FusedMultiplyAdd(x1, b1, c11);
            var x2 = Vector512.Create(ap[2 * rowStep]);
            c20 = Avx512F.FusedMultiplyAdd(x2, b0, c20); c21 = Avx512F.FusedMultiplyAdd(x2, b1, c21);
            var x3 = Vector512.Create(ap[3 * rowStep]);
            c30 = Avx512F.FusedMultiplyAdd(x3, b0, c30); c31 = Avx512F.FusedMultiplyAdd(x3, b1, c31);
        }
        c00.Store(c); c01.Store(c + 16);
        c10.Store(c + n); c11.Store(c + n + 16);
        c20.Store(c + 2 * n); c21.Store(c + 2 * n + 16);
        c30.Store(c + 3 * n); c31.Store(c + 3 * n + 16);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Block4x16(float* a0, float* b, float* c, int n, int k, int rowStep, int colStep, bool accumulate,
        Vector512<float> mask, bool masked)
    {
        Vector512<float> c0, c1, c2, c3;
        if (accumulate)
        {
            c0 = Load(c, mask, masked); c1 = Load(c + n, mask, masked);
            c2 = Load(c + 2 * n, mask, masked); c3 = Load(c + 3 * n, mask, masked);
        }
        else c0 = c1 = c2 = c3 = Vector512<float>.Zero;
        for (int p = 0; p < k; p++)
        {
            var bv = Load(b + p * n, mask, masked);
            float* ap = a0 + p * colStep;
            c0 = Avx512F.FusedMultiplyAdd(Vector512.Create(ap[0]), bv, c0);
            c1 = Avx512F.FusedMultiplyAdd(Vector512.Create(ap[rowStep]), bv, c1);
            c2 = Avx512F.FusedMultiplyAdd(Vector512.Create(ap[2 * rowStep]), bv, c2);
            c3 = Avx512F.FusedMultiplyAdd(Vector512.Create(ap[3 * rowStep]), bv, c3);
        }
        Store(c, c0, mask, masked); Store(c + n, c1, mask, masked);
        Store(c + 2 * n, c2, mask, masked); Store(c + 3 * n, c3, mask, masked);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Block1x16(float* a0, float* b, float* c, int n, int k, int colStep, bool accumulate,
        Vector512<float> mask, bool masked)
    {
        var acc = accumulate ? Load(c, mask, masked) : Vector512<float>.Zero;
        for (int p = 0; p < k; p++)
            acc = Avx512F.FusedMultiplyAdd(Vector512.Create(a0[p * colStep]), Load(b + p * n, mask, masked), acc);
        Store(c, acc, mask, masked);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Load(float* p, Vector512<float> mask, bool masked) =>
        masked ? Avx512F.MaskLoad(p, mask, Vector512<float>.Zero) : Vector512.Load(p);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(float* p, Vector512<float> value, Vector512<float> mask, bool masked)
    {
        if (masked) Avx512F.MaskStore(p, mask, value);
        else value.Store(p);
    }

    /// <summary><c>C = A * B^T</c> as dot products of rows, four rows of B against one row of A per pass.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MultiplyTransposedB(float* a, float* b, float* c, int m, int n, int k, bool accumulate)
    {
        int full = k & ~15;
        for (int i = 0; i < m; i++)
        {
            float* x = a + (long)i * k;
            float* ci = c + (long)i * n;
            int j = 0;
            for (; j + 4 <= n; j += 4)
            {
                float* y0 = b + (long)j * k, y1 = y0 + k, y2 = y1 + k, y3 = y2 + k;
                Vector512<float> s0 = Vector512<float>.Zero, s1 = s0, s2 = s0, s3 = s0;
                for (int p = 0; p < full; p += 16)
                {
                    var xv = Vector512.Load(x + p);
                    s0 = Avx512F.FusedMultiplyAdd(xv, Vector512.Load(y0 + p), s0);
                    s1 = Avx512F.FusedMultiplyAdd(xv, Vector512.Load(y1 + p), s1);
                    s2 = Avx512F.FusedMultiplyAdd(xv, Vector512.Load(y2 + p), s2);
                    s3 = Avx512F.FusedMultiplyAdd(xv, Vector512.Load(y3 + p), s3);
                }
                Finish(ci + j, Reduce(s0, x, y0, full, k), accumulate);
                Finish(ci + j + 1, Reduce(s1, x, y1, full, k), accumulate);
                Finish(ci + j + 2, Reduce(s2, x, y2, full, k), accumulate);
                Finish(ci + j + 3, Reduce(s3, x, y3, full, k), accumulate);
            }
            for (; j < n; j++)
            {
                float* y = b + (long)j * k;
                var s = Vector512<float>.Zero;
                for (int p = 0; p < full; p += 16)
                    s = Avx512F.FusedMultiplyAdd(Vector512.Load(x + p), Vector512.Load(y + p), s);
                Finish(ci + j, Reduce(s, x, y, full, k), accumulate);
            }
        }
    }

    /// <summary>Batched <c>C += sum_s A_s * B_s^T</c>; see <see cref="Gemm.AccumulateTransposedB"/> for the order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void AccumulateTransposedB(float* a, int aStride, float* b, int bStride, float* c, int m, int n, int k, int count)
    {
        int full = k & ~15;
        for (int i = 0; i < m; i++)
        {
            int j = 0;
            for (; j + 4 <= n; j += 4)
            {
                Vector512<float> s0 = Vector512<float>.Zero, s1 = s0, s2 = s0, s3 = s0;
                for (int s = 0; s < count; s++)
                {
                    float* x = a + (long)s * aStride + i * k;
                    float* y0 = b + (long)s * bStride + j * k, y1 = y0 + k, y2 = y1 + k, y3 = y2 + k;
                    for (int p = 0; p < full; p += 16)
                    {
                        var xv = Vector512.Load(x + p);
                        s0 = Avx512F.FusedMultiplyAdd(xv, Vector512.Load(y0 + p), s0);
                        s1 = Avx512F.FusedMultiplyAdd(xv, Vector512.Load(y1 + p), s1);
                        s2 = Avx512F.FusedMultiplyAdd(xv, Vector512.Load(y2 + p), s2);
                        s3 = Avx512F.FusedMultiplyAdd(xv, Vector512.Load(y3 + p), s3);
                    }
                }
                c[i * n + j] += Tails(Fold(s0), a, aStride, b, bStride, i, j, k, full, count);
                c[i * n + j + 1] += Tails(Fold(s1), a, aStride, b, bStride, i, j + 1, k, full, count);
                c[i * n + j + 2] += Tails(Fold(s2), a, aStride, b, bStride, i, j + 2, k, full, count);
                c[i * n + j + 3] += Tails(Fold(s3), a, aStride, b, bStride, i, j + 3, k, full, count);
            }
            for (; j < n; j++)
            {
                var acc = Vector512<float>.Zero;
                for (int s = 0; s < count; s++)
                {
                    float* x = a + (long)s * aStride + i * k;
                    float* y = b + (long)s * bStride + j * k;
                    for (int p = 0; p < full; p += 16)
                        acc = Avx512F.FusedMultiplyAdd(Vector512.Load(x + p), Vector512.Load(y + p), acc);
                }
                c[i * n + j] += Tails(Fold(acc), a, aStride, b, bStride, i, j, k, full, count);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Fold(Vector512<float> lanes)
    {
        var v8 = lanes.GetLower() + lanes.GetUpper();
        var v4 = v8.GetLower() + v8.GetUpper();
        return (v4.GetElement(0) + v4.GetElement(2)) + (v4.GetElement(1) + v4.GetElement(3));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Tails(float sum, float* a, int aStride, float* b, int bStride, int i, int j, int k, int full, int count)
    {
        if (full == k) return sum;
        for (int s = 0; s < count; s++)
        {
            float* x = a + (long)s * aStride + i * k;
            float* y = b + (long)s * bStride + j * k;
            for (int p = full; p < k; p++) sum = MathF.FusedMultiplyAdd(x[p], y[p], sum);
        }
        return sum;
    }

    /// <summary>The fixed fold of <see cref="Gemm.Dot"/>: lanes l+8, l+4, then (0+2)+(1+3), then the tail one by one.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Reduce(Vector512<float> lanes, float* x, float* y, int full, int k)
    {
        var v8 = lanes.GetLower() + lanes.GetUpper();
        var v4 = v8.GetLower() + v8.GetUpper();
        float sum = (v4.GetElement(0) + v4.GetElement(2)) + (v4.GetElement(1) + v4.GetElement(3));
        for (int p = full; p < k; p++) sum = MathF.FusedMultiplyAdd(x[p], y[p], sum);
        return sum;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Finish(float* c, float value, bool accumulate) => *c = accumulate ? *c + value : value;
}
