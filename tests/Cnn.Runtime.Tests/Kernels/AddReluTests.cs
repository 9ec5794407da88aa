using System.Numerics.Tensors;
using CnnGen.Kernels;
using Xunit;

namespace CnnGen.Tests.Kernels;

/// <summary>
/// The shortcut's sum with its ReLU in one pass (<see cref="Elementwise.AddRelu"/>) against the two passes it replaces
/// (<see cref="TensorPrimitives.Add(ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float})"/>, then
/// <see cref="Activations.Relu"/>), bit for bit, on lengths that end inside and after a vector and with the values where
/// the paths could differ: -0, NaN, infinities, sums that cancel; and the part copies of a split channel join.
/// </summary>
public class AddReluTests
{
    private static readonly float[] Special =
    {
        0f, -0f, float.NaN, float.PositiveInfinity, float.NegativeInfinity, float.Epsilon, -float.Epsilon, 1e30f, -1e30f, 1.5f, -1.5f,
    };

    private static float[] Values(int length, int seed)
    {
        var random = new Random(seed);
        var x = new float[length];
        for (int i = 0; i < length; i++)
            x[i] = random.Next(3) == 0 ? Special[random.Next(Special.Length)] : (float)(random.NextDouble() * 4 - 2);
        return x;
    }

    public static TheoryData<int> Lengths => new() { 0, 1, 15, 16, 17, 31, 32, 33, 100, 1000 };

    private static void AssertSameBits(float[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(actual[i]),
                $"value {i}: got {actual[i]:R}, the two passes gave {expected[i]:R}");
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void OnePassGivesTheBitsOfTheSumThenTheRelu(int length)
    {
        var x = Values(length, seed: length);
        var s = Values(length, seed: length + 1000);
        var sum = new float[length];
        TensorPrimitives.Add(x, s, sum);
        var expected = new float[length + 2];
        Activations.Relu(sum, expected);
        expected[length] = expected[length + 1] = 123f;

        var y = Enumerable.Repeat(123f, length + 2).ToArray();
        Elementwise.AddRelu(x, s, y);
        AssertSameBits(expected, y); // the two values past the end untouched

        // In place, over the shortcut as a fused pass may be.
        var inPlace = s.ToArray();
        Elementwise.AddRelu(x, inPlace, inPlace);
        AssertSameBits(expected[..length], inPlace);
    }

    [Fact]
    public void NegativeSumsBecomeZeroAndNaNAndMinusZeroAreKept()
    {
        var y = new float[5];
        Elementwise.AddRelu(new[] { 1f, -3f, float.NaN, -0f, float.PositiveInfinity }, new[] { 2f, 1f, 1f, -0f, float.NegativeInfinity }, y);
        Assert.Equal(3f, y[0]);
        Assert.Equal(0f, y[1]);
        Assert.True(float.IsNaN(y[2]));
        Assert.Equal(BitConverter.SingleToInt32Bits(-0f), BitConverter.SingleToInt32Bits(y[3])); // -0 + -0 = -0, not below 0
        Assert.True(float.IsNaN(y[4])); // inf - inf
    }

    [Fact]
    public void ShortSpansAreRefusedWithAMessage()
    {
        var e = Assert.Throws<ArgumentException>(() => Elementwise.AddRelu(new float[4], new float[3], new float[4]));
        Assert.Contains("AddRelu", e.Message);
        Assert.Throws<ArgumentException>(() => Elementwise.AddRelu(new float[4], new float[4], new float[3]));
    }

    [Theory]
    [InlineData(0, 10)]
    [InlineData(3, 7)]
    [InlineData(5, 12)]
    [InlineData(9, 20)]
    [InlineData(12, 20)]
    public void CopyOverlapCopiesOnlyTheSourcesPartOfTheRange(int start, int end)
    {
        // A join of 5 values then 7: the range [start, end) of the 12 gets each part it overlaps, nothing else.
        var first = new[] { 1f, 2f, 3f, 4f, 5f };
        var second = new[] { 6f, 7f, 8f, 9f, 10f, 11f, 12f };
        var target = Enumerable.Repeat(-1f, 20).ToArray();
        Elementwise.CopyOverlap(first, target, 0, start, end);
        Elementwise.CopyOverlap(second, target, 5, start, end);
        for (int i = 0; i < target.Length; i++)
        {
            float expected = i >= start && i < end && i < 12 ? i + 1 : -1f;
            Assert.Equal(expected, target[i]);
        }
    }
}
