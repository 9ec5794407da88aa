using CnnGen.Kernels;
using Xunit;

namespace CnnGen.Tests.Kernels;

/// <summary>
/// ReLU6 forward and backward, element by element against their definitions, on lengths that end inside and after a
/// vector, with the values where a vector path could differ from the scalar one: both bounds, -0, NaN, infinities and
/// the floats next to 0 and 6.
/// </summary>
public class Relu6Tests
{
    private static readonly float[] Special =
    {
        0f, -0f, 6f, -6f, float.NaN, float.PositiveInfinity, float.NegativeInfinity, float.Epsilon, -float.Epsilon,
        MathF.BitDecrement(6f), MathF.BitIncrement(6f), 3.5f, -1e-30f, 1e30f,
    };

    private static float[] Values(int length, int seed)
    {
        var random = new Random(seed);
        var x = new float[length];
        for (int i = 0; i < length; i++)
            x[i] = random.Next(3) == 0 ? Special[random.Next(Special.Length)] : (float)(random.NextDouble() * 16 - 5);
        return x;
    }

    public static TheoryData<int> Lengths => new() { 0, 1, 15, 16, 17, 31, 32, 33, 100, 1000 };

    [Theory]
    [MemberData(nameof(Lengths))]
    public void ForwardIsZeroBelowSixAboveAndXBetweenWithNaNAndMinusZeroKept(int length)
    {
        var x = Values(length, seed: length);
        var y = Enumerable.Repeat(123f, length + 3).ToArray();
        Relu6.Forward(x, y);
        for (int i = 0; i < length; i++)
        {
            float expected = x[i] < 0f ? 0f : x[i] > 6f ? 6f : x[i];
            Assert.True(BitConverter.SingleToInt32Bits(expected) == BitConverter.SingleToInt32Bits(y[i]), $"x[{i}] = {x[i]:R}: got {y[i]:R}, expected {expected:R}");
        }
        Assert.Equal(new[] { 123f, 123f, 123f }, y[length..]);
        if (length >= 6)
        {
            Relu6.Forward(new[] { -2f, -0f, float.NaN, 7f, 6f, 2.5f }, y);
            Assert.Equal(0f, y[0]);
            Assert.Equal(BitConverter.SingleToInt32Bits(-0f), BitConverter.SingleToInt32Bits(y[1]));
            Assert.True(float.IsNaN(y[2]));
            Assert.Equal(new[] { 6f, 6f, 2.5f }, y[3..6]);
        }
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void BackwardPassesTheGradientOnlyStrictlyBetweenZeroAndSix(int length)
    {
        var x = Values(length, seed: 100 + length);
        var dy = Values(length, seed: 200 + length);
        var dx = new float[length];
        Relu6.Backward(x, dy, dx);
        for (int i = 0; i < length; i++)
        {
            float expected = x[i] > 0f && x[i] < 6f ? dy[i] : 0f;
            Assert.True(BitConverter.SingleToInt32Bits(expected) == BitConverter.SingleToInt32Bits(dx[i]), $"x[{i}] = {x[i]:R}, dy = {dy[i]:R}: got {dx[i]:R}, expected {expected:R}");
        }
    }

    [Fact]
    public void ShortOutputsAreRefused()
    {
        Assert.Throws<ArgumentException>(() => Relu6.Forward(new float[3], new float[2]));
        Assert.Throws<ArgumentException>(() => Relu6.Backward(new float[3], new float[3], new float[2]));
    }
}
