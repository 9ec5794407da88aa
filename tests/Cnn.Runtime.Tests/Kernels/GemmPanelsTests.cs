using CnnGen.Kernels;
using Xunit;

namespace CnnGen.Tests.Kernels;

/// <summary>
/// <see cref="Gemm.MultiplyPanels"/>, the product with a B packed once in the panel layout (Winograd's transformed
/// weights), gives the bits of <see cref="Gemm.Multiply"/> on the same B: with fewer than eight rows (four-row blocks
/// read in place), with more (eight-row blocks, depth blocks continuing each chain), one panel and several.
/// </summary>
public class GemmPanelsTests
{
    [Theory]
    [InlineData(4, 32, 9)]      // one image's 7x7 map: four tiles
    [InlineData(3, 64, 300)]    // rows past the last repeat it; depth past one block
    [InlineData(32, 64, 64)]    // a block of tiles of a 64 -> 64 layer
    [InlineData(13, 96, 520)]   // rows not a multiple of 8, depth past two blocks
    public void GivesTheBitsOfMultiplyOnTheUnpackedMatrix(int m, int n, int k)
    {
        var random = new Random(m * 131 + n * 7 + k);
        var a = new float[m * k];
        var b = new float[k * n];
        for (int i = 0; i < a.Length; i++) a[i] = random.NextSingle() * 2 - 1;
        for (int i = 0; i < b.Length; i++) b[i] = random.NextSingle() * 2 - 1;
        var panels = new float[k * n];
        for (int p = 0; p < k; p++)
        for (int j = 0; j < n; j++)
            panels[Gemm.PanelLayout(p, j, k)] = b[p * n + j];
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

    [Fact]
    public void RefusesColumnsThatAreNotWholePanels()
    {
        var e = Assert.Throws<ArgumentException>(() => Gemm.MultiplyPanels(new float[8], new float[40], new float[40], m: 2, n: 20, k: 2));
        Assert.Contains("multiple of 32", e.Message);
    }
}
