using CnnGen.Kernels;
using Xunit;

namespace CnnGen.Tests.Kernels;

/// <summary><see cref="Transpose16.Block"/>: every value lands at its transposed place with its bits (NaN payloads,
/// -0 and denormals included), at strides wider than the block, and nothing outside the block is written.</summary>
public class Transpose16Tests
{
    [Theory]
    [InlineData(16, 16)]
    [InlineData(49, 16)]
    [InlineData(16, 64)]
    [InlineData(3136, 37)]
    public void EveryValueLandsAtItsTransposedPlaceWithItsBits(int sourceStride, int destinationStride)
    {
        var random = new Random(sourceStride * 31 + destinationStride);
        var source = new float[15 * sourceStride + 16];
        for (int i = 0; i < source.Length; i++) source[i] = (float)(random.NextDouble() * 2 - 1);
        source[3 * sourceStride + 5] = BitConverter.Int32BitsToSingle(0x7FC0_1234); // a NaN with a payload
        source[7 * sourceStride + 11] = -0f;
        source[15 * sourceStride + 15] = float.Epsilon;
        var destination = new float[15 * destinationStride + 16];
        Array.Fill(destination, 42f);
        Transpose16.Block(source, sourceStride, destination, destinationStride);
        for (int r = 0; r < 16; r++)
        for (int c = 0; c < 16; c++)
            Assert.Equal(BitConverter.SingleToInt32Bits(source[c * sourceStride + r]), BitConverter.SingleToInt32Bits(destination[r * destinationStride + c]));
        for (int i = 0; i < destination.Length; i++)
            if (i % destinationStride >= 16) Assert.Equal(42f, destination[i]);
    }

    [Fact]
    public void ShortSpansAndNarrowStridesAreRefused()
    {
        Assert.Throws<ArgumentException>(() => Transpose16.Block(new float[256], 15, new float[256], 16));
        Assert.Throws<ArgumentException>(() => Transpose16.Block(new float[255], 16, new float[256], 16));
        Assert.Throws<ArgumentException>(() => Transpose16.Block(new float[256], 16, new float[256], 17));
    }
}
