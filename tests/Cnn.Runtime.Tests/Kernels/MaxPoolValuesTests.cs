using CnnGen.Kernels;
using Xunit;

namespace CnnGen.Tests.Kernels;

/// <summary>
/// Inference's max pooling (<see cref="Pooling.MaxPoolValues"/>: the maxima alone, separable on the vector path) against
/// the values of the kernels that also keep the winners (<see cref="Pooling.MaxPool"/>, <see cref="Pooling.MaxPool2x2"/>)
/// and against a plain window loop, bit for bit. Values include NaNs of different payloads and signs (a window's result
/// is its last NaN), +0 and -0 in the same window (its first zero), infinities and ties; shapes cover windows 1 to 5,
/// strides 1 to 3, padding, ceil mode, odd widths, rows of more than 16 and 32 outputs, and rings too large for the stack.
/// </summary>
public class MaxPoolValuesTests
{
    private static readonly float[] Special =
    {
        float.NaN, BitConverter.Int32BitsToSingle(0x7FC0_0001), BitConverter.Int32BitsToSingle(unchecked((int)0xFFC0_0002)),
        BitConverter.Int32BitsToSingle(0x7F80_0003), float.NegativeInfinity, float.PositiveInfinity, -0f, 0f, -0f, 0f, 1f, -1f,
    };

    private static float[] Values(int length, int seed)
    {
        var random = new Random(seed);
        var x = new float[length];
        for (int i = 0; i < length; i++)
            x[i] = random.Next(3) == 0 ? Special[random.Next(Special.Length)] : random.Next(-3, 4) * 0.5f;
        return x;
    }

    /// <summary>Each window folded row by row from its first value: a value wins when above the maximum so far or NaN.</summary>
    private static float[] Loop(float[] x, int planes, int height, int width, int size, int stride, int padding, int outHeight, int outWidth)
    {
        var max = new float[planes * outHeight * outWidth];
        int o = 0;
        for (int plane = 0; plane < planes; plane++)
            for (int oy = 0; oy < outHeight; oy++)
                for (int ox = 0; ox < outWidth; ox++, o++)
                {
                    int y0 = Math.Max(oy * stride - padding, 0), y1 = Math.Min(oy * stride - padding + size, height);
                    int x0 = Math.Max(ox * stride - padding, 0), x1 = Math.Min(ox * stride - padding + size, width);
                    float m = x[plane * height * width + y0 * width + x0];
                    for (int iy = y0; iy < y1; iy++)
                        for (int ix = x0; ix < x1; ix++)
                        {
                            float v = x[plane * height * width + iy * width + ix];
                            if (v > m || float.IsNaN(v)) m = v;
                        }
                    max[o] = m;
                }
        return max;
    }

    private static int OutSize(int input, int size, int stride, int padding, bool ceil)
    {
        int span = input + 2 * padding - size;
        int n = (ceil ? (span + stride - 1) / stride : span / stride) + 1;
        if (ceil && (n - 1) * stride >= input + padding) n--; // PyTorch drops a last window starting in the right padding
        return n;
    }

    private static void AssertSameBits(float[] expected, float[] actual, int count, string what)
    {
        for (int o = 0; o < count; o++)
            Assert.True(BitConverter.SingleToInt32Bits(expected[o]) == BitConverter.SingleToInt32Bits(actual[o]),
                $"{what}: output {o} is {actual[o]:R} (0x{BitConverter.SingleToInt32Bits(actual[o]):X8}), expected {expected[o]:R} (0x{BitConverter.SingleToInt32Bits(expected[o]):X8})");
    }

    public static TheoryData<int, int, int, int, int, bool> Shapes()
    {
        var data = new TheoryData<int, int, int, int, int, bool>();
        foreach (int size in new[] { 1, 2, 3, 4, 5 })
            foreach (int stride in new[] { 1, 2, 3 })
                for (int padding = 0; padding <= size / 2; padding++)
                    foreach (int width in new[] { 7, 17, 34, 65 })
                        foreach (bool ceil in new[] { false, true })
                        {
                            if (width + 2 * padding < size) continue;
                            int height = width % 2 == 0 ? width - 3 : width + 2; // not square, odd and even heights
                            if (height + 2 * padding < size) continue;
                            data.Add(size, stride, padding, height, width, ceil);
                        }
        data.Add(3, 2, 1, 112, 112, false); // ResNet-18's pool
        data.Add(3, 2, 1, 113, 113, true);  // GoogLeNet's kind: ceil mode
        // GoogLeNet's pools beside the inception convolutions (3x3, stride 1, padding 1, ceil mode) and rows of exactly
        // one and two chunks of 16.
        foreach (int side in new[] { 28, 14, 7, 16, 32 })
            data.Add(3, 1, 1, side, side, side % 16 != 0);
        return data;
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void ValuesAreTheWinnerKernelsAndTheLoopsBitForBit(int size, int stride, int padding, int height, int width, bool ceil)
    {
        const int planes = 3;
        int outHeight = OutSize(height, size, stride, padding, ceil), outWidth = OutSize(width, size, stride, padding, ceil);
        var x = Values(planes * height * width, seed: size * 100_000 + stride * 10_000 + padding * 1000 + width * 2 + (ceil ? 1 : 0));
        int count = planes * outHeight * outWidth;
        var withWinners = new float[count];
        Pooling.MaxPool(x, withWinners, new int[count], planes, height, width, size, stride, padding, outHeight, outWidth);
        var values = Enumerable.Repeat(123f, count + 1).ToArray();
        Pooling.MaxPoolValues(x, values, planes, height, width, size, stride, padding, outHeight, outWidth);
        AssertSameBits(withWinners, values, count, "against MaxPool");
        AssertSameBits(Loop(x, planes, height, width, size, stride, padding, outHeight, outWidth), values, count, "against the loop");
        Assert.Equal(123f, values[^1]); // nothing written past the output
    }

    [Theory]
    [InlineData(28, 28)]
    [InlineData(10, 10)]
    [InlineData(9, 35)]
    [InlineData(33, 64)]
    public void HalvingWindowsAreTheTwoByTwoKernelsValues(int height, int width)
    {
        const int planes = 4;
        int outHeight = height / 2, outWidth = width / 2, count = planes * outHeight * outWidth;
        var x = Values(planes * height * width, seed: height * 100 + width);
        var withWinners = new float[count];
        Pooling.MaxPool2x2(x, withWinners, new int[count], planes, height, width);
        var values = new float[count];
        Pooling.MaxPoolValues(x, values, planes, height, width, 2, 2, 0, outHeight, outWidth);
        AssertSameBits(withWinners, values, count, "against MaxPool2x2");
    }

    /// <summary>2x2 windows at stride 2 without padding that no edge cuts take a path of their own (two input rows per
    /// output row, no ring): every output width from 1 to 40 (whole chunks of 16, a partial last chunk, both), odd input
    /// widths and heights (a last column or row no window reads), against the window loop, and nothing written past the
    /// output.</summary>
    [Fact]
    public void HalvingWindowsOfEveryWidthAreTheLoopsBitForBit()
    {
        const int planes = 3;
        for (int outWidth = 1; outWidth <= 40; outWidth++)
            foreach (int extraColumn in new[] { 0, 1 })
                foreach (int height in new[] { 2, 5, 8 })
                {
                    int width = 2 * outWidth + extraColumn, outHeight = height / 2, count = planes * outHeight * outWidth;
                    var x = Values(planes * height * width, seed: outWidth * 100 + extraColumn * 10 + height);
                    var values = Enumerable.Repeat(123f, count + 16).ToArray();
                    Pooling.MaxPoolValues(x, values, planes, height, width, 2, 2, 0, outHeight, outWidth);
                    AssertSameBits(Loop(x, planes, height, width, 2, 2, 0, outHeight, outWidth), values, count, $"{height}x{width}");
                    Assert.All(values.Skip(count), v => Assert.Equal(123f, v));
                }
    }

    /// <summary>Values without a NaN (zeros of both signs in shared windows, infinities, ties), which the 3x3 pools at
    /// strides 1 and 2 fold with one <c>vmaxps</c> each: the rule's bits, the first zero of a window included.</summary>
    [Theory]
    [InlineData(3, 1, 1, 28, 28, false)]
    [InlineData(3, 1, 1, 14, 14, false)]
    [InlineData(3, 1, 1, 7, 7, false)]
    [InlineData(3, 1, 1, 32, 32, false)]
    [InlineData(3, 2, 1, 112, 112, false)]
    [InlineData(3, 2, 0, 56, 56, true)]
    [InlineData(3, 2, 0, 14, 14, true)]
    [InlineData(3, 2, 1, 35, 17, false)]
    public void ValuesWithoutNaNAreTheLoopsBitForBit(int size, int stride, int padding, int height, int width, bool ceil)
    {
        const int planes = 4;
        int outHeight = OutSize(height, size, stride, padding, ceil), outWidth = OutSize(width, size, stride, padding, ceil);
        var random = new Random(height * 1000 + width * 10 + stride);
        float[] numbers = { -0f, 0f, float.NegativeInfinity, float.PositiveInfinity, 1f, -1f, 0.5f };
        var x = new float[planes * height * width];
        for (int i = 0; i < x.Length; i++) x[i] = random.Next(2) == 0 ? numbers[random.Next(numbers.Length)] : random.Next(-3, 4) * 0.5f;
        var values = Enumerable.Repeat(123f, planes * outHeight * outWidth + 1).ToArray();
        Pooling.MaxPoolValues(x, values, planes, height, width, size, stride, padding, outHeight, outWidth);
        int count = planes * outHeight * outWidth;
        AssertSameBits(Loop(x, planes, height, width, size, stride, padding, outHeight, outWidth), values, count, "numbers only");
        Assert.Equal(123f, values[^1]);
        // Windows of zeros only, of both signs: the first zero of each window, as the rule gives.
        var zeros = new float[x.Length];
        for (int i = 0; i < zeros.Length; i++) zeros[i] = random.Next(2) == 0 ? -0f : 0f;
        Pooling.MaxPoolValues(zeros, values, planes, height, width, size, stride, padding, outHeight, outWidth);
        AssertSameBits(Loop(zeros, planes, height, width, size, stride, padding, outHeight, outWidth), values, count, "zeros");
    }

    /// <summary>One NaN among numbers, in one plane of several, at a row's first and last columns, in a chunk's first
    /// and last lanes, and in the last row: that plane is pooled again by the rule (its windows give the NaN), and the
    /// planes around it keep the bits of numbers.</summary>
    [Theory]
    [InlineData(1, 1, 28, 28, false)]
    [InlineData(1, 1, 14, 14, false)]
    [InlineData(1, 1, 7, 7, false)]
    [InlineData(2, 1, 112, 112, false)]
    [InlineData(2, 0, 56, 56, true)]
    [InlineData(2, 0, 15, 15, true)]
    [InlineData(2, 0, 33, 33, false)] // column 32 is only the third column of lane 15's window, past the chunk's 32 loads
    public void ANaNAmongNumbersIsTheLoopsBitForBit(int stride, int padding, int height, int width, bool ceil)
    {
        const int planes = 3, size = 3;
        int outHeight = OutSize(height, size, stride, padding, ceil), outWidth = OutSize(width, size, stride, padding, ceil);
        int count = planes * outHeight * outWidth;
        var random = new Random(height + width + stride);
        var x = new float[planes * height * width];
        for (int i = 0; i < x.Length; i++) x[i] = random.Next(-4, 5) * 0.25f;
        float nan = BitConverter.Int32BitsToSingle(unchecked((int)0xFFC0_0033));
        int plane = height * width;
        foreach (int at in new[] { 0, width - 1, 15, 16, 31, width + 17, (height - 1) * width, plane - 1 })
        {
            if (at >= plane) continue;
            var withNaN = (float[])x.Clone();
            withNaN[plane + at] = nan; // the middle plane
            var values = new float[count];
            Pooling.MaxPoolValues(withNaN, values, planes, height, width, size, stride, padding, outHeight, outWidth);
            AssertSameBits(Loop(withNaN, planes, height, width, size, stride, padding, outHeight, outWidth), values, count, $"NaN at {at}");
        }
    }

    [Fact]
    public void AWindowsLastNaNAndFirstZeroWin()
    {
        float first = BitConverter.Int32BitsToSingle(0x7FC0_0011), last = BitConverter.Int32BitsToSingle(unchecked((int)0xFFC0_0022));
        // One 3x3 window at stride 1 without padding over a 3x3 plane, then one over a plane of zeros of both signs.
        var nan = new[] { first, 5f, 1f, 2f, last, 9f, 3f, 4f, 7f };
        var zeros = new[] { -1f, -0f, 0f, -0f, -2f, 0f, -0f, -3f, 0f };
        var y = new float[2];
        Pooling.MaxPoolValues(nan.Concat(zeros).ToArray(), y, 2, 3, 3, 3, 1, 0, 1, 1);
        Assert.Equal(BitConverter.SingleToInt32Bits(last), BitConverter.SingleToInt32Bits(y[0]));
        Assert.Equal(BitConverter.SingleToInt32Bits(-0f), BitConverter.SingleToInt32Bits(y[1]));
    }

    [Fact]
    public void PaddingNeverWinsWhenEveryValueIsMinusInfinity()
    {
        var x = Enumerable.Repeat(float.NegativeInfinity, 5 * 40).ToArray();
        var y = new float[3 * 20];
        Pooling.MaxPoolValues(x, y, 1, 5, 40, 3, 2, 1, 3, 20);
        Assert.All(y, v => Assert.Equal(float.NegativeInfinity, v));
    }

    [Fact]
    public void ARingTooLargeForTheStackGivesTheSameBits()
    {
        // 3 rows of 1,504 maxima: past the stack's 4,096 values, so the ring is rented.
        const int planes = 2, height = 6, width = 3000, size = 3, stride = 2, padding = 1;
        int outHeight = OutSize(height, size, stride, padding, false), outWidth = OutSize(width, size, stride, padding, false);
        var x = Values(planes * height * width, seed: 5);
        var values = new float[planes * outHeight * outWidth];
        Pooling.MaxPoolValues(x, values, planes, height, width, size, stride, padding, outHeight, outWidth);
        AssertSameBits(Loop(x, planes, height, width, size, stride, padding, outHeight, outWidth), values, values.Length, "rented ring");
    }

    [Fact]
    public void BadShapesAreRefusedWithAMessage()
    {
        var e = Assert.Throws<ArgumentException>(() => Pooling.MaxPoolValues(new float[10], new float[4], 1, 4, 4, 2, 2, 0, 2, 2));
        Assert.Contains("too short", e.Message);
        e = Assert.Throws<ArgumentException>(() => Pooling.MaxPoolValues(new float[16], new float[4], 1, 4, 4, 0, 2, 0, 2, 2));
        Assert.Contains("window", e.Message);
    }
}
