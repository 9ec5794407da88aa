using CnnGen.Kernels;
using Xunit;

namespace CnnGen.Tests.Kernels;

/// <summary>
/// Max pooling of any window (<see cref="Pooling.MaxPool"/>) against the window loop it replaced, written out here:
/// windows clipped to the image, visited row by row, a value winning when above the maximum so far or NaN. Shapes cover
/// strides 1 and 2 (the vector path) and 3 (the scalar path), padding, ceil mode's clipped last windows and rows of
/// more than 16 outputs; values include ties, NaN, infinities and -0, where a vector path could pick another winner.
/// </summary>
public class MaxPoolWindowTests
{
    private static readonly float[] Special = { float.NaN, float.NegativeInfinity, float.PositiveInfinity, -0f, 0f, 1f, 1f, -1f };

    private static float[] Values(int length, int seed)
    {
        var random = new Random(seed);
        var x = new float[length];
        for (int i = 0; i < length; i++)
            x[i] = random.Next(4) == 0 ? Special[random.Next(Special.Length)] : random.Next(-3, 4) * 0.5f;
        return x;
    }

    private static (float[] Max, int[] Index) Reference(float[] x, int planes, int height, int width, int size, int stride, int padding, int outHeight, int outWidth)
    {
        var max = new float[planes * outHeight * outWidth];
        var index = new int[max.Length];
        int o = 0;
        for (int plane = 0; plane < planes; plane++)
            for (int oy = 0; oy < outHeight; oy++)
                for (int ox = 0; ox < outWidth; ox++, o++)
                {
                    int y0 = Math.Max(oy * stride - padding, 0), y1 = Math.Min(oy * stride - padding + size, height);
                    int x0 = Math.Max(ox * stride - padding, 0), x1 = Math.Min(ox * stride - padding + size, width);
                    int best = y0 * width + x0;
                    float m = x[plane * height * width + best];
                    for (int iy = y0; iy < y1; iy++)
                        for (int ix = x0; ix < x1; ix++)
                        {
                            float v = x[plane * height * width + iy * width + ix];
                            if (v > m || float.IsNaN(v)) { m = v; best = iy * width + ix; }
                        }
                    max[o] = m;
                    index[o] = best;
                }
        return (max, index);
    }

    private static int OutSize(int input, int size, int stride, int padding, bool ceil)
    {
        int span = input + 2 * padding - size;
        int n = (ceil ? (span + stride - 1) / stride : span / stride) + 1;
        // PyTorch's ceil mode drops a last window that would start in the right padding.
        if (ceil && (n - 1) * stride >= input + padding) n--;
        return n;
    }

    [Theory]
    [InlineData(3, 2, 1, 112, false)] // ResNet's first pool
    [InlineData(3, 2, 1, 35, false)]
    [InlineData(3, 1, 1, 20, false)]
    [InlineData(2, 1, 0, 33, false)]
    [InlineData(3, 2, 0, 40, true)]   // ceil mode: the last window clipped
    [InlineData(2, 2, 1, 17, true)]
    [InlineData(4, 2, 2, 19, false)]
    [InlineData(1, 2, 0, 9, false)]
    [InlineData(3, 3, 1, 22, false)]  // stride 3: the scalar path
    [InlineData(5, 1, 2, 6, false)]
    public void EveryWindowHasTheLoopsMaximumAndWinner(int size, int stride, int padding, int width, bool ceil)
    {
        int height = width - 1, planes = 3;
        int outHeight = OutSize(height, size, stride, padding, ceil), outWidth = OutSize(width, size, stride, padding, ceil);
        var x = Values(planes * height * width, seed: size * 1000 + stride * 100 + width);
        var (expected, expectedIndex) = Reference(x, planes, height, width, size, stride, padding, outHeight, outWidth);
        var y = Enumerable.Repeat(123f, expected.Length + 1).ToArray();
        var index = Enumerable.Repeat(-7, expected.Length + 1).ToArray();
        Pooling.MaxPool(x, y, index, planes, height, width, size, stride, padding, outHeight, outWidth);
        for (int o = 0; o < expected.Length; o++)
        {
            Assert.True(BitConverter.SingleToInt32Bits(expected[o]) == BitConverter.SingleToInt32Bits(y[o]), $"output {o}: {y[o]:R}, the loop gave {expected[o]:R}");
            Assert.True(expectedIndex[o] == index[o], $"output {o}: winner {index[o]}, the loop chose {expectedIndex[o]}");
        }
        Assert.Equal(123f, y[^1]);
        Assert.Equal(-7, index[^1]);
    }

    [Fact]
    public void AllMinusInfinityKeepsTheFirstValueOfEachWindow()
    {
        var x = Enumerable.Repeat(float.NegativeInfinity, 5 * 40).ToArray();
        var y = new float[3 * 20];
        var index = new int[y.Length];
        Pooling.MaxPool(x, y, index, 1, 5, 40, 3, 2, 1, 3, 20);
        Assert.All(y, v => Assert.Equal(float.NegativeInfinity, v));
        Assert.Equal(0, index[0]);          // window rows [0, 2), columns [0, 2)
        Assert.Equal(1, index[1]);          // columns [1, 4)
        Assert.Equal(40 + 1, index[20 + 1]); // second row of outputs: rows [1, 4)
    }

    [Fact]
    public void BadShapesAreRefusedWithAMessage()
    {
        var e = Assert.Throws<ArgumentException>(() => Pooling.MaxPool(new float[10], new float[4], new int[4], 1, 4, 4, 2, 2, 0, 2, 2));
        Assert.Contains("too short", e.Message);
        e = Assert.Throws<ArgumentException>(() => Pooling.MaxPool(new float[16], new float[4], new int[4], 1, 4, 4, 0, 2, 0, 2, 2));
        Assert.Contains("window", e.Message);
    }
}
