using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CnnGen.Kernels;

/// <summary>
/// Row-major matrix products for the generated layers. Every output element is computed by the same sequence of
/// fused multiply-adds whatever the SIMD width (512, 256 bits or scalar), so results are bit-identical with SIMD
/// on and off: <see cref="Multiply"/> vectorises over independent output columns, and
/// <see cref="MultiplyTransposedB"/> reduces its dot products in a fixed 16-lane order.
/// </summary>
public static class Gemm
{
    /// <summary>
    /// <c>C[m, n] (+)= op(A)[m, k] * B[k, n]</c>, where <c>op(A)</c> is A (<c>[m, k]</c>) or, with
    /// <paramref name="transposeA"/>, the transpose of a <c>[k, m]</c> matrix.
    /// With <paramref name="accumulate"/> the products are added to C, else C is overwritten.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Multiply(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, int m, int n, int k,
        bool transposeA = false, bool accumulate = false)
    {
        if (a.Length < m * k || b.Length < k * n || c.Length < m * n)
            throw new ArgumentException($"Gemm.Multiply: spans too short for [{m}x{k}] * [{k}x{n}].");
        // Element A(i, p) sits at a[i * rowStep + p * colStep].
        int rowStep = transposeA ? 1 : k, colStep = transposeA ? m : 1;
        ref float pa = ref MemoryMarshal.GetReference(a);
        ref float pb = ref MemoryMarshal.GetReference(b);
        ref float pc = ref MemoryMarshal.GetReference(c);

        if (Avx512F.IsSupported && Vector512.IsHardwareAccelerated)
        {
            unsafe
            {
                fixed (float* fa = a, fb = b, fc = c)
                    GemmAvx512.Multiply(fa, fb, fc, m, n, k, rowStep, colStep, accumulate);
            }
            return;
        }
        int j = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            for (; j + 8 <= n; j += 8)
                Columns256(ref pa, ref pb, ref pc, m, n, k, j, rowStep, colStep, accumulate);
        }
        for (; j < n; j++)
        {
            for (int i = 0; i < m; i++)
            {
                float acc = accumulate ? Unsafe.Add(ref pc, i * n + j) : 0f;
                for (int p = 0; p < k; p++)
                    acc = MathF.FusedMultiplyAdd(Unsafe.Add(ref pa, i * rowStep + p * colStep), Unsafe.Add(ref pb, p * n + j), acc);
                Unsafe.Add(ref pc, i * n + j) = acc;
            }
        }
    }

    /// <summary>8 columns starting at <paramref name="j"/>, four rows at a time.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Columns256(ref float pa, ref float pb, ref float pc, int m, int n, int k, int j,
        int rowStep, int colStep, bool accumulate)
    {
        int i = 0;
        for (; i + 4 <= m; i += 4)
        {
            ref float c0 = ref Unsafe.Add(ref pc, i * n + j);
            Vector256<float> acc0, acc1, acc2, acc3;
            if (accumulate)
            {
                acc0 = Vector256.LoadUnsafe(ref c0);
                acc1 = Vector256.LoadUnsafe(ref c0, (nuint)n);
                acc2 = Vector256.LoadUnsafe(ref c0, (nuint)(2 * n));
                acc3 = Vector256.LoadUnsafe(ref c0, (nuint)(3 * n));
            }
            else acc0 = acc1 = acc2 = acc3 = Vector256<float>.Zero;
            ref float a0 = ref Unsafe.Add(ref pa, i * rowStep);
            for (int p = 0; p < k; p++)
            {
                var bv = Vector256.LoadUnsafe(ref pb, (nuint)(p * n + j));
                int ap = p * colStep;
                acc0 = Vector256.FusedMultiplyAdd(Vector256.Create(Unsafe.Add(ref a0, ap)), bv, acc0);
                acc1 = Vector256.FusedMultiplyAdd(Vector256.Create(Unsafe.Add(ref a0, ap + rowStep)), bv, acc1);
                acc2 = Vector256.FusedMultiplyAdd(Vector256.Create(Unsafe.Add(ref a0, ap + 2 * rowStep)), bv, acc2);
                acc3 = Vector256.FusedMultiplyAdd(Vector256.Create(Unsafe.Add(ref a0, ap + 3 * rowStep)), bv, acc3);
            }
            acc0.StoreUnsafe(ref c0);
            acc1.StoreUnsafe(ref c0, (nuint)n);
            acc2.StoreUnsafe(ref c0, (nuint)(2 * n));
            acc3.StoreUnsafe(ref c0, (nuint)(3 * n));
        }
        for (; i < m; i++)
        {
            ref float c0 = ref Unsafe.Add(ref pc, i * n + j);
            var acc = accumulate ? Vector256.LoadUnsafe(ref c0) : Vector256<float>.Zero;
            ref float a0 = ref Unsafe.Add(ref pa, i * rowStep);
            for (int p = 0; p < k; p++)
                acc = Vector256.FusedMultiplyAdd(Vector256.Create(Unsafe.Add(ref a0, p * colStep)), Vector256.LoadUnsafe(ref pb, (nuint)(p * n + j)), acc);
            acc.StoreUnsafe(ref c0);
        }
    }

    /// <summary>
    /// <c>C[m, n] (+)= A[m, k] * B[n, k]^T</c>: every output is the dot product of a row of A and a row of B,
    /// reduced in the fixed order of <see cref="Dot"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MultiplyTransposedB(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, int m, int n, int k,
        bool accumulate = false)
    {
        if (a.Length < m * k || b.Length < n * k || c.Length < m * n)
            throw new ArgumentException($"Gemm.MultiplyTransposedB: spans too short for [{m}x{k}] * [{n}x{k}]^T.");
        if (Avx512F.IsSupported && Vector512.IsHardwareAccelerated)
        {
            unsafe
            {
                fixed (float* fa = a, fb = b, fc = c)
                    GemmAvx512.MultiplyTransposedB(fa, fb, fc, m, n, k, accumulate);
            }
            return;
        }
        for (int i = 0; i < m; i++)
        {
            var row = a.Slice(i * k, k);
            for (int j = 0; j < n; j++)
            {
                float dot = Dot(row, b.Slice(j * k, k));
                c[i * n + j] = accumulate ? c[i * n + j] + dot : dot;
            }
        }
    }

    /// <summary>
    /// <c>C[m, n] += sum over s &lt; count of A_s[m, k] * B_s[n, k]^T</c>, with <c>A_s = a[s * aStride ..]</c> and
    /// <c>B_s = b[s * bStride ..]</c>: a convolution's weight gradient summed over a batch. Each output keeps 16 lane
    /// sums across all <paramref name="count"/> products (lane = index mod 16 within each product's first
    /// <c>16 * floor(k / 16)</c> values), folds them once as <see cref="Dot"/> does, then adds the remaining values of
    /// each product in order.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void AccumulateTransposedB(ReadOnlySpan<float> a, int aStride, ReadOnlySpan<float> b, int bStride,
        Span<float> c, int m, int n, int k, int count)
    {
        if (count <= 0) return;
        if (a.Length < (long)(count - 1) * aStride + m * k || b.Length < (long)(count - 1) * bStride + n * k || c.Length < m * n)
            throw new ArgumentException($"Gemm.AccumulateTransposedB: spans too short for {count} products [{m}x{k}] * [{n}x{k}]^T.");
        if (Avx512F.IsSupported && Vector512.IsHardwareAccelerated)
        {
            unsafe
            {
                fixed (float* fa = a, fb = b, fc = c)
                    GemmAvx512.AccumulateTransposedB(fa, aStride, fb, bStride, fc, m, n, k, count);
            }
            return;
        }
        int full = k & ~15;
        Span<float> lanes = stackalloc float[16];
        for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++)
        {
            lanes.Clear();
            for (int s = 0; s < count; s++)
            {
                var x = a.Slice(s * aStride + i * k, k);
                var y = b.Slice(s * bStride + j * k, k);
                for (int p = 0; p < full; p += 16)
                    for (int l = 0; l < 16; l++)
                        lanes[l] = MathF.FusedMultiplyAdd(x[p + l], y[p + l], lanes[l]);
            }
            float s0 = (lanes[0] + lanes[8]) + (lanes[4] + lanes[12]);
            float s1 = (lanes[1] + lanes[9]) + (lanes[5] + lanes[13]);
            float s2 = (lanes[2] + lanes[10]) + (lanes[6] + lanes[14]);
            float s3 = (lanes[3] + lanes[11]) + (lanes[7] + lanes[15]);
            float sum = (s0 + s2) + (s1 + s3);
            for (int s = 0; s < count; s++)
                for (int p = full; p < k; p++)
                    sum = MathF.FusedMultiplyAdd(a[s * aStride + i * k + p], b[s * bStride + j * k + p], sum);
            c[i * n + j] += sum;
        }
    }

    /// <summary>
    /// Dot product in a fixed order: 16 lane sums (lane = index mod 16) over the first <c>16 * floor(len / 16)</c>
    /// values, folded pairwise (lanes l and l+8, then l and l+4, l and l+2, l and l+1), then the remaining values
    /// added one by one. Every SIMD width computes exactly this.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Dot(ReadOnlySpan<float> x, ReadOnlySpan<float> y)
    {
        int len = x.Length;
        if (y.Length < len) throw new ArgumentException("Gemm.Dot: spans differ in length.");
        ref float px = ref MemoryMarshal.GetReference(x);
        ref float py = ref MemoryMarshal.GetReference(y);
        int full = len & ~15;
        float s0, s1, s2, s3; // the four sums left after folding 16 lanes to 4
        if (Vector512.IsHardwareAccelerated)
        {
            var acc = Vector512<float>.Zero;
            for (int i = 0; i < full; i += 16)
                acc = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref px, (nuint)i), Vector512.LoadUnsafe(ref py, (nuint)i), acc);
            var v4 = Fold(acc.GetLower() + acc.GetUpper());
            s0 = v4.GetElement(0); s1 = v4.GetElement(1); s2 = v4.GetElement(2); s3 = v4.GetElement(3);
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            Vector256<float> lo = Vector256<float>.Zero, hi = Vector256<float>.Zero;
            for (int i = 0; i < full; i += 16)
            {
                lo = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref px, (nuint)i), Vector256.LoadUnsafe(ref py, (nuint)i), lo);
                hi = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref px, (nuint)(i + 8)), Vector256.LoadUnsafe(ref py, (nuint)(i + 8)), hi);
            }
            var v4 = Fold(lo + hi);
            s0 = v4.GetElement(0); s1 = v4.GetElement(1); s2 = v4.GetElement(2); s3 = v4.GetElement(3);
        }
        else
        {
            Span<float> lanes = stackalloc float[16];
            lanes.Clear();
            for (int i = 0; i < full; i += 16)
                for (int l = 0; l < 16; l++)
                    lanes[l] = MathF.FusedMultiplyAdd(Unsafe.Add(ref px, i + l), Unsafe.Add(ref py, i + l), lanes[l]);
            Span<float> v8 = stackalloc float[8];
            for (int l = 0; l < 8; l++) v8[l] = lanes[l] + lanes[l + 8];
            s0 = v8[0] + v8[4]; s1 = v8[1] + v8[5]; s2 = v8[2] + v8[6]; s3 = v8[3] + v8[7];
        }
        float sum = (s0 + s2) + (s1 + s3);
        for (int i = full; i < len; i++)
            sum = MathF.FusedMultiplyAdd(Unsafe.Add(ref px, i), Unsafe.Add(ref py, i), sum);
        return sum;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> Fold(Vector256<float> v8) => v8.GetLower() + v8.GetUpper();
}
