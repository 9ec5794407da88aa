using CnnGen.Kernels;
using Xunit;

namespace CnnGen.Tests.Kernels;

/// <summary>
/// <see cref="Gemm.MultiplyBiasActivationColumns"/>, a range of a convolution's output positions for one thread of a
/// split pass: its columns have exactly the bits of the whole <see cref="Gemm.MultiplyBiasActivation"/>, every range of a
/// split together gives the whole product, and nothing outside the range is written; on shapes whose whole product takes
/// the column tail (a panel and 1 to 8 columns left), the narrow path, the packed panels, or only the 8- and 4-row blocks.
/// </summary>
public class GemmColumnsTests
{
    public static TheoryData<int, int, int, int, FusedActivation> Shapes()
    {
        var data = new TheoryData<int, int, int, int, FusedActivation>();
        foreach (var activation in new[] { FusedActivation.None, FusedActivation.Relu6 })
        {
            data.Add(16, 3136, 96, 32, activation);  // a 1x1 projection onto 56x56 in panels of 32
            data.Add(24, 784, 144, 32, activation);  // onto 28x28
            data.Add(64, 784, 576, 32, activation);  // a stride-2 3x3 product, depth past two blocks
            data.Add(512, 49, 300, 16, activation);  // the whole product takes a panel and the column tail
            data.Add(40, 196, 50, 100, activation);  // ranges of 100 and 96: a panel of 48 and 4 columns left, two panels
            data.Add(12, 60, 300, 20, activation);   // the whole product takes the narrow path
            data.Add(27, 70, 300, 7, activation);    // ranges inside vectors, rows after the 8-row blocks
            data.Add(7, 100, 9, 25, activation);     // too few rows for the panel path
            data.Add(1, 5, 3, 1, activation);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void RangesOfColumnsGiveTheWholeProductsBits(int m, int n, int k, int block, FusedActivation activation)
    {
        var random = new Random(m * 7919 + n * 31 + k + block);
        float[] a = Values(random, m * k), b = Values(random, k * n), bias = Values(random, m);
        var whole = new float[m * n];
        Gemm.MultiplyBiasActivation(a, b, whole, bias, m, n, k, activation);
        Assert.Contains(whole, v => v != 0f);

        var ranges = new float[m * n];
        Array.Fill(ranges, float.NaN);
        for (int first = 0; first < n; first += block)
        {
            int end = Math.Min(n, first + block);
            // A range alone writes its columns and no other.
            var alone = new float[m * n];
            Array.Fill(alone, 123f);
            Gemm.MultiplyBiasActivationColumns(a, b, alone, bias, m, n, k, first, end, activation);
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++)
                    if (j < first || j >= end) Assert.Equal(123f, alone[i * n + j]);
            Gemm.MultiplyBiasActivationColumns(a, b, ranges, bias, m, n, k, first, end, activation);
        }
        for (int i = 0; i < whole.Length; i++)
            Assert.True(BitConverter.SingleToInt32Bits(whole[i]) == BitConverter.SingleToInt32Bits(ranges[i]),
                $"element {i}: ranges gave {ranges[i]:R}, the whole product {whole[i]:R}");
    }

    [Fact]
    public void ARangeOutsideTheColumnsIsRefused()
    {
        var a = new float[4]; var b = new float[8]; var c = new float[8]; var bias = new float[2];
        var e = Assert.Throws<ArgumentException>(() => Gemm.MultiplyBiasActivationColumns(a, b, c, bias, 2, 4, 2, 3, 5));
        Assert.Contains("columns [3, 5) are not within the 4 columns", e.Message);
    }

    private static float[] Values(Random random, int length)
    {
        var v = new float[length];
        for (int i = 0; i < length; i++) v[i] = (float)(random.NextDouble() * 2 - 1) * (random.Next(8) == 0 ? 8f : 1f);
        return v;
    }
}
