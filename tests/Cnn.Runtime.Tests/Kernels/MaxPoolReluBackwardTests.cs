using CnnGen.Kernels;
using Xunit;

namespace CnnGen.Tests.Kernels;

/// <summary>
/// <see cref="Pooling.MaxPoolReluBackward"/> against the two passes it replaces, bit for bit: <see cref="Pooling.MaxPoolBackward"/>
/// routing each window's gradient to its winner, then the ReLU's backward (<c>dx = y &gt; 0 ? dy : 0</c>, y the ReLU's
/// output, which the pool read). Windows of 2x2 and overlapping 3x3 ones (a value can win two windows, whose gradients it
/// sums), planes longer than one masked block, and values that are zero, negative zero, NaN or ties.
/// </summary>
public class MaxPoolReluBackwardTests
{
    [Theory]
    [InlineData(2, 2, 0, 3, 8, 8)]
    [InlineData(3, 2, 1, 2, 9, 11)]
    [InlineData(2, 2, 0, 2, 48, 48)]   // 576 outputs a plane: more than one block of the mask
    [InlineData(3, 1, 1, 1, 6, 7)]     // stride 1: most values win several windows
    public void IsTheRoutingThenTheRelusBackward(int size, int stride, int padding, int planes, int height, int width)
    {
        var random = new Random(size * 100 + height);
        int outHeight = (height + 2 * padding - size) / stride + 1, outWidth = (width + 2 * padding - size) / stride + 1;
        int planeIn = height * width, planeOut = outHeight * outWidth;
        // The ReLU's output: zeros (about half), positive values with ties, a -0 and a NaN.
        var y = new float[planes * planeIn];
        for (int i = 0; i < y.Length; i++) y[i] = random.Next(2) == 0 ? 0f : random.Next(1, 5) * 0.5f;
        y[1] = -0f;
        y[y.Length / 2] = float.NaN;
        var pooled = new float[planes * planeOut];
        var winners = new int[pooled.Length];
        Pooling.MaxPool(y, pooled, winners, planes, height, width, size, stride, padding, outHeight, outWidth);
        var dout = new float[pooled.Length];
        for (int i = 0; i < dout.Length; i++) dout[i] = random.NextSingle() * 2 - 1;

        var routed = new float[y.Length];
        Pooling.MaxPoolBackward(dout, winners, routed, planes, planeIn, planeOut);
        var expected = new float[y.Length];
        Activations.ReluBackward(y, routed, expected);

        var actual = new float[y.Length];
        actual.AsSpan().Fill(7f);
        Pooling.MaxPoolReluBackward(dout, winners, pooled, actual, planes, planeIn, planeOut);
        for (int i = 0; i < y.Length; i++)
            Assert.True(BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(actual[i]),
                $"value {i}: {actual[i]:R} where the two passes give {expected[i]:R}");
        Assert.Contains(actual, v => v != 0);
        Assert.Contains(routed.Zip(expected), p => p.First != 0 && p.Second == 0); // the mask took a routed gradient away
    }

    [Fact]
    public void ShortSpansAreRefusedByName()
    {
        var e = Assert.Throws<ArgumentException>(() => Pooling.MaxPoolReluBackward(new float[4], new int[4], new float[3], new float[16], 1, 16, 4));
        Assert.Contains("MaxPoolReluBackward", e.Message);
    }
}
