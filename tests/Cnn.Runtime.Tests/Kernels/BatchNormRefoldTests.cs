using CnnGen.Kernels;
using Xunit;

namespace CnnGen.Tests.Kernels;

/// <summary>
/// <see cref="BatchNorm.Refold"/> against <see cref="BatchNorm.Fold"/>: over random shapes and values, and over NaN,
/// infinities, -0 and a zero BatchNorm weight, it leaves the folded spans holding exactly <see cref="BatchNorm.Fold"/>'s bits
/// whatever they held before, and reports a change exactly when one of those bits differs from what was held.
/// </summary>
public class BatchNormRefoldTests
{
    private sealed record Case(float[] Weight, float[] Bias, float[] BnWeight, float[] BnBias, float[] Mean, float[] Var, float Epsilon)
    {
        public int Filters => Bias.Length;

        /// <summary>What <see cref="BatchNorm.Fold"/> writes for this case: folded weights, then folded biases.</summary>
        public (float[] Weight, float[] Bias) Folded()
        {
            var weight = new float[Weight.Length];
            var bias = new float[Filters];
            BatchNorm.Fold(Weight, Bias, BnWeight, BnBias, Mean, Var, Epsilon, weight, bias);
            return (weight, bias);
        }

        public bool Refold(float[] foldedWeight, float[] foldedBias) =>
            BatchNorm.Refold(Weight, Bias, BnWeight, BnBias, Mean, Var, Epsilon, foldedWeight, foldedBias);
    }

    private static Case RandomCase(Random random, int filters, int perFilter, float epsilon = 1e-5f)
    {
        float[] Values(int n, float low, float high) => Enumerable.Range(0, n).Select(_ => low + (high - low) * random.NextSingle()).ToArray();
        return new Case(Values(filters * perFilter, -1, 1), Values(filters, -0.5f, 0.5f), Values(filters, 0.5f, 1.5f),
            Values(filters, -0.5f, 0.5f), Values(filters, -0.5f, 0.5f), Values(filters, 0.1f, 2f), epsilon);
    }

    public static TheoryData<int, int> Shapes => new()
    {
        { 1, 1 }, { 3, 9 }, { 16, 27 }, { 5, 1023 }, { 2, 1024 }, { 3, 1025 }, { 7, 2 * 1024 + 17 }, { 64, 576 },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void GivesFoldsBitsWhateverTheSpansHeld(int filters, int perFilter)
    {
        var random = new Random(filters * 1000 + perFilter);
        var input = RandomCase(random, filters, perFilter);
        var (wantWeight, wantBias) = input.Folded();

        // From zeros (a new network), from garbage, and from the same fold.
        var weight = new float[wantWeight.Length];
        var bias = new float[filters];
        Assert.True(input.Refold(weight, bias));
        AssertSameBits(wantWeight, weight);
        AssertSameBits(wantBias, bias);

        for (int i = 0; i < weight.Length; i++) weight[i] = random.NextSingle();
        for (int i = 0; i < bias.Length; i++) bias[i] = random.NextSingle();
        Assert.True(input.Refold(weight, bias));
        AssertSameBits(wantWeight, weight);
        AssertSameBits(wantBias, bias);

        Assert.False(input.Refold(weight, bias));
        AssertSameBits(wantWeight, weight);
        AssertSameBits(wantBias, bias);
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void ReportsAChangeExactlyWhenAFoldedBitChanges(int filters, int perFilter)
    {
        var random = new Random(7 * filters + perFilter);
        var input = RandomCase(random, filters, perFilter);
        var (weight, bias) = input.Folded();
        // One value of each input at a time, changed in one of several ways, some of which leave the fold as it was.
        for (int round = 0; round < 60; round++)
        {
            float[] target = (round % 6) switch
            {
                0 => input.Weight, 1 => input.Bias, 2 => input.BnWeight, 3 => input.BnBias, 4 => input.Mean, _ => input.Var,
            };
            int at = random.Next(target.Length);
            target[at] = (round / 6 % 5) switch
            {
                0 => target[at] + 0.25f,
                1 => BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(target[at]) ^ 1), // the last bit only
                2 => target[at], // unchanged
                3 => -target[at],
                _ => target == input.Var ? 0.5f : 0f, // a zero BatchNorm weight makes every folded weight of the filter 0 or -0
            };
            var held = ((float[])weight.Clone(), (float[])bias.Clone());
            var (wantWeight, wantBias) = input.Folded();
            bool bitsDiffer = !SameBits(wantWeight, held.Item1) || !SameBits(wantBias, held.Item2);
            Assert.Equal(bitsDiffer, input.Refold(weight, bias));
            AssertSameBits(wantWeight, weight);
            AssertSameBits(wantBias, bias);
        }
    }

    [Fact]
    public void NaNInfinitiesSignedZerosAndEpsilonGiveFoldsBits()
    {
        float nan = float.NaN, otherNaN = BitConverter.Int32BitsToSingle(0x7FC0_1234), negativeNaN = BitConverter.Int32BitsToSingle(unchecked((int)0xFFC0_0001));
        var weight = new[]
        {
            1f, -0f, 0f, nan, // filter 0: a plain scale
            otherNaN, 2f, float.PositiveInfinity, -3f, // 1: NaN scale (NaN weight of the BatchNorm)
            0f, -0f, 1f, -1f, // 2: zero scale: 0 and -0 out
            negativeNaN, float.NegativeInfinity, 1e-38f, -1e-38f, // 3: infinite scale (variance -epsilon)
            1f, 2f, 3f, 4f, // 4: zero variance, so the scale is bn weight / sqrt(epsilon)
        };
        var input = new Case(weight,
            Bias: [0f, -0f, 1f, nan, -0f],
            BnWeight: [2f, nan, 0f, 1f, 3f],
            BnBias: [-0f, 0f, -0f, 1f, 0f],
            Mean: [0f, 0f, 1f, 0f, -0f],
            Var: [1f, 1f, 1f, -1e-3f, 0f],
            Epsilon: 1e-3f);
        var (wantWeight, wantBias) = input.Folded();
        Assert.Contains(wantWeight, float.IsNaN);
        Assert.Contains(wantWeight, v => v == 0 && float.IsNegative(v));
        Assert.Contains(wantWeight, float.IsInfinity);

        // Held values that compare equal as floats but not as bits (0 and -0), or that never compare equal (NaN).
        var held = wantWeight.Select(v => v == 0 ? -v : v).ToArray();
        var heldBias = wantBias.Select(v => v == 0 ? -v : v).ToArray();
        Assert.True(input.Refold(held, heldBias));
        AssertSameBits(wantWeight, held);
        AssertSameBits(wantBias, heldBias);
        // The same NaNs held: nothing changed.
        Assert.False(input.Refold(held, heldBias));
        // A NaN held with another payload is a change.
        int nanAt = Array.FindIndex(wantWeight, float.IsNaN);
        held[nanAt] = BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(held[nanAt]) ^ 2);
        Assert.True(input.Refold(held, heldBias));
        AssertSameBits(wantWeight, held);

        // Epsilon alone moves every fold.
        var moved = input with { Epsilon = 2e-3f };
        Assert.True(moved.Refold(held, heldBias));
        var (movedWeight, movedBias) = moved.Folded();
        AssertSameBits(movedWeight, held);
        AssertSameBits(movedBias, heldBias);
    }

    [Fact]
    public void MismatchedSpansAreRefusedByName()
    {
        var four = new float[4];
        var error = Assert.Throws<ArgumentException>(() => BatchNorm.Refold(new float[8], four, four, four, four, four, 1e-5f, new float[7], four));
        Assert.Contains("7 folded weights", error.Message);
        error = Assert.Throws<ArgumentException>(() => BatchNorm.Refold(new float[8], four, new float[3], four, four, four, 1e-5f, new float[8], four));
        Assert.Contains("3 channels", error.Message);
    }

    private static bool SameBits(float[] a, float[] b) =>
        a.Length == b.Length && a.Select(BitConverter.SingleToInt32Bits).SequenceEqual(b.Select(BitConverter.SingleToInt32Bits));

    private static void AssertSameBits(float[] expected, float[] actual) =>
        Assert.Equal(expected.Select(BitConverter.SingleToInt32Bits), actual.Select(BitConverter.SingleToInt32Bits));
}
