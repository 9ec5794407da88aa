using CnnGen.Kernels;
using Xunit;

namespace CnnGen.Tests.Kernels;

/// <summary>
/// <see cref="Gemm.MultiplyColumnsOf"/>: a block of B's columns read in place (its rows <c>ldb</c> apart) into a C of
/// that block's width, with the bits of the whole <see cref="Gemm.Multiply"/>'s same columns; on Winograd's products of
/// GoogLeNet's 14x14 layers (16 tiles by 96 channels, 208 filters cut in two), blocks inside vectors and few rows.
/// </summary>
public class GemmColumnsOfTests
{
    [Theory]
    [InlineData(16, 208, 96, 96)]    // a range of 96 filters, then one of 112: wide panels of 48, then 16 left
    [InlineData(32, 80, 64, 16)]     // one vector of 16 columns at a time
    [InlineData(9, 70, 40, 24)]      // blocks that end inside vectors; one row after the block of 8
    [InlineData(3, 50, 7, 20)]       // too few rows for the panel path
    public void BlocksOfColumnsGiveTheWholeProductsBits(int m, int n, int k, int block)
    {
        var random = new Random(m * 131 + n * 17 + k + block);
        float[] a = Values(random, m * k), b = Values(random, k * n);
        var whole = new float[m * n];
        Gemm.Multiply(a, b, whole, m, n, k);
        Assert.Contains(whole, v => v != 0f);
        for (int first = 0; first < n; first += block)
        {
            int width = Math.Min(block, n - first);
            var c = new float[m * width];
            Array.Fill(c, float.NaN);
            Gemm.MultiplyColumnsOf(a, b.AsSpan(first), ldb: n, c, m, width, k);
            for (int i = 0; i < m; i++)
                for (int j = 0; j < width; j++)
                    Assert.True(BitConverter.SingleToInt32Bits(whole[i * n + first + j]) == BitConverter.SingleToInt32Bits(c[i * width + j]),
                        $"row {i}, column {first + j}: the block gave {c[i * width + j]:R}, the whole product {whole[i * n + first + j]:R}");
        }
    }

    [Fact]
    public void RowsCloserThanTheBlockIsWideOrABTooShortAreRefused()
    {
        float[] a = new float[8], b = new float[20], c = new float[12];
        var e = Assert.Throws<ArgumentException>(() => Gemm.MultiplyColumnsOf(a, b, ldb: 5, c, m: 2, n: 6, k: 4));
        Assert.Contains("[2x4] * [4x6] with B's rows 5 apart", e.Message);
        // Four rows 6 apart need 3 * 6 + 6 = 24 values.
        Assert.Throws<ArgumentException>(() => Gemm.MultiplyColumnsOf(a, b, ldb: 6, c, m: 2, n: 6, k: 4));
    }

    private static float[] Values(Random random, int length)
    {
        var v = new float[length];
        for (int i = 0; i < length; i++) v[i] = (float)(random.NextDouble() * 2 - 1);
        return v;
    }
}
