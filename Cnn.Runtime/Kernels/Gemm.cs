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
        if (GemmAvx2.IsSupported)
        {
            unsafe
            {
                fixed (float* fa = a, fb = b, fc = c)
                    GemmAvx2.Multiply(fa, fb, ldb: n, fc, ldc: n, m, n, k, rowStep, colStep, accumulate, bias: null, FusedActivation.None);
            }
            return;
        }
        // Without AVX2 and FMA (both or neither on every x86 machine that has AVX2), one chain per output.
        for (int j = 0; j < n; j++)
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

    /// <summary>
    /// <c>C[m, n] = A[m, k] * B</c>, where B's <paramref name="k"/> rows of <paramref name="n"/> values are
    /// <paramref name="ldb"/> floats apart: a block of columns of a wider matrix, read in place. Every element gets the
    /// chain of <see cref="Multiply"/> (a fused multiply-add over p from zero), so a block of columns computed alone
    /// gives the bits of the whole product's same columns.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MultiplyColumnsOf(ReadOnlySpan<float> a, ReadOnlySpan<float> b, int ldb, Span<float> c, int m, int n, int k)
    {
        if (ldb < n || a.Length < m * k || c.Length < m * n || k > 0 && b.Length < (long)(k - 1) * ldb + n)
            throw new ArgumentException($"Gemm.MultiplyColumnsOf: spans too short for [{m}x{k}] * [{k}x{n}] with B's rows {ldb} apart.");
        if (ldb == n)
        {
            Multiply(a, b, c, m, n, k);
            return;
        }
        if (m == 0 || n == 0) return;
        if (Avx512F.IsSupported && Vector512.IsHardwareAccelerated)
        {
            unsafe
            {
                fixed (float* fa = a, fb = b, fc = c)
                    GemmAvx512.Multiply(fa, fb, ldb, fc, ldc: n, m, n, k, rowStep: k, colStep: 1, accumulate: false, bias: null, FusedActivation.None);
            }
            return;
        }
        if (GemmAvx2.IsSupported)
        {
            unsafe
            {
                fixed (float* fa = a, fb = b, fc = c)
                    GemmAvx2.Multiply(fa, fb, ldb, fc, ldc: n, m, n, k, rowStep: k, colStep: 1, accumulate: false, bias: null, FusedActivation.None);
            }
            return;
        }
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                float acc = 0f;
                for (int p = 0; p < k; p++) acc = MathF.FusedMultiplyAdd(a[i * k + p], b[p * ldb + j], acc);
                c[i * n + j] = acc;
            }
    }

    /// <summary>
    /// <c>C[m, n] = activation(A[m, k] * B[k, n] + bias[m])</c>: a convolution's product, its bias (one per row) and a
    /// fused activation in one pass over C. Every element gets the bits of <see cref="Multiply"/>, then
    /// <see cref="Elementwise.AddBias"/>, then the activation's own kernel; the AVX-512 path adds the bias and applies
    /// the activation to the finished sums as it stores them.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MultiplyBiasActivation(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, ReadOnlySpan<float> bias,
        int m, int n, int k, FusedActivation activation = FusedActivation.None)
    {
        if (a.Length < m * k || b.Length < k * n || c.Length < m * n || bias.Length < m)
            throw new ArgumentException($"Gemm.MultiplyBiasActivation: spans too short for [{m}x{k}] * [{k}x{n}] and {m} biases.");
        if (m == 0 || n == 0) return;
        if (Avx512F.IsSupported && Vector512.IsHardwareAccelerated)
        {
            unsafe
            {
                fixed (float* fa = a, fb = b, fc = c, fbias = bias)
                    GemmAvx512.Multiply(fa, fb, fc, m, n, k, rowStep: k, colStep: 1, accumulate: false, fbias, activation);
            }
            return;
        }
        if (GemmAvx2.IsSupported)
        {
            unsafe
            {
                fixed (float* fa = a, fb = b, fc = c, fbias = bias)
                    GemmAvx2.Multiply(fa, fb, ldb: n, fc, ldc: n, m, n, k, rowStep: k, colStep: 1, accumulate: false, fbias, activation);
            }
            return;
        }
        Multiply(a, b, c, m, n, k);
        for (int i = 0; i < m; i++)
        {
            var row = c.Slice(i * n, n);
            for (int j = 0; j < n; j++) row[j] = Activate.Apply(row[j] + bias[i], activation);
        }
    }

    /// <summary>
    /// Columns <c>[firstColumn, endColumn)</c> of <see cref="MultiplyBiasActivation"/>'s <c>C[m, n]</c> (B and C whole
    /// <c>[k, n]</c> and <c>[m, n]</c> matrices; nothing outside those columns is written): a range of one convolution's
    /// output positions, for a thread of a split pass. Every element gets the same chain and bits as in the whole product.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MultiplyBiasActivationColumns(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, ReadOnlySpan<float> bias,
        int m, int n, int k, int firstColumn, int endColumn, FusedActivation activation = FusedActivation.None)
    {
        if (a.Length < m * k || b.Length < k * n || c.Length < m * n || bias.Length < m)
            throw new ArgumentException($"Gemm.MultiplyBiasActivationColumns: spans too short for [{m}x{k}] * [{k}x{n}] and {m} biases.");
        if (firstColumn < 0 || endColumn > n || firstColumn > endColumn)
            throw new ArgumentException($"Gemm.MultiplyBiasActivationColumns: columns [{firstColumn}, {endColumn}) are not within the {n} columns.");
        if (m == 0 || firstColumn == endColumn) return;
        if (Avx512F.IsSupported && Vector512.IsHardwareAccelerated)
        {
            unsafe
            {
                fixed (float* fa = a, fb = b, fc = c, fbias = bias)
                    GemmAvx512.Multiply(fa, fb + firstColumn, ldb: n, fc + firstColumn, ldc: n, m, endColumn - firstColumn, k, rowStep: k, colStep: 1,
                        accumulate: false, fbias, activation);
            }
            return;
        }
        if (GemmAvx2.IsSupported)
        {
            unsafe
            {
                fixed (float* fa = a, fb = b, fc = c, fbias = bias)
                    GemmAvx2.Multiply(fa, fb + firstColumn, ldb: n, fc + firstColumn, ldc: n, m, endColumn - firstColumn, k, rowStep: k, colStep: 1,
                        accumulate: false, fbias, activation);
            }
            return;
        }
        // The portable paths' chain: a fused multiply-add over p from zero, then the bias, then the activation.
        for (int i = 0; i < m; i++)
            for (int j = firstColumn; j < endColumn; j++)
            {
                float acc = 0f;
                for (int p = 0; p < k; p++) acc = MathF.FusedMultiplyAdd(a[i * k + p], b[p * n + j], acc);
                c[i * n + j] = Activate.Apply(acc + bias[i], activation);
            }
    }

    /// <summary>
    /// <c>C[m, n] = A[m, k] * B[k, n]</c> with B already in the packed products' panel layout (<see cref="PanelLayout"/>):
    /// for a B multiplied many times, such as Winograd's transformed weights, packed once instead of on every call
    /// (a last panel of fewer than 32 columns included). <paramref name="layoutColumns"/> are the columns the layout was
    /// made for, when these <paramref name="n"/> are a range of them starting at a multiple of 32 (Winograd's range of
    /// filters); by default <paramref name="n"/>. Every element gets the chain of <see cref="Multiply"/>.
    /// <paramref name="nextPanelsAt"/> says where the caller's next product's panels start, in floats from these panels'
    /// start (null: right after them): the product asks for the memory ahead of what it reads, and past its own panels
    /// that is where it asks (Winograd's range of filters reads one block of each point's weights, the next point's a
    /// whole row of filters further on).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MultiplyPanels(ReadOnlySpan<float> a, ReadOnlySpan<float> panels, Span<float> c, int m, int n, int k, long? nextPanelsAt = null,
        int layoutColumns = 0)
    {
        if (a.Length < m * k || panels.Length < k * n || c.Length < m * n)
            throw new ArgumentException($"Gemm.MultiplyPanels: spans too short for [{m}x{k}] * [{k}x{n}].");
        if (PanelsAreRows(layoutColumns > 0 ? layoutColumns : n))
        {
            if (layoutColumns > 0 && layoutColumns != n)
                throw new ArgumentException($"Gemm.MultiplyPanels: a layout of {layoutColumns} columns keeps its rows; a range of {n} of them is not a product of its own.");
            Multiply(a, panels, c, m, n, k);
            return;
        }
        if (m == 0 || n == 0) return;
        if (Avx512F.IsSupported && Vector512.IsHardwareAccelerated)
        {
            unsafe
            {
                fixed (float* fa = a, fb = panels, fc = c)
                    PanelGemmAvx512.MultiplyPanels(fa, fb, fc, m, n, k, rowStep: k, colStep: 1, jumpAfterEnd: (nextPanelsAt ?? (long)n * k) - (long)n * k);
            }
            return;
        }
        if (GemmAvx2.IsSupported)
        {
            // Each panel is a [k, width] matrix of its own, its rows width floats apart.
            unsafe
            {
                fixed (float* fa = a, fb = panels, fc = c)
                    for (int j0 = 0; j0 < n; j0 += PanelWidth)
                        GemmAvx2.Multiply(fa, fb + (long)j0 * k, ldb: Math.Min(PanelWidth, n - j0), fc + j0, ldc: n, m, Math.Min(PanelWidth, n - j0), k,
                            rowStep: k, colStep: 1, accumulate: false, bias: null, FusedActivation.None);
            }
            return;
        }
        for (int i = 0; i < m; i++)
        for (int j0 = 0; j0 < n; j0 += PanelWidth)
        {
            int width = Math.Min(PanelWidth, n - j0);
            var panel = panels.Slice(j0 * k, k * width);
            var row = a.Slice(i * k, k);
            for (int j = 0; j < width; j++)
            {
                float acc = 0f;
                for (int p = 0; p < k; p++) acc = MathF.FusedMultiplyAdd(row[p], panel[p * width + j], acc);
                c[i * n + j0 + j] = acc;
            }
        }
    }

    /// <summary>Columns per panel of <see cref="MultiplyPanels"/>' B.</summary>
    public const int PanelWidth = 32;

    /// <summary>Where element (row <paramref name="p"/>, column <paramref name="j"/>) of a <c>[k, n]</c> matrix sits in
    /// the panel layout: panel <c>j / 32</c> holds the matrix's <paramref name="k"/> rows of its 32 columns in order; when
    /// <paramref name="n"/> is not a multiple of 32, the last panel holds the <c>n % 32</c> columns left, its rows that
    /// long, and below 64 columns (<see cref="PanelsAreRows"/>) the matrix keeps its rows. Nothing is padded: the layout
    /// takes <c>k * n</c> values.</summary>
    public static long PanelLayout(int p, int j, int k, int n)
    {
        if (PanelsAreRows(n)) return (long)p * n + j;
        int whole = n / PanelWidth * PanelWidth;
        return j < whole
            ? (long)(j / PanelWidth) * k * PanelWidth + (long)p * PanelWidth + j % PanelWidth
            : (long)whole * k + (long)p * (n - whole) + (j - whole);
    }

    /// <summary>
    /// Whether the panel layout of <paramref name="n"/> columns is the matrix's own rows: fewer than 64 columns and not a
    /// multiple of 32 (one narrow panel, or one of 33 to 63 columns, which the in-place product takes as a panel of 48 and
    /// masked columns in one pass: Winograd's 16 -> 48 at 14x14 ran 26 us so against 33 as a panel of 32 and one of 16).
    /// </summary>
    public static bool PanelsAreRows(int n) => n % PanelWidth != 0 && n < 2 * PanelWidth;

    /// <summary>
    /// <c>C[m, n] (+)= A[m, k] * B[n, k]^T</c>: every output is the dot product of a row of A and a row of B,
    /// reduced in the fixed order of <see cref="Dot"/>. <paramref name="bFromMemory"/> says that B is not expected in
    /// the caches (a large dense layer's weights, read once per pass): one row of A then reads each row of B to its end
    /// before the next, one stream through memory, instead of eight rows side by side; the same bits either way. With
    /// AVX2 but not AVX-512, depths of whole chunks of 16 take <see cref="DotRowsAvx2"/> (four rows of B at a time).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MultiplyTransposedB(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, int m, int n, int k,
        bool accumulate = false, bool bFromMemory = false)
    {
        if (a.Length < m * k || b.Length < n * k || c.Length < m * n)
            throw new ArgumentException($"Gemm.MultiplyTransposedB: spans too short for [{m}x{k}] * [{n}x{k}]^T.");
        if (Avx512F.IsSupported && Vector512.IsHardwareAccelerated)
        {
            unsafe
            {
                fixed (float* fa = a, fb = b, fc = c)
                    GemmAvx512.MultiplyTransposedB(fa, fb, fc, m, n, k, accumulate, bFromMemory);
            }
            return;
        }
        if (GemmAvx2.IsSupported && k % 16 == 0)
        {
            unsafe
            {
                fixed (float* fa = a, fb = b, fc = c)
                    DotRowsAvx2.MultiplyTransposedB(fa, fb, fc, m, n, k, accumulate);
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
    /// <c>B_s = b[s * bStride ..]</c>: a convolution's weight gradient summed over a batch. Each output keeps the 16
    /// lane sums of <see cref="Dot"/> across all <paramref name="count"/> products (each product's last chunk padded
    /// by zeros) and folds them once.
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
                    WeightGradientAvx512.Accumulate(fa, aStride, fb, bStride, fc, m, n, k, count);
            }
            return;
        }
        if (GemmAvx2.IsSupported)
        {
            unsafe
            {
                fixed (float* fa = a, fb = b, fc = c)
                    WeightGradientAvx2.Accumulate(fa, aStride, fb, bStride, fc, m, n, k, count);
            }
            return;
        }
        Span<float> lanes = stackalloc float[16];
        for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++)
        {
            lanes.Clear();
            for (int s = 0; s < count; s++)
                AddLaneProducts(a.Slice(s * aStride + i * k, k), b.Slice(s * bStride + j * k, k), lanes);
            c[i * n + j] += FoldLanes(lanes);
        }
    }

    /// <summary>
    /// Dot product in a fixed order: 16 lane sums, lane <c>l</c> accumulating (by fused multiply-add, in index order)
    /// the products at indices <c>l, l + 16, l + 32, ...</c>, with the last chunk of 16 padded by zeros; then folded
    /// pairwise (lanes l and l+8, then l and l+4, then (0 + 2) + (1 + 3)). Every SIMD width computes exactly this.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Dot(ReadOnlySpan<float> x, ReadOnlySpan<float> y)
    {
        int len = x.Length;
        if (y.Length < len) throw new ArgumentException("Gemm.Dot: spans differ in length.");
        if (Avx512F.IsSupported && Vector512.IsHardwareAccelerated)
        {
            unsafe
            {
                fixed (float* px = x, py = y) return GemmAvx512.Dot(px, py, len);
            }
        }
        Span<float> lanes = stackalloc float[16];
        lanes.Clear();
        AddLaneProducts(x[..len], y[..len], lanes);
        return FoldLanes(lanes);
    }

    /// <summary>Adds the products of <paramref name="x"/> and <paramref name="y"/> to 16 lane sums (see <see cref="Dot"/>).</summary>
    internal static void AddLaneProducts(ReadOnlySpan<float> x, ReadOnlySpan<float> y, Span<float> lanes)
    {
        int len = x.Length, full = len & ~15;
        Span<float> padX = stackalloc float[16], padY = stackalloc float[16];
        padX.Clear(); padY.Clear();
        x[full..].CopyTo(padX);
        y[full..len].CopyTo(padY);
        if (Vector256.IsHardwareAccelerated)
        {
            var lo = Vector256.Create<float>(lanes[..8]);
            var hi = Vector256.Create<float>(lanes[8..]);
            ref float px = ref MemoryMarshal.GetReference(x);
            ref float py = ref MemoryMarshal.GetReference(y);
            for (int i = 0; i < full; i += 16)
            {
                lo = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref px, (nuint)i), Vector256.LoadUnsafe(ref py, (nuint)i), lo);
                hi = Vector256.FusedMultiplyAdd(Vector256.LoadUnsafe(ref px, (nuint)(i + 8)), Vector256.LoadUnsafe(ref py, (nuint)(i + 8)), hi);
            }
            if (full < len)
            {
                lo = Vector256.FusedMultiplyAdd(Vector256.Create<float>(padX[..8]), Vector256.Create<float>(padY[..8]), lo);
                hi = Vector256.FusedMultiplyAdd(Vector256.Create<float>(padX[8..]), Vector256.Create<float>(padY[8..]), hi);
            }
            lo.CopyTo(lanes);
            hi.CopyTo(lanes[8..]);
            return;
        }
        for (int i = 0; i < full; i += 16)
            for (int l = 0; l < 16; l++)
                lanes[l] = MathF.FusedMultiplyAdd(x[i + l], y[i + l], lanes[l]);
        if (full < len)
            for (int l = 0; l < 16; l++)
                lanes[l] = MathF.FusedMultiplyAdd(padX[l], padY[l], lanes[l]);
    }

    /// <summary>The fold of <see cref="Dot"/>: <c>v8 = l + (l+8)</c>, <c>v4 = v8 + (v8+4)</c>, <c>(v4[0] + v4[2]) + (v4[1] + v4[3])</c>.</summary>
    internal static float FoldLanes(ReadOnlySpan<float> lanes)
    {
        Span<float> v8 = stackalloc float[8];
        for (int l = 0; l < 8; l++) v8[l] = lanes[l] + lanes[l + 8];
        float s0 = v8[0] + v8[4], s1 = v8[1] + v8[5], s2 = v8[2] + v8[6], s3 = v8[3] + v8[7];
        return (s0 + s2) + (s1 + s3);
    }

    /// <summary><see cref="FoldLanes(ReadOnlySpan{float})"/> of 16 lane sums held in registers as lanes 0-7 and 8-15.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static float FoldLanes(Vector256<float> low, Vector256<float> high)
    {
        var v8 = low + high;
        var v4 = v8.GetLower() + v8.GetUpper();
        return (v4.GetElement(0) + v4.GetElement(2)) + (v4.GetElement(1) + v4.GetElement(3));
    }
}
