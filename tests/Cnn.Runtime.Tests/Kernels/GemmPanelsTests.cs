using CnnGen.Kernels;
using Xunit;

namespace CnnGen.Tests.Kernels;

/// <summary>
/// <see cref="Gemm.MultiplyPanels"/>, the product with a B packed once in the panel layout (Winograd's transformed
/// weights), gives the bits of <see cref="Gemm.Multiply"/> on the same B: with fewer than eight rows (four-row blocks
/// read in place), with more (eight-row blocks, depth blocks continuing each chain), one panel and several, and with a
/// last panel narrower than 32 columns (filters that are not a multiple of 32), alone or after whole ones.
/// </summary>
public class GemmPanelsTests
{
    [Theory]
    [InlineData(4, 32, 9)]      // one image's 7x7 map: four tiles
    [InlineData(3, 64, 300)]    // rows past the last repeat it; depth past one block
    [InlineData(32, 64, 64)]    // a block of tiles of a 64 -> 64 layer
    [InlineData(13, 96, 520)]   // rows not a multiple of 8, depth past two blocks
    [InlineData(16, 208, 96)]   // GoogLeNet's inception 4a 3x3 at one image: 6 panels and one of 16
    [InlineData(4, 48, 20)]     // fewer than eight rows, 48 columns: the rows kept
    [InlineData(6, 80, 20)]     // fewer than eight rows, two panels and one of 16
    [InlineData(9, 3, 40)]      // only a narrow panel (an input gradient of 3 channels)
    [InlineData(13, 77, 300)]   // a narrow panel of 13 columns (one masked vector), depth past one block
    public void GivesTheBitsOfMultiplyOnTheUnpackedMatrix(int m, int n, int k)
    {
        var (a, b, panels) = Operands(new Random(m * 131 + n * 7 + k), m, k, n);
        var expected = new float[m * n];
        Gemm.Multiply(a, b, expected, m, n, k);
        // Where the next product's panels lie only moves what the product asks for ahead: a point further on, one back.
        foreach (long? next in new long?[] { null, 3L * k * n, -5L * k * n })
        {
            var actual = Enumerable.Repeat(float.NaN, m * n).ToArray();
            Gemm.MultiplyPanels(a, panels, actual, m, n, k, nextPanelsAt: next);
            for (int i = 0; i < expected.Length; i++)
                Assert.True(BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(actual[i]),
                    $"[{m}x{k}]x[{k}x{n}], next at {next}: C[{i / n}, {i % n}] is {actual[i]:R}, Multiply gives {expected[i]:R}");
        }
    }

    [Theory]
    [InlineData(0, 96)]
    [InlineData(96, 208)]
    [InlineData(160, 208)]     // a whole panel and the narrow one: 48 columns of a larger layout are not its rows
    [InlineData(192, 208)]
    [InlineData(64, 160)]
    public void ARangeOfALargerLayoutGivesTheBitsOfItsColumns(int first, int end)
    {
        // Winograd's ranges of filters read their panels of each point's weights, laid out for all 208 filters.
        const int m = 16, k = 96, columns = 208;
        var (a, b, panels) = Operands(new Random(first * 31 + end), m, k, columns);
        int n = end - first;
        var expected = new float[m * n];
        Gemm.MultiplyColumnsOf(a, b.AsSpan(first), columns, expected, m, n, k);
        var actual = Enumerable.Repeat(float.NaN, m * n).ToArray();
        Gemm.MultiplyPanels(a, panels.AsSpan(first * k), actual, m, n, k, layoutColumns: columns);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(actual[i]),
                $"filters [{first}, {end}) of {columns}: C[{i / n}, {i % n}] is {actual[i]:R}, the columns' product gives {expected[i]:R}");
    }

    [Fact]
    public void ARangeOfALayoutThatKeepsItsRowsIsRefused()
    {
        var e = Assert.Throws<ArgumentException>(() =>
            Gemm.MultiplyPanels(new float[8 * 4], new float[4 * 48], new float[8 * 32], m: 8, n: 32, k: 4, layoutColumns: 48));
        Assert.Contains("keeps its rows", e.Message);
    }

    [Fact]
    public void TheLayoutPutsEveryElementInItsOwnPlaceWithinKTimesN()
    {
        // 2 whole panels and one of 5 columns: every (p, j) lands on a distinct place among the k * n values.
        const int k = 7, n = 69;
        var seen = new bool[k * n];
        for (int p = 0; p < k; p++)
        for (int j = 0; j < n; j++)
        {
            long at = Gemm.PanelLayout(p, j, k, n);
            Assert.InRange(at, 0, k * n - 1);
            Assert.False(seen[at], $"({p}, {j}) lands on {at}, taken before");
            seen[at] = true;
        }
        // The narrow panel's rows follow each other, 5 values long, after the two whole panels.
        Assert.Equal(2L * k * 32, Gemm.PanelLayout(0, 64, k, n));
        Assert.Equal(2L * k * 32 + 5, Gemm.PanelLayout(1, 64, k, n));
        // Below 64 columns, a width that is not a multiple of 32 keeps the matrix's rows.
        Assert.Equal(3L * 48 + 40, Gemm.PanelLayout(3, 40, k, 48));
    }

    [Fact]
    public void RefusesSpansTooShort()
    {
        var e = Assert.Throws<ArgumentException>(() => Gemm.MultiplyPanels(new float[8], new float[39], new float[40], m: 2, n: 20, k: 2));
        Assert.Contains("spans too short", e.Message);
    }

    /// <summary>Random A [m, k] and B [k, n] in [-1, 1), and B in the panel layout.</summary>
    private static (float[] A, float[] B, float[] Panels) Operands(Random random, int m, int k, int n)
    {
        var a = new float[m * k];
        var b = new float[k * n];
        for (int i = 0; i < a.Length; i++) a[i] = random.NextSingle() * 2 - 1;
        for (int i = 0; i < b.Length; i++) b[i] = random.NextSingle() * 2 - 1;
        var panels = new float[k * n];
        for (int p = 0; p < k; p++)
        for (int j = 0; j < n; j++)
            panels[Gemm.PanelLayout(p, j, k, n)] = b[p * n + j];
        return (a, b, panels);
    }
}
