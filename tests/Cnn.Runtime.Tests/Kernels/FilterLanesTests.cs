using CnnGen.Kernels;
using Xunit;

namespace CnnGen.Tests.Kernels;

/// <summary>
/// <see cref="FilterLanes.Forward"/>, the product with the filters in the vector lanes from weights laid out by
/// <see cref="FilterLanes.Layout"/>: the bits of a plain scalar reference (one fused multiply-add per term in index order
/// from zero, then the bias, then the activation) and of <see cref="Gemm.MultiplyBiasActivation"/>, on shapes that take
/// the groups of 14 and 7 positions and single positions left over, depth blocks with a short last one, and ResNet-18's
/// 7x7 shapes, and positions that fill whole 16 x 16 transposes of the copy-out or leave some after them; a range of
/// filters writes exactly its rows, and a range of positions (<see cref="FilterLanes.ForwardPositions"/>) exactly its
/// columns, with the bits of the whole call.
/// </summary>
public class FilterLanesTests
{
    public static TheoryData<int, int, int, FusedActivation> Shapes()
    {
        var data = new TheoryData<int, int, int, FusedActivation>();
        foreach (var activation in new[] { FusedActivation.None, FusedActivation.Relu, FusedActivation.Relu6 })
        {
            data.Add(64, 49, 600, activation);   // a 7x7 map: 3 groups of 14 and one of 7; depth over two blocks and a short third
            data.Add(32, 196, 256, activation);  // a 14x14 map: 14 groups of 14, one whole depth block
            data.Add(96, 24, 9, activation);     // 14 + 7 + 3 single positions, a shallow depth
            data.Add(32, 1, 5, activation);      // one position
            data.Add(32, 256, 3, activation);    // the most positions a call takes
            data.Add(32, 16, 7, activation);     // one whole 16 x 16 transpose per half panel, no positions after it
            data.Add(64, 33, 20, activation);    // two transposes and one position copied alone
            data.Add(32, 257, 4, activation);    // past one chunk of the scratch: two chunks (140 + 117)
        }
        data.Add(512, 49, 4608, FusedActivation.Relu); // ResNet-18's layer4 3x3 convolutions
        data.Add(512, 49, 256, FusedActivation.None);  // its 1x1 stride-2 projection
        data.Add(128, 784, 576, FusedActivation.Relu); // its layer2.0.conv1 (3x3 stride 2 onto 28x28): 4 chunks of 196 positions
        data.Add(256, 196, 128, FusedActivation.None); // its layer3.0.downsample (1x1 stride 2 onto 14x14)
        return data;
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void GivesTheBitsOfTheScalarReferenceAndOfThePackedProduct(int m, int n, int k, FusedActivation activation)
    {
        var random = new Random(m * 7919 + n * 31 + k + (int)activation);
        float[] a = Values(random, m * k), b = Values(random, k * n), bias = Values(random, m);
        for (int i = 4; i < m; i += 5) bias[i] = float.NaN; // whole rows of NaN
        bias[1] = -0f; bias[2] = 6f; bias[3] = 100f;         // row 3 above ReLU6's bound
        if (n > 1) b[0] = float.NaN;                          // column 0 is NaN in every row
        var panels = new float[m * k];
        FilterLanes.Layout(a, panels, m, k);

        var actual = Enumerable.Repeat(123f, m * n + 4).ToArray();
        FilterLanes.Forward(panels, b, bias, actual, filters: m, k: k, positions: n, firstFilter: 0, endFilter: m, activation);
        var packed = new float[m * n];
        Gemm.MultiplyBiasActivation(a, b, packed, bias, m, n, k, activation);

        for (int f = 0; f < m; f++)
        for (int j = 0; j < n; j++)
        {
            float acc = 0f;
            for (int p = 0; p < k; p++) acc = MathF.FusedMultiplyAdd(a[f * k + p], b[p * n + j], acc);
            float v = acc + bias[f];
            float expected = activation == FusedActivation.None ? v : v < 0f ? 0f : activation == FusedActivation.Relu6 && v > 6f ? 6f : v;
            int i = f * n + j;
            Assert.True(Bits(expected) == Bits(actual[i]), $"[{m}x{k}]x[{k}x{n}] {activation}: out[{f}, {j}] is {actual[i]:R}, the reference gives {expected:R}");
            Assert.True(Bits(packed[i]) == Bits(actual[i]), $"[{m}x{k}]x[{k}x{n}] {activation}: out[{f}, {j}] is {actual[i]:R}, the packed product gives {packed[i]:R}");
        }
        Assert.Equal(new[] { 123f, 123f, 123f, 123f }, actual[(m * n)..]);
        if (activation != FusedActivation.None) Assert.Contains(actual[..(m * n)], v => v == 0f);
        if (activation == FusedActivation.Relu6) Assert.Contains(actual[..(m * n)], v => v == 6f);
        Assert.Contains(actual[..(m * n)], float.IsNaN);
    }

    [Fact]
    public void EachRangeOfPanelsWritesItsRowsWithTheBitsOfTheWholeCall()
    {
        const int m = 128, n = 49, k = 300;
        var (panels, b, bias, whole) = WholeProduct(m, n, k, seed: 5, FusedActivation.Relu);
        var ranges = Enumerable.Repeat(-7f, m * n).ToArray();
        FilterLanes.Forward(panels, b, bias, ranges, m, k, n, 32, 96, FusedActivation.Relu);
        AssertRangeWritten(whole, ranges, i => i / n >= 32 && i / n < 96);
        FilterLanes.Forward(panels, b, bias, ranges, m, k, n, 0, 32, FusedActivation.Relu);
        FilterLanes.Forward(panels, b, bias, ranges, m, k, n, 96, 128, FusedActivation.Relu);
        Assert.Equal(whole.Select(Bits), ranges.Select(Bits));
    }

    [Fact]
    public void EachRangeOfPositionsWritesItsColumnsWithTheBitsOfTheWholeCall()
    {
        // A 14x14 projection split by rows: 384 -> 64 (two panels), rows [0, 3), [3, 7), [7, 10), [10, 14) as two threads'
        // four ranges take them; a range starting mid-group of 14 and one of a single position.
        const int m = 64, n = 196, k = 384;
        var (panels, b, bias, whole) = WholeProduct(m, n, k, seed: 11, FusedActivation.Relu6);
        var ranges = Enumerable.Repeat(-7f, m * n).ToArray();
        FilterLanes.ForwardPositions(panels, b, bias, ranges, m, k, n, 42, 98, FusedActivation.Relu6);
        AssertRangeWritten(whole, ranges, i => i % n >= 42 && i % n < 98);
        foreach (var (first, end) in new[] { (0, 42), (98, 140), (140, 195), (195, 196) })
            FilterLanes.ForwardPositions(panels, b, bias, ranges, m, k, n, first, end, FusedActivation.Relu6);
        Assert.Equal(whole.Select(Bits), ranges.Select(Bits));
        Assert.Throws<ArgumentException>(() => FilterLanes.ForwardPositions(panels, b, bias, ranges, m, k, n, 100, 197));  // past the positions
        Assert.Throws<ArgumentException>(() => FilterLanes.ForwardPositions(panels, b, bias, ranges, m, k, n, 50, 40));   // reversed
        Assert.Throws<ArgumentException>(() => FilterLanes.ForwardPositions(panels, b, bias, ranges, 48, k, n, 0, 14));   // not whole panels
    }

    [Fact]
    public void LayoutPutsEachFiltersWeightsInItsLaneOfItsPanel()
    {
        const int m = 64, k = 3;
        var weight = Enumerable.Range(0, m * k).Select(i => (float)i).ToArray();
        var panels = new float[m * k];
        FilterLanes.Layout(weight, panels, m, k);
        for (int f = 0; f < m; f++)
        for (int p = 0; p < k; p++)
            Assert.Equal(weight[f * k + p], panels[f / 32 * 32 * k + p * 32 + f % 32]);
    }

    [Fact]
    public void RejectsShapesItDoesNotTake()
    {
        var buffer = new float[64 * 300];
        Assert.False(FilterLanes.Supports(48, 49));   // not whole panels of 32
        Assert.False(FilterLanes.Supports(64, 0));    // no positions
        Assert.True(FilterLanes.Supports(64, 3136));  // any number of positions, in chunks
        Assert.True(FilterLanes.Supports(512, 49));
        Assert.Throws<ArgumentException>(() => FilterLanes.Layout(buffer, buffer, 48, 4));
        Assert.Throws<ArgumentException>(() => FilterLanes.Forward(buffer, buffer, buffer, buffer, 64, 4, 49, 16, 64));  // range not whole panels
        Assert.Throws<ArgumentException>(() => FilterLanes.Forward(buffer, buffer, buffer, new float[10], 64, 4, 49, 0, 64)); // output too short
    }

    /// <summary>Random weights laid out in panels, columns and biases, and the whole call's product of them.</summary>
    private static (float[] Panels, float[] Col, float[] Bias, float[] Whole) WholeProduct(int m, int n, int k, int seed, FusedActivation activation)
    {
        var random = new Random(seed);
        float[] a = Values(random, m * k), col = Values(random, k * n), bias = Values(random, m);
        var panels = new float[m * k];
        FilterLanes.Layout(a, panels, m, k);
        var whole = new float[m * n];
        FilterLanes.Forward(panels, col, bias, whole, m, k, n, 0, m, activation);
        return (panels, col, bias, whole);
    }

    /// <summary>The values <paramref name="inRange"/> holds have the whole call's bits; the others are untouched (-7).</summary>
    private static void AssertRangeWritten(float[] whole, float[] ranges, Func<int, bool> inRange)
    {
        for (int i = 0; i < whole.Length; i++)
            if (inRange(i)) Assert.Equal(Bits(whole[i]), Bits(ranges[i]));
            else Assert.Equal(-7f, ranges[i]);
    }

    private static int Bits(float v) => BitConverter.SingleToInt32Bits(v);

    private static float[] Values(Random random, int n)
    {
        var v = new float[n];
        for (int i = 0; i < n; i++) v[i] = random.NextSingle() * 2f - 1f;
        return v;
    }
}
