using CnnGen.Kernels;
using Xunit;

namespace CnnGen.Tests.Kernels;

/// <summary><see cref="Transpose8.Block"/>: every value lands at its transposed place with its bits (NaN payloads,
/// -0 and denormals included), at strides wider than the block, and nothing outside the block is written.</summary>
public class Transpose8Tests
{
    [Theory]
    [InlineData(8, 8)]
    [InlineData(49, 8)]
    [InlineData(8, 64)]
    [InlineData(3136, 37)]
    public void EveryValueLandsAtItsTransposedPlaceWithItsBits(int sourceStride, int destinationStride)
    {
        var random = new Random(sourceStride * 31 + destinationStride);
        var source = new float[7 * sourceStride + 8];
        for (int i = 0; i < source.Length; i++) source[i] = (float)(random.NextDouble() * 2 - 1);
        source[3 * sourceStride + 5] = BitConverter.Int32BitsToSingle(0x7FC0_1234); // a NaN with a payload
        source[5 * sourceStride + 6] = -0f;
        source[7 * sourceStride + 7] = float.Epsilon;
        var destination = new float[7 * destinationStride + 8];
        Array.Fill(destination, 42f);
        Transpose8.Block(source, sourceStride, destination, destinationStride);
        for (int r = 0; r < 8; r++)
        for (int c = 0; c < 8; c++)
            Assert.Equal(BitConverter.SingleToInt32Bits(source[c * sourceStride + r]), BitConverter.SingleToInt32Bits(destination[r * destinationStride + c]));
        for (int i = 0; i < destination.Length; i++)
            if (i % destinationStride >= 8) Assert.Equal(42f, destination[i]);
    }

    [Fact]
    public void ShortSpansAndNarrowStridesAreRefused()
    {
        Assert.Throws<ArgumentException>(() => Transpose8.Block(new float[64], 7, new float[64], 8));
        Assert.Throws<ArgumentException>(() => Transpose8.Block(new float[63], 8, new float[64], 8));
        Assert.Throws<ArgumentException>(() => Transpose8.Block(new float[64], 8, new float[64], 9));
    }
}
