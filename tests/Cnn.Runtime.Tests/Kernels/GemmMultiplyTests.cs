using CnnGen.Kernels;
using Xunit;

namespace CnnGen.Tests.Kernels;

/// <summary>
/// <see cref="Gemm.Multiply"/> gives every element of C exactly the bits of one fused multiply-add per term in index
/// order, computed here one scalar at a time, on shapes that take the 48-column panels and the 32-column one after
/// them (several, with columns left over; panel by panel, and blocks of rows along all of a small B), depths past 256, rows not a multiple of 8, the
/// 8-row blocks of the columns after the panels (a masked second vector, one full vector, a masked one), narrow
/// products of 57 to 64 columns (or of fewer than 16 rows) in one block of 4 rows by 64, the last 1 to 8 columns 16 rows at a time
/// (A transposed in blocks), the transposed A of backward-data and accumulation into C.
/// </summary>
public class GemmMultiplyTests
{
    [Theory]
    [InlineData(16, 1024, 144, false, false)]   // a 32x32 convolution's forward product
    [InlineData(144, 1024, 16, true, false)]    // its backward-data product, W^T x dY
    [InlineData(27, 70, 600, false, false)]     // depth past two blocks, rows and columns left over
    [InlineData(13, 96, 300, true, true)]
    [InlineData(8, 32, 4, false, true)]
    [InlineData(7, 64, 9, false, false)]        // too few rows for the panel path
    [InlineData(40, 31, 50, true, false)]       // no full panel
    [InlineData(9, 49, 160, false, false)]      // a 7x7 map: one panel, then 17 columns in one 8-row block (the last vector masked)
    [InlineData(64, 16, 20, false, false)]      // exactly one vector of columns, 8 rows at a time
    [InlineData(96, 100, 16, false, false)]     // many rows: twelve 8-row blocks down each panel, the last one asking for the next
    [InlineData(40, 70, 24, true, true)]        // the same with the transposed A, accumulating
    [InlineData(40, 1000, 300, false, true)]    // a B past 1 MiB, 20 wide panels and one of 32, accumulating
    [InlineData(12, 48, 7, true, true)]         // one panel and a full 16-column block, accumulating
    [InlineData(10, 100, 3, false, false)]      // too shallow for the panel path: 8-row blocks of 32 columns and a masked rest
    [InlineData(16, 49, 300, false, false)]     // 49 columns: a panel of 48 and the column tail, depth past two blocks of 128
    [InlineData(13, 50, 40, false, true)]       // narrow: 50 columns (two in the last vector), rows not a multiple of 4, accumulating
    [InlineData(12, 36, 40, false, false)]      // 36 columns keep the panel and 8-row blocks
    [InlineData(9, 64, 130, false, false)]      // exactly 64 columns
    [InlineData(20, 49, 30, true, false)]       // the transposed A of backward-data keeps the other paths
    [InlineData(16, 96, 20, false, false)]      // exactly two panels of 48
    [InlineData(13, 130, 40, false, true)]      // two panels of 48, one of 32 and two columns left, accumulating
    [InlineData(40, 90, 24, false, true)]       // rows along a small B: a panel of 48, one of 32, ten columns left, accumulating
    [InlineData(9, 784, 30, true, false)]       // a 28x28 map: sixteen panels of 48 and 16 columns left, the transposed A
    [InlineData(33, 49, 40, false, true)]       // the column tail: one column after the panel, 16 rows a vector (one row in the last), terms past the blocks of 16, accumulating
    [InlineData(17, 196, 19, false, false)]     // a 14x14 map: four panels of 48, four columns left in one vector of rows, one row left over
    [InlineData(40, 55, 64, false, true)]       // seven columns left: eight accumulators, the last reading the seventh column again, accumulating
    [InlineData(20, 3, 70, false, false)]       // no panel: three columns in four accumulators
    [InlineData(48, 98, 16, false, false)]      // two panels of 48, two columns left, one block of terms
    [InlineData(32, 8, 33, false, true)]        // eight columns alone, accumulating
    [InlineData(16, 49, 20, true, false)]       // the transposed A keeps the masked columns
    [InlineData(15, 49, 40, false, false)]      // fewer rows than a vector: the narrow path still
    [InlineData(16, 57, 40, false, false)]      // nine columns after the panel: the narrow path
    public void MatchesTheFusedMultiplyAddChainBitForBit(int m, int n, int k, bool transposeA, bool accumulate)
    {
        var random = new Random(m * 7919 + n * 31 + k);
        float[] a = Random(random, m * k), b = Random(random, k * n), start = Random(random, m * n);
        var actual = (float[])start.Clone();
        Gemm.Multiply(a, b, actual, m, n, k, transposeA, accumulate);
        for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++)
        {
            float expected = accumulate ? start[i * n + j] : 0f;
            for (int p = 0; p < k; p++)
                expected = MathF.FusedMultiplyAdd(transposeA ? a[p * m + i] : a[i * k + p], b[p * n + j], expected);
            Assert.True(BitConverter.SingleToInt32Bits(expected) == BitConverter.SingleToInt32Bits(actual[i * n + j]),
                $"[{m}x{k}]x[{k}x{n}] transposeA {transposeA} accumulate {accumulate}: C[{i}, {j}] is {actual[i * n + j]:R}, the chain gives {expected:R}");
        }
    }

    private static float[] Random(Random random, int length)
    {
        var values = new float[length];
        for (int i = 0; i < length; i++) values[i] = (float)(random.NextDouble() * 2 - 1);
        return values;
    }
}
