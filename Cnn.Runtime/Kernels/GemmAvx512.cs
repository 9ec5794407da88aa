using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CnnGen.Kernels;

/// <summary>
/// The AVX-512 micro-kernels behind <see cref="Gemm"/>. Each output element gets exactly the fused multiply-add
/// chain (or the 16-lane dot product) of the portable paths; only the register blocking differs:
/// <see cref="Multiply"/> sends B's full 32-column panels through <see cref="PackedGemmAvx512"/> and keeps a 4 x 32
/// block of C in eight registers for the columns left, masking the last, partial ones. Given a bias, every path adds
/// it to the finished sums and applies the fused activation as it stores them.
/// </summary>
internal static unsafe class GemmAvx512
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Multiply(float* a, float* b, float* c, int m, int n, int k, int rowStep, int colStep, bool accumulate,
        float* bias = null, FusedActivation activation = FusedActivation.None)
    {
        int tail = n & 15;
        var tailMask = Vector512.LessThan(Vector512.Create(0f, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15), Vector512.Create((float)tail));
        // Full panels of 32 columns through the packed path; the rest below.
        int start = 0;
        if (PackedGemmAvx512.Suits(m, n, k))
        {
            PackedGemmAvx512.Multiply(a, b, c, m, n, k, rowStep, colStep, accumulate, bias, activation);
            start = n - n % PackedGemmAvx512.PanelWidth;
            if (start == n) return;
        }
        for (int i = 0; i < m; i += 4)
        {
            // Four rows at a time; past the last row the block repeats it, which writes the same values twice.
            var rows = new Rows(a, c, Math.Min(i, m - 1), Math.Min(i + 1, m - 1), Math.Min(i + 2, m - 1), Math.Min(i + 3, m - 1), rowStep, n);
            var finish = new Epilogue(bias, activation, Math.Min(i, m - 1), Math.Min(i + 1, m - 1), Math.Min(i + 2, m - 1), Math.Min(i + 3, m - 1));
            int j = start;
            for (; j + 32 <= n; j += 32) Block4x32(rows, finish, b + j, j, n, k, colStep, accumulate);
            for (; j + 16 <= n; j += 16) Block4x16(rows, finish, b + j, j, n, k, colStep, accumulate, Vector512<float>.AllBitsSet, false);
            if (tail != 0) Block4x16(rows, finish, b + j, j, n, k, colStep, accumulate, tailMask, true);
        }
    }

    /// <summary>Four rows of A and the matching rows of C.</summary>
    private readonly struct Rows(float* a, float* c, int r0, int r1, int r2, int r3, int rowStep, int n)
    {
        public readonly float* A0 = a + (long)r0 * rowStep, A1 = a + (long)r1 * rowStep, A2 = a + (long)r2 * rowStep, A3 = a + (long)r3 * rowStep;
        public readonly float* C0 = c + (long)r0 * n, C1 = c + (long)r1 * n, C2 = c + (long)r2 * n, C3 = c + (long)r3 * n;
    }

    /// <summary>What four rows' finished sums get before they are stored: nothing, or their bias and the activation.</summary>
    private readonly struct Epilogue
    {
        public readonly bool Active;
        public readonly FusedActivation Activation;
        public readonly Vector512<float> B0, B1, B2, B3;

        public Epilogue(float* bias, FusedActivation activation, int r0, int r1, int r2, int r3)
        {
            Active = bias != null;
            Activation = activation;
            if (!Active) return;
            B0 = Vector512.Create(bias[r0]); B1 = Vector512.Create(bias[r1]); B2 = Vector512.Create(bias[r2]); B3 = Vector512.Create(bias[r3]);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Block4x32(in Rows r, in Epilogue f, float* b, int j, int n, int k, int colStep, bool accumulate)
    {
        Vector512<float> c00, c01, c10, c11, c20, c21, c30, c31;
        if (accumulate)
        {
            c00 = Vector512.Load(r.C0 + j); c01 = Vector512.Load(r.C0 + j + 16);
            c10 = Vector512.Load(r.C1 + j); c11 = Vector512.Load(r.C1 + j + 16);
            c20 = Vector512.Load(r.C2 + j); c21 = Vector512.Load(r.C2 + j + 16);
            c30 = Vector512.Load(r.C3 + j); c31 = Vector512.Load(r.C3 + j + 16);
        }
        else c00 = c01 = c10 = c11 = c20 = c21 = c30 = c31 = Vector512<float>.Zero;
        float* a0 = r.A0, a1 = r.A1, a2 = r.A2, a3 = r.A3;
        for (int p = 0; p < k; p++)
        {
            float* bp = b + (long)p * n;
            var b0 = Vector512.Load(bp);
            var b1 = Vector512.Load(bp + 16);
            int ap = p * colStep;
            var x0 = Vector512.Create(a0[ap]);
            c00 = Avx512F.FusedMultiplyAdd(x0, b0, c00); c01 = Avx512F.FusedMultiplyAdd(x0, b1, c01);
            var x1 = Vector512.Create(a1[ap]);
            c10 = Avx512F.FusedMultiplyAdd(x1, b0, c10); c11 = Avx512F.FusedMultiplyAdd(x1, b1, c11);
            var x2 = Vector512.Create(a2[ap]);
            c20 = Avx512F.FusedMultiplyAdd(x2, b0, c20); c21 = Avx512F.FusedMultiplyAdd(x2, b1, c21);
            var x3 = Vector512.Create(a3[ap]);
            c30 = Avx512F.FusedMultiplyAdd(x3, b0, c30); c31 = Avx512F.FusedMultiplyAdd(x3, b1, c31);
        }
        if (f.Active)
        {
            c00 = Activate.Apply(c00 + f.B0, f.Activation); c01 = Activate.Apply(c01 + f.B0, f.Activation);
            c10 = Activate.Apply(c10 + f.B1, f.Activation); c11 = Activate.Apply(c11 + f.B1, f.Activation);
            c20 = Activate.Apply(c20 + f.B2, f.Activation); c21 = Activate.Apply(c21 + f.B2, f.Activation);
            c30 = Activate.Apply(c30 + f.B3, f.Activation); c31 = Activate.Apply(c31 + f.B3, f.Activation);
        }
        c00.Store(r.C0 + j); c01.Store(r.C0 + j + 16);
        c10.Store(r.C1 + j); c11.Store(r.C1 + j + 16);
        c20.Store(r.C2 + j); c21.Store(r.C2 + j + 16);
        c30.Store(r.C3 + j); c31.Store(r.C3 + j + 16);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Block4x16(in Rows r, in Epilogue f, float* b, int j, int n, int k, int colStep, bool accumulate,
        Vector512<float> mask, bool masked)
    {
        Vector512<float> c0, c1, c2, c3;
        if (accumulate)
        {
            c0 = Load(r.C0 + j, mask, masked); c1 = Load(r.C1 + j, mask, masked);
            c2 = Load(r.C2 + j, mask, masked); c3 = Load(r.C3 + j, mask, masked);
        }
        else c0 = c1 = c2 = c3 = Vector512<float>.Zero;
        float* a0 = r.A0, a1 = r.A1, a2 = r.A2, a3 = r.A3;
        for (int p = 0; p < k; p++)
        {
            var bv = Load(b + (long)p * n, mask, masked);
            int ap = p * colStep;
            c0 = Avx512F.FusedMultiplyAdd(Vector512.Create(a0[ap]), bv, c0);
            c1 = Avx512F.FusedMultiplyAdd(Vector512.Create(a1[ap]), bv, c1);
            c2 = Avx512F.FusedMultiplyAdd(Vector512.Create(a2[ap]), bv, c2);
            c3 = Avx512F.FusedMultiplyAdd(Vector512.Create(a3[ap]), bv, c3);
        }
        if (f.Active)
        {
            c0 = Activate.Apply(c0 + f.B0, f.Activation); c1 = Activate.Apply(c1 + f.B1, f.Activation);
            c2 = Activate.Apply(c2 + f.B2, f.Activation); c3 = Activate.Apply(c3 + f.B3, f.Activation);
        }
        Store(r.C0 + j, c0, mask, masked); Store(r.C1 + j, c1, mask, masked);
        Store(r.C2 + j, c2, mask, masked); Store(r.C3 + j, c3, mask, masked);
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

    /// <summary>Mask of the first <c>k mod 16</c> lanes (all lanes when k is a multiple of 16).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> TailMask(int k)
    {
        int tail = k & 15;
        return tail == 0 ? Vector512<float>.AllBitsSet
            : Vector512.LessThan(Vector512.Create(0f, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15), Vector512.Create((float)tail));
    }

    /// <summary>The 16 lane sums of one dot product (see <see cref="Gemm.Dot"/>), the last chunk loaded under a mask.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Lanes(float* x, float* y, int k, Vector512<float> mask, Vector512<float> acc)
    {
        int p = 0;
        for (; p + 16 <= k; p += 16)
            acc = Avx512F.FusedMultiplyAdd(Vector512.Load(x + p), Vector512.Load(y + p), acc);
        if (p < k)
            acc = Avx512F.FusedMultiplyAdd(Avx512F.MaskLoad(x + p, mask, Vector512<float>.Zero), Avx512F.MaskLoad(y + p, mask, Vector512<float>.Zero), acc);
        return acc;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Dot(float* x, float* y, int k) => Fold(Lanes(x, y, k, TailMask(k), Vector512<float>.Zero));

    /// <summary><c>C (+)= A * B^T</c> as dot products of rows; see <see cref="Gemm.MultiplyTransposedB"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MultiplyTransposedB(float* a, float* b, float* c, int m, int n, int k, bool accumulate)
    {
        var mask = TailMask(k);
        int i = 0;
        for (; i + 2 <= m; i += 2)
        {
            float* x0 = a + (long)i * k, x1 = x0 + k;
            float* c0 = c + (long)i * n, c1 = c0 + n;
            int j = 0;
            for (; j + 4 <= n; j += 4)
            {
                Vector512<float> s00 = default, s01 = default, s02 = default, s03 = default;
                Vector512<float> s10 = default, s11 = default, s12 = default, s13 = default;
                Block2x4(x0, x1, b + (long)j * k, k, mask, ref s00, ref s01, ref s02, ref s03, ref s10, ref s11, ref s12, ref s13);
                Finish(c0 + j, Fold(s00), accumulate); Finish(c0 + j + 1, Fold(s01), accumulate);
                Finish(c0 + j + 2, Fold(s02), accumulate); Finish(c0 + j + 3, Fold(s03), accumulate);
                Finish(c1 + j, Fold(s10), accumulate); Finish(c1 + j + 1, Fold(s11), accumulate);
                Finish(c1 + j + 2, Fold(s12), accumulate); Finish(c1 + j + 3, Fold(s13), accumulate);
            }
            for (; j < n; j++)
            {
                float* y = b + (long)j * k;
                Finish(c0 + j, Fold(Lanes(x0, y, k, mask, Vector512<float>.Zero)), accumulate);
                Finish(c1 + j, Fold(Lanes(x1, y, k, mask, Vector512<float>.Zero)), accumulate);
            }
        }
        for (; i < m; i++)
        {
            float* x = a + (long)i * k;
            float* ci = c + (long)i * n;
            int j = 0;
            for (; j + 4 <= n; j += 4)
            {
                // One row of A against four rows of B: four independent chains instead of one latency-bound chain.
                float* y0 = b + (long)j * k, y1 = y0 + k, y2 = y1 + k, y3 = y2 + k;
                Vector512<float> s0 = default, s1 = default, s2 = default, s3 = default;
                int p = 0;
                for (; p + 16 <= k; p += 16)
                {
                    var u = Vector512.Load(x + p);
                    s0 = Avx512F.FusedMultiplyAdd(u, Vector512.Load(y0 + p), s0);
                    s1 = Avx512F.FusedMultiplyAdd(u, Vector512.Load(y1 + p), s1);
                    s2 = Avx512F.FusedMultiplyAdd(u, Vector512.Load(y2 + p), s2);
                    s3 = Avx512F.FusedMultiplyAdd(u, Vector512.Load(y3 + p), s3);
                }
                if (p < k)
                {
                    var z = Vector512<float>.Zero;
                    var u = Avx512F.MaskLoad(x + p, mask, z);
                    s0 = Avx512F.FusedMultiplyAdd(u, Avx512F.MaskLoad(y0 + p, mask, z), s0);
                    s1 = Avx512F.FusedMultiplyAdd(u, Avx512F.MaskLoad(y1 + p, mask, z), s1);
                    s2 = Avx512F.FusedMultiplyAdd(u, Avx512F.MaskLoad(y2 + p, mask, z), s2);
                    s3 = Avx512F.FusedMultiplyAdd(u, Avx512F.MaskLoad(y3 + p, mask, z), s3);
                }
                Finish(ci + j, Fold(s0), accumulate); Finish(ci + j + 1, Fold(s1), accumulate);
                Finish(ci + j + 2, Fold(s2), accumulate); Finish(ci + j + 3, Fold(s3), accumulate);
            }
            for (; j < n; j++)
                Finish(ci + j, Fold(Lanes(x, b + (long)j * k, k, mask, Vector512<float>.Zero)), accumulate);
        }
    }

    /// <summary>Lane sums of two rows of A against four consecutive rows of B (length k each): eight dot products at once.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Block2x4(float* x0, float* x1, float* y0, int k, Vector512<float> mask,
        ref Vector512<float> s00, ref Vector512<float> s01, ref Vector512<float> s02, ref Vector512<float> s03,
        ref Vector512<float> s10, ref Vector512<float> s11, ref Vector512<float> s12, ref Vector512<float> s13)
    {
        float* y1 = y0 + k, y2 = y1 + k, y3 = y2 + k;
        Vector512<float> a00 = s00, a01 = s01, a02 = s02, a03 = s03, a10 = s10, a11 = s11, a12 = s12, a13 = s13;
        int p = 0;
        for (; p + 16 <= k; p += 16)
        {
            var u = Vector512.Load(x0 + p);
            var v = Vector512.Load(x1 + p);
            var w0 = Vector512.Load(y0 + p);
            a00 = Avx512F.FusedMultiplyAdd(u, w0, a00); a10 = Avx512F.FusedMultiplyAdd(v, w0, a10);
            var w1 = Vector512.Load(y1 + p);
            a01 = Avx512F.FusedMultiplyAdd(u, w1, a01); a11 = Avx512F.FusedMultiplyAdd(v, w1, a11);
            var w2 = Vector512.Load(y2 + p);
            a02 = Avx512F.FusedMultiplyAdd(u, w2, a02); a12 = Avx512F.FusedMultiplyAdd(v, w2, a12);
            var w3 = Vector512.Load(y3 + p);
            a03 = Avx512F.FusedMultiplyAdd(u, w3, a03); a13 = Avx512F.FusedMultiplyAdd(v, w3, a13);
        }
        if (p < k)
        {
            var z = Vector512<float>.Zero;
            var u = Avx512F.MaskLoad(x0 + p, mask, z);
            var v = Avx512F.MaskLoad(x1 + p, mask, z);
            var w0 = Avx512F.MaskLoad(y0 + p, mask, z);
            a00 = Avx512F.FusedMultiplyAdd(u, w0, a00); a10 = Avx512F.FusedMultiplyAdd(v, w0, a10);
            var w1 = Avx512F.MaskLoad(y1 + p, mask, z);
            a01 = Avx512F.FusedMultiplyAdd(u, w1, a01); a11 = Avx512F.FusedMultiplyAdd(v, w1, a11);
            var w2 = Avx512F.MaskLoad(y2 + p, mask, z);
            a02 = Avx512F.FusedMultiplyAdd(u, w2, a02); a12 = Avx512F.FusedMultiplyAdd(v, w2, a12);
            var w3 = Avx512F.MaskLoad(y3 + p, mask, z);
            a03 = Avx512F.FusedMultiplyAdd(u, w3, a03); a13 = Avx512F.FusedMultiplyAdd(v, w3, a13);
        }
        s00 = a00; s01 = a01; s02 = a02; s03 = a03; s10 = a10; s11 = a11; s12 = a12; s13 = a13;
    }

    /// <summary>The fold of <see cref="Gemm.Dot"/>: lanes l and l+8, then l and l+4, then (0 + 2) + (1 + 3).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Fold(Vector512<float> lanes)
    {
        var v8 = lanes.GetLower() + lanes.GetUpper();
        var v4 = v8.GetLower() + v8.GetUpper();
        return (v4.GetElement(0) + v4.GetElement(2)) + (v4.GetElement(1) + v4.GetElement(3));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Finish(float* c, float value, bool accumulate) => *c = accumulate ? *c + value : value;
}
