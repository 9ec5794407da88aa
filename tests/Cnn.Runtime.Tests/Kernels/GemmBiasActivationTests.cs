using CnnGen.Kernels;
using Xunit;

namespace CnnGen.Tests.Kernels;

/// <summary>
/// <see cref="Gemm.MultiplyBiasActivation"/>, a convolution's product with its bias and activation applied as C is
/// stored, gives exactly the bits of the three passes it replaces (<see cref="Gemm.Multiply"/>,
/// <see cref="Elementwise.AddBias"/>, then <see cref="Activations.Relu"/> or <see cref="Relu6.Forward"/>), on shapes
/// that take the 48-column panels and a 32-column one (panel by panel, and blocks of rows along all of a small B), the narrow path (the bias
/// added only after the last depth block), the last 1 to 8 columns 16 rows at a time, the 4-row blocks with masked tails,
/// and rows not a multiple of the blocks; with sums that land on NaN, -0 and both of ReLU6's bounds.
/// </summary>
public class GemmBiasActivationTests
{
    public static TheoryData<int, int, int, FusedActivation> Shapes()
    {
        var data = new TheoryData<int, int, int, FusedActivation>();
        foreach (var activation in new[] { FusedActivation.None, FusedActivation.Relu, FusedActivation.Relu6 })
        {
            data.Add(64, 784, 576, activation);   // a stride-2 3x3 convolution's product: depth past two blocks
            data.Add(27, 70, 300, activation);    // rows left over after the 8-row blocks, columns after the panels
            data.Add(96, 49, 16, activation);     // a 1x1 expansion on 7x7: one panel and the column tail
            data.Add(33, 196, 40, activation);    // a 14x14 map: four panels, four columns 16 rows at a time, one row left
            data.Add(20, 7, 19, activation);      // seven columns alone, 16 rows and 4 in a vector each
            data.Add(144, 100, 24, activation);   // a 1x1 expansion on more positions: blocks of rows along B, then the columns left
            data.Add(7, 100, 9, activation);      // too few rows for the panel path
            data.Add(9, 20, 5, activation);       // no full panel: one 8-row block, its second vector masked
            data.Add(16, 16, 4, activation);      // one full vector of columns
            data.Add(512, 49, 300, activation);   // a 7x7 map under a deep layer: a panel and the column tail
            data.Add(12, 49, 300, activation);    // fewer rows: the narrow path, bias after the last depth block
            data.Add(10, 63, 20, activation);     // 63 columns: the last vector masked
            data.Add(1, 5, 3, activation);
            data.Add(32, 784, 192, activation);   // a MobileNetV2 projection on 28x28: sixteen panels of 48, 16 columns left
            data.Add(40, 176, 16, activation);    // rows along a small B: three panels of 48, one of 32
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void GivesTheBitsOfProductThenBiasThenActivation(int m, int n, int k, FusedActivation activation)
    {
        var random = new Random(m * 7919 + n * 31 + k + (int)activation);
        float[] a = Values(random, m * k), b = Values(random, k * n), bias = Values(random, m);
        for (int i = 4; i < m; i += 5) bias[i] = float.NaN; // whole rows of NaN
        if (m > 3) { bias[1] = -0f; bias[2] = 6f; bias[3] = 100f; } // row 3 above ReLU6's bound
        b[0] = float.NaN; // column 0 is NaN in every row
        var expected = new float[m * n];
        Gemm.Multiply(a, b, expected, m, n, k);
        Elementwise.AddBias(expected, bias, rows: m, columns: n);
        if (activation == FusedActivation.Relu) Activations.Relu(expected, expected);
        if (activation == FusedActivation.Relu6) Relu6.Forward(expected, expected);

        var actual = Enumerable.Repeat(123f, m * n + 4).ToArray();
        Gemm.MultiplyBiasActivation(a, b, actual, bias, m, n, k, activation);

        for (int i = 0; i < m * n; i++)
            Assert.True(BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(actual[i]),
                $"[{m}x{k}]x[{k}x{n}] {activation}: C[{i / n}, {i % n}] is {actual[i]:R}, the three passes give {expected[i]:R}");
        Assert.Equal(new[] { 123f, 123f, 123f, 123f }, actual[(m * n)..]);
        if (activation != FusedActivation.None) Assert.Contains(actual[..(m * n)], v => v == 0f);
        if (activation == FusedActivation.Relu6 && m > 3) Assert.Contains(actual[..(m * n)], v => v == 6f);
    }

    [Fact]
    public void RejectsTooFewBiases()
    {
        var e = Assert.Throws<ArgumentException>(() =>
            Gemm.MultiplyBiasActivation(new float[6], new float[6], new float[4], new float[1], m: 2, n: 2, k: 3));
        Assert.Contains("2 biases", e.Message);
    }

    /// <summary>Values of either sign, a few of them large enough that sums pass 6.</summary>
    private static float[] Values(Random random, int length)
    {
        var v = new float[length];
        for (int i = 0; i < length; i++) v[i] = (float)(random.NextDouble() * 2 - 1) * (random.Next(8) == 0 ? 8f : 1f);
        return v;
    }
}
