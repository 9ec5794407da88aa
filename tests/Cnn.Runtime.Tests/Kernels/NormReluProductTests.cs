using CnnGen.Kernels;
using Xunit;

namespace CnnGen.Tests.Kernels;

/// <summary>A 1x1 convolution that normalises and rectifies its input as it reads it gives exactly the bits of the
/// BatchNorm with its ReLU, then the product (weights as rows or as panels): whole, in ranges of filters and of
/// positions, with NaNs and negative zeros among the inputs; a range writes only its own outputs; bad ranges and spans
/// are refused by name.</summary>
public class NormReluProductTests
{
    private static readonly FusedActivation[] Activations = [FusedActivation.None, FusedActivation.Relu, FusedActivation.Relu6];

    [Theory]
    [InlineData(128, 64, 3136, false)]   // DenseNet-121's first 1x1 layer: 56 x 56 positions, blocks of 480
    [InlineData(128, 224, 3136, false)]  // its sixth: blocks of 144
    [InlineData(128, 480, 784, false)]   // 28 x 28, blocks of 48
    [InlineData(128, 1000, 196, true)]   // 14 x 14 with the filters in the lanes: blocks of 28 positions
    [InlineData(128, 992, 49, true)]     // 7 x 7, blocks of 28 and 21
    [InlineData(40, 7, 100, false)]      // a product narrower than a panel: blocks of 100, the rest outside the panel path
    [InlineData(64, 2048, 30, true)]     // deeper than a block holds positions: blocks of 14
    public void TheBitsOfTheBatchNormTheReluAndTheProduct(int filters, int k, int positions, bool lanes)
    {
        var random = new Random(filters + k + positions);
        var (weight, x, scale, shift, bias) = Operands(random, filters, k, positions);
        foreach (var activation in Activations)
        {
            var expected = Expected(weight, x, scale, shift, bias, filters, k, positions, activation);
            var operand = lanes ? Panels(weight, filters, k) : weight;
            var actual = new float[filters * positions];
            NormReluProduct.Forward(operand, lanes, x, scale, shift, bias, actual, filters, k, positions, 0, filters, 0, positions, activation);
            AssertSameBits(expected, actual, $"{filters}x{k}x{positions} {(lanes ? "lanes" : "rows")} {activation}");
        }
    }

    [Fact]
    public void RangesGiveTheBitsAndWriteOnlyTheirOutputs()
    {
        var random = new Random(5);
        for (int trial = 0; trial < 60; trial++)
        {
            bool lanes = trial % 2 == 1;
            int filters = lanes ? 32 * random.Next(1, 5) : random.Next(1, 70), k = random.Next(1, 600), positions = random.Next(1, 400);
            var (weight, x, scale, shift, bias) = Operands(random, filters, k, positions);
            var activation = Activations[trial % 3];
            var expected = Expected(weight, x, scale, shift, bias, filters, k, positions, activation);
            int unit = lanes ? 32 : 1;
            int f0 = random.Next(0, filters / unit) * unit, f1 = random.Next(f0 / unit + 1, filters / unit + 1) * unit;
            int p0 = random.Next(0, positions), p1 = random.Next(p0 + 1, positions + 1);
            var part = new float[filters * positions];
            Array.Fill(part, float.NaN);
            NormReluProduct.Forward(lanes ? Panels(weight, filters, k) : weight, lanes, x, scale, shift, bias, part, filters, k, positions, f0, f1, p0, p1, activation);
            string what = $"trial {trial}: {filters}x{k}x{positions} {(lanes ? "lanes" : "rows")}, filters [{f0}, {f1}), positions [{p0}, {p1})";
            for (int f = 0; f < filters; f++)
            for (int j = 0; j < positions; j++)
            {
                int i = f * positions + j;
                if (f >= f0 && f < f1 && j >= p0 && j < p1)
                    Assert.True(BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(part[i]), $"{what}: output {i} is {part[i]:R}, not {expected[i]:R}");
                else Assert.True(float.IsNaN(part[i]), $"{what}: output {i} outside the ranges was written");
            }
        }
    }

    [Fact]
    public void BadRangesAndSpansAreRefusedWithTheirNames()
    {
        float[] weight = new float[64 * 100], x = new float[100 * 49], scale = new float[100], shift = new float[100], bias = new float[64], output = new float[64 * 49];
        var filters = Assert.Throws<ArgumentException>(() =>
            NormReluProduct.Forward(weight, false, x, scale, shift, bias, output, 64, 100, 49, 10, 70, 0, 49));
        Assert.Contains("filters [10, 70) of 64", filters.Message);
        var positions = Assert.Throws<ArgumentException>(() =>
            NormReluProduct.Forward(weight, false, x, scale, shift, bias, output, 64, 100, 49, 0, 64, 20, 10));
        Assert.Contains("positions [20, 10) of 49", positions.Message);
        var panels = Assert.Throws<ArgumentException>(() =>
            NormReluProduct.Forward(weight, true, x, scale, shift, bias, output, 64, 100, 49, 16, 64, 0, 49));
        Assert.Contains("not whole panels of 32", panels.Message);
        var spans = Assert.Throws<ArgumentException>(() =>
            NormReluProduct.Forward(weight, false, x, scale.AsSpan(1), shift, bias, output, 64, 100, 49, 0, 64, 0, 49));
        Assert.Contains("spans too short", spans.Message);
    }

    private static (float[] Weight, float[] X, float[] Scale, float[] Shift, float[] Bias) Operands(Random random, int filters, int k, int positions)
    {
        var weight = Random(random, filters * k);
        var x = Random(random, k * positions);
        var scale = Random(random, k);
        var shift = Random(random, k);
        var bias = Random(random, filters);
        // A NaN, a -0 and values that the shift takes exactly to zero: the ReLU's edges.
        x[positions / 2] = float.NaN;
        x[Math.Min(x.Length - 1, positions + 1)] = -0f;
        shift[0] = 0f;
        return (weight, x, scale, shift, bias);
    }

    /// <summary>The three layers one after the other: the BatchNorm's pass with its ReLU, then the product.</summary>
    private static float[] Expected(float[] weight, float[] x, float[] scale, float[] shift, float[] bias, int filters, int k, int positions, FusedActivation activation)
    {
        var normalised = new float[x.Length];
        BatchNorm.Apply(x, normalised, 1, k, positions, scale, shift, FusedActivation.Relu);
        var output = new float[filters * positions];
        Gemm.MultiplyBiasActivation(weight, normalised, output, bias, filters, positions, k, activation);
        return output;
    }

    private static float[] Panels(float[] weight, int filters, int k)
    {
        var panels = new float[weight.Length];
        FilterLanes.Layout(weight, panels, filters, k);
        return panels;
    }

    private static void AssertSameBits(float[] expected, float[] actual, string what)
    {
        for (int i = 0; i < actual.Length; i++)
            Assert.True(BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(actual[i]),
                $"{what}: output {i} is {actual[i]:R}, the three layers give {expected[i]:R}");
    }

    private static float[] Random(Random random, int n)
    {
        var values = new float[n];
        for (int i = 0; i < values.Length; i++) values[i] = (float)(random.NextDouble() * 2 - 1);
        return values;
    }
}
