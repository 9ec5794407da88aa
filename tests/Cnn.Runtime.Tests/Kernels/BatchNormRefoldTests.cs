using CnnGen.Kernels;
using Xunit;

namespace CnnGen.Tests.Kernels;

/// <summary>
/// <see cref="BatchNorm.Refold"/> against <see cref="BatchNorm.Fold"/>: over random shapes and values, and over NaN,
/// infinities, -0 and a zero BatchNorm weight, it leaves the folded spans holding exactly <see cref="BatchNorm.Fold"/>'s bits
/// whatever they held before (a NaN weight times a NaN scale aside: see <see cref="AssertFoldedWeights"/>), and reports a
/// change exactly when one of those bits differs from what was held.
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
        { 300, 9 }, { 40, 96 }, { 1, 3000 }, // depthwise and 1x1 rows, many to a block of 1,024 and cut by its end
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
        AssertFoldedWeights(input, wantWeight, held);
        AssertSameBits(wantBias, heldBias);
        // The same NaNs held: nothing changed.
        Assert.False(input.Refold(held, heldBias));
        // A NaN held with another payload is a change.
        int nanAt = Array.FindIndex(wantWeight, float.IsNaN);
        held[nanAt] = BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(held[nanAt]) ^ 2);
        Assert.True(input.Refold(held, heldBias));
        AssertFoldedWeights(input, wantWeight, held);

        // Epsilon alone moves every fold.
        var moved = input with { Epsilon = 2e-3f };
        Assert.True(moved.Refold(held, heldBias));
        var (movedWeight, movedBias) = moved.Folded();
        AssertFoldedWeights(moved, movedWeight, held);
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

    /// <summary>Fold's bits, except where both the weight and the filter's scale are NaN: the processor returns its
    /// first operand's NaN there, and which one the compiler puts first differs between its tiers (Fold itself gives
    /// either from one run to the next), so either NaN, quieted, is right; Refold always takes the weight's.</summary>
    private static void AssertFoldedWeights(Case input, float[] fold, float[] actual)
    {
        int perFilter = input.Weight.Length / input.Filters;
        for (int i = 0; i < actual.Length; i++)
        {
            int f = i / perFilter;
            float w = input.Weight[i], s = input.BnWeight[f] / MathF.Sqrt(input.Var[f] + input.Epsilon);
            int bits = BitConverter.SingleToInt32Bits(actual[i]);
            if (float.IsNaN(w) && float.IsNaN(s))
                Assert.True(bits == Quiet(w), $"weight {i}: {bits:X8}, not the weight's NaN {Quiet(w):X8} (the scale's is {Quiet(s):X8})");
            else
                Assert.True(bits == BitConverter.SingleToInt32Bits(fold[i]), $"weight {i}: {bits:X8}, Fold gives {BitConverter.SingleToInt32Bits(fold[i]):X8}");
        }
    }

    private static int Quiet(float nan) => BitConverter.SingleToInt32Bits(nan) | 0x0040_0000;

    private static void AssertSameBits(float[] expected, float[] actual) =>
        Assert.Equal(expected.Select(BitConverter.SingleToInt32Bits), actual.Select(BitConverter.SingleToInt32Bits));

    /// <summary>Rows long enough for the 16- and 8-wide paths and a tail, with NaNs of several payloads (quiet and
    /// signalling, either sign) among the weights, times NaN, infinite, zero and plain scales: a NaN weight gives its own
    /// NaN quieted, whatever the scale, so a refold of unchanged values always finds the same bits.</summary>
    [Theory]
    [InlineData(16 + 8 + 5)]
    [InlineData(64)]
    [InlineData(7)]
    public void NaNWeightsTimesNaNScalesGiveFoldsBitsOnEveryPath(int perFilter)
    {
        int[] nanBits = [0x7FC0_0000, 0x7FC0_1234, unchecked((int)0xFFC0_0001), 0x7F80_0001, unchecked((int)0xFF80_4321)];
        const int filters = 5;
        var random = new Random(perFilter);
        var weight = new float[filters * perFilter];
        for (int i = 0; i < weight.Length; i++)
            weight[i] = i % 3 == 0 ? BitConverter.Int32BitsToSingle(nanBits[i / 3 % nanBits.Length]) : random.NextSingle() - 0.5f;
        var input = new Case(weight, Bias: [0f, 1f, nan(0x7FC0_0042), -0f, 2f],
            BnWeight: [nan(0x7FC0_0007), nan(unchecked((int)0xFF80_0009)), 1f, 0f, 2f], BnBias: [0f, 0f, 0f, 0f, 0f],
            Mean: [0f, 0f, 0f, 0f, 0f], Var: [1f, 1f, -1f, 1f, 0.5f], Epsilon: 1f);
        var (wantWeight, wantBias) = input.Folded();
        var weightHeld = new float[wantWeight.Length];
        var biasHeld = new float[filters];
        Assert.True(input.Refold(weightHeld, biasHeld));
        AssertFoldedWeights(input, wantWeight, weightHeld);
        AssertSameBits(wantBias, biasHeld);
        Assert.False(input.Refold(weightHeld, biasHeld));

        static float nan(int bits) => BitConverter.Int32BitsToSingle(bits);
    }
}
