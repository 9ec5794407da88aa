using CnnGen.Kernels;
using Xunit;

namespace CnnGen.Tests.Kernels;

/// <summary>
/// <see cref="Pooling.MaxPool2x2Backward"/> and <see cref="Pooling.MaxPool2x2ReluBackward"/>, which write every input's
/// gradient once, against the general kernels that clear it and add each gradient to its winner, bit for bit: odd
/// heights and widths (a last row or column no window covers), rows of exactly 16 windows and of more (full groups and
/// a partial one) and of fewer (which the general kernels take), output gradients of -0 and NaN, pooled values of zero,
/// -0 and NaN. The buffer written starts full of a value no kernel writes, so a place left unwritten fails, and goes on
/// past the planes, so a place written beyond them fails.
/// </summary>
public class MaxPool2x2BackwardTests
{
    [Theory]
    [InlineData(2, 32, 32)]    // 16 windows a row: one whole group
    [InlineData(1, 7, 70)]     // 35 windows a row: two groups and 3 more; odd height
    [InlineData(2, 5, 41)]     // 20 windows a row, odd both ways
    [InlineData(2, 4, 56)]     // 28 windows a row: the last group's odd columns reach into its second vector
    [InlineData(3, 8, 8)]      // fewer windows a row than a vector: the general kernels
    [InlineData(4, 2, 3)]      // one window a plane and a column beside it
    public void WritesWhatClearingAndAddingWrites(int planes, int height, int width)
    {
        var random = new Random(planes * 1000 + height * 10 + width);
        int outHeight = height / 2, outWidth = width / 2, planeIn = height * width, planeOut = outHeight * outWidth;
        // The ReLU's output: zeros (about half), positive values with ties, a -0 and a NaN.
        var y = new float[planes * planeIn];
        for (int i = 0; i < y.Length; i++) y[i] = random.Next(2) == 0 ? 0f : random.Next(1, 5) * 0.5f;
        y[1] = -0f;
        y[y.Length / 2] = float.NaN;
        var pooled = new float[planes * planeOut];
        var winners = new int[pooled.Length];
        Pooling.MaxPool2x2(y, pooled, winners, planes, height, width);
        var dout = new float[pooled.Length];
        for (int i = 0; i < dout.Length; i++) dout[i] = random.NextSingle() * 2 - 1;
        dout[0] = -0f;
        dout[dout.Length - 1] = float.NaN;
        if (dout.Length > 2) dout[dout.Length / 2] = -0f;

        var expected = new float[y.Length];
        Pooling.MaxPoolBackward(dout, winners, expected, planes, planeIn, planeOut);
        var actual = Filled(y.Length + Guard);
        Pooling.MaxPool2x2Backward(dout, winners, actual, planes, height, width);
        AssertSameBits(expected, actual);

        var expectedRelu = new float[y.Length];
        Pooling.MaxPoolReluBackward(dout, winners, pooled, expectedRelu, planes, planeIn, planeOut);
        var actualRelu = Filled(y.Length + Guard);
        Pooling.MaxPool2x2ReluBackward(dout, winners, pooled, actualRelu, planes, height, width);
        AssertSameBits(expectedRelu, actualRelu);

        Assert.Contains(actual, v => v != 0);
        if (dout.Length >= 16) // some window of zeros among them: the mask took a gradient away
            Assert.Contains(expected.Zip(expectedRelu), p => p.First != 0 && p.Second == 0);
    }

    [Fact]
    public void ShortSpansAndSmallPlanesAreRefusedByName()
    {
        var e = Assert.Throws<ArgumentException>(() => Pooling.MaxPool2x2ReluBackward(new float[4], new int[4], new float[3], new float[16], 1, 4, 4));
        Assert.Contains("MaxPool2x2ReluBackward", e.Message);
        e = Assert.Throws<ArgumentException>(() => Pooling.MaxPool2x2Backward(new float[4], new int[4], new float[15], 1, 4, 4));
        Assert.Contains("MaxPool2x2Backward", e.Message);
        e = Assert.Throws<ArgumentException>(() => Pooling.MaxPool2x2Backward(new float[4], new int[4], new float[16], 1, 1, 16));
        Assert.Contains("at least 2 x 2", e.Message);
    }

    /// <summary>Values after the planes, which no kernel may write.</summary>
    private const int Guard = 32;

    private static float[] Filled(int length)
    {
        var values = new float[length];
        values.AsSpan().Fill(7f);
        return values;
    }

    private static void AssertSameBits(float[] expected, float[] actual)
    {
        for (int i = 0; i < expected.Length; i++)
            Assert.True(BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(actual[i]),
                $"value {i}: {actual[i]:R} where clearing and adding gives {expected[i]:R}");
        for (int i = expected.Length; i < actual.Length; i++) Assert.True(actual[i] == 7f, $"value {i}, past the planes, was written");
    }
}
