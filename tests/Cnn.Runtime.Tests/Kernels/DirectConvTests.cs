using CnnGen.Kernels;
using Xunit;

namespace CnnGen.Tests.Kernels;

/// <summary>The direct convolution gives exactly the bits of im2col + GEMM + bias (+ ReLU when fused), for every register blocking it uses.</summary>
public class DirectConvTests
{
    [Fact]
    public void DirectConvolutionEqualsIm2ColGemmBitForBit()
    {
        var random = new Random(17);
        int checkedShapes = 0;
        for (int trial = 0; trial < 300; trial++)
        {
            int channels = random.Next(1, 5), filters = random.Next(1, 21), kernel = random.Next(1, 6), padding = random.Next(0, 3);
            int height = random.Next(kernel, 20), width = random.Next(1, 36);
            int outHeight = height + 2 * padding - kernel + 1, outWidth = width + 2 * padding - kernel + 1;
            if (outWidth < 1 || outHeight < 1 || !DirectConv.Supports(1, outWidth)) continue;
            float[] input = Random(random, channels * height * width), weight = Random(random, filters * channels * kernel * kernel), bias = Random(random, filters);

            int k = channels * kernel * kernel, positions = outHeight * outWidth;
            var col = new float[k * positions];
            var expected = new float[filters * positions];
            Im2Col.Pack(input, col, channels, height, width, kernel, 1, padding, outHeight, outWidth);
            Gemm.Multiply(weight, col, expected, filters, positions, k);
            Elementwise.AddBias(expected, bias, filters, positions);
            bool relu = trial % 2 == 1;
            if (relu) Activations.Relu(expected, expected);

            var actual = new float[filters * positions];
            var padded = new float[DirectConv.PaddedLength(channels, height, width, padding)];
            DirectConv.Forward(input, weight, bias, actual, padded, channels, height, width, filters, kernel, padding, outHeight, outWidth, relu);

            for (int i = 0; i < actual.Length; i++)
                Assert.True(BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(actual[i]),
                    $"C{channels} F{filters} K{kernel} P{padding} {height}x{width} relu {relu}: value {i} is {actual[i]:R}, im2col gives {expected[i]:R}");
            checkedShapes++;
        }
        Assert.True(checkedShapes > 150, $"only {checkedShapes} shapes were checked");
    }

    /// <summary>Rows of whole vectors of 8 (the kernel without AVX-512 takes groups of 6 vectors by 2 filters or of 4 by
    /// 3, across rows, the last group and block repeating their last vector and filter): the CIFAR ResNet's layers, a
    /// 24-wide map, one and seven filters, a 5x5 kernel.</summary>
    [Theory]
    [InlineData(16, 32, 16, 3)] // 128 vectors: groups of 6 by 2 filters, the last group of 2 vectors
    [InlineData(32, 16, 32, 3)] // 32 vectors: groups of 4 by 3 filters, the last block of 2
    [InlineData(64, 8, 64, 3)]  // 8 vectors, one to a row
    [InlineData(5, 24, 7, 3)]   // rows of 3 vectors, groups across rows
    [InlineData(3, 32, 1, 5)]   // one filter, a 5x5 kernel
    public void RowsOfWholeVectorsGiveTheBitsOfIm2ColGemm(int channels, int size, int filters, int kernel)
    {
        var random = new Random(channels * 31 + size + filters);
        int padding = kernel / 2, k = channels * kernel * kernel, positions = size * size;
        float[] input = Random(random, channels * size * size), weight = Random(random, filters * k), bias = Random(random, filters);
        input[size + 3] = float.NaN;
        var col = new float[k * positions];
        var expected = new float[filters * positions];
        Im2Col.Pack(input, col, channels, size, size, kernel, 1, padding, size, size);
        Gemm.Multiply(weight, col, expected, filters, positions, k);
        Elementwise.AddBias(expected, bias, filters, positions);
        Activations.Relu(expected, expected);
        var actual = new float[filters * positions];
        var padded = new float[DirectConv.PaddedLength(channels, size, size, padding)];
        DirectConv.Forward(input, weight, bias, actual, padded, channels, size, size, filters, kernel, padding, size, size, relu: true);
        for (int i = 0; i < actual.Length; i++)
            Assert.True(BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(actual[i]),
                $"C{channels} F{filters} K{kernel} {size}x{size}: value {i} is {actual[i]:R}, im2col gives {expected[i]:R}");
        Assert.Contains(actual, float.IsNaN);
        Assert.Contains(actual, v => v == 0f);
    }

    /// <summary>Ranges of output rows (whole <see cref="DirectConv.RowBlock"/>s, as a split layer hands them out, and
    /// arbitrary ones), each writing only its rows, together give the bits of one call over the whole image.</summary>
    [Fact]
    public void RangesOfRowsGiveTheBitsOfTheWholeLayer()
    {
        var random = new Random(23);
        int checkedShapes = 0;
        for (int trial = 0; trial < 200; trial++)
        {
            int channels = random.Next(1, 5), filters = random.Next(1, 21), kernel = random.Next(1, 4) * 2 - 1, padding = random.Next(0, 3);
            int height = random.Next(kernel, 20), width = random.Next(1, 36);
            int outHeight = height + 2 * padding - kernel + 1, outWidth = width + 2 * padding - kernel + 1;
            if (outWidth < 1 || outHeight < 2 || !DirectConv.Supports(1, outWidth)) continue;
            float[] input = Random(random, channels * height * width), weight = Random(random, filters * channels * kernel * kernel), bias = Random(random, filters);
            bool relu = trial % 2 == 0;
            var padded = new float[DirectConv.PaddedLength(channels, height, width, padding)];
            var whole = new float[filters * outHeight * outWidth];
            DirectConv.Forward(input, weight, bias, whole, padded, channels, height, width, filters, kernel, padding, outHeight, outWidth, relu);

            // Cut the rows into 2 to 5 ranges: at multiples of the kernel's row block on odd trials, anywhere on even ones.
            int block = trial % 2 == 1 ? DirectConv.RowBlock(outWidth) : 1, parts = random.Next(2, 6);
            // Each range also from the unpadded input (ForwardImageRows: the rows it reads padded in this thread's copy).
            var ranges = new float[whole.Length];
            var imageRanges = new float[whole.Length];
            Array.Fill(ranges, float.NaN);
            Array.Fill(imageRanges, float.NaN);
            ReadOnlySpan<float> x = padding > 0 ? padded : input;
            int blocks = (outHeight + block - 1) / block;
            for (int part = 0; part < parts; part++)
            {
                int first = Math.Min(outHeight, part * blocks / parts * block), end = Math.Min(outHeight, (part + 1) * blocks / parts * block);
                if (first >= end) continue;
                DirectConv.ForwardRows(x, weight, bias, ranges, channels, height, width, filters, kernel, padding, outHeight, outWidth, first, end, relu);
                DirectConv.ForwardImageRows(input, weight, bias, imageRanges, channels, height, width, filters, kernel, padding, outHeight, outWidth, first, end, relu);
            }
            for (int i = 0; i < whole.Length; i++)
            {
                Assert.True(BitConverter.SingleToInt32Bits(whole[i]) == BitConverter.SingleToInt32Bits(ranges[i]),
                    $"C{channels} F{filters} K{kernel} P{padding} {height}x{width} relu {relu}, {parts} ranges of blocks of {block} rows: value {i} is {ranges[i]:R}, the whole layer gives {whole[i]:R}");
                Assert.True(BitConverter.SingleToInt32Bits(whole[i]) == BitConverter.SingleToInt32Bits(imageRanges[i]),
                    $"C{channels} F{filters} K{kernel} P{padding} {height}x{width} relu {relu}, {parts} ranges from the unpadded input: value {i} is {imageRanges[i]:R}, the whole layer gives {whole[i]:R}");
            }
            checkedShapes++;
        }
        Assert.True(checkedShapes > 100, $"only {checkedShapes} shapes were checked");
    }

    /// <summary>A range of rows writes its rows of every filter and nothing else.</summary>
    [Fact]
    public void ARangeOfRowsWritesOnlyItsRows()
    {
        var random = new Random(5);
        int channels = 3, filters = 16, height = 12, width = 12, outHeight = 12, outWidth = 12;
        float[] input = Random(random, channels * height * width), weight = Random(random, filters * channels * 9), bias = Random(random, filters);
        var padded = new float[DirectConv.PaddedLength(channels, height, width, 1)];
        DirectConv.Pad(input, padded, channels, height, width, 1);
        var output = new float[filters * outHeight * outWidth];
        Array.Fill(output, float.NaN);
        DirectConv.ForwardRows(padded, weight, bias, output, channels, height, width, filters, 3, 1, outHeight, outWidth, 4, 8);
        for (int f = 0; f < filters; f++)
        for (int y = 0; y < outHeight; y++)
        for (int x = 0; x < outWidth; x++)
            Assert.Equal(y is >= 4 and < 8, !float.IsNaN(output[(f * outHeight + y) * outWidth + x]));
        Assert.Throws<ArgumentException>(() => DirectConv.ForwardRows(padded, weight, bias, output, channels, height, width, filters, 3, 1, outHeight, outWidth, 8, 13));
    }

    /// <summary>Pad writes every value of the padded planes: the input's bits in the middle (a negative zero and a NaN
    /// payload included), zeros around, over a buffer that held other values, for rows narrower than, as wide as and
    /// wider than 16 values (not multiples of 16 too) and paddings 0 to 3; past the padded planes nothing is written.</summary>
    [Fact]
    public void PadWritesTheInputInTheMiddleAndZerosEverywhereElse()
    {
        var random = new Random(11);
        int checkedShapes = 0;
        foreach (int width in new[] { 1, 5, 15, 16, 17, 31, 32, 33, 50 })
        foreach (int padding in new[] { 0, 1, 2, 3 })
        {
            int channels = random.Next(1, 5), height = random.Next(1, 7), ph = height + 2 * padding, pw = width + 2 * padding;
            var input = Random(random, channels * height * width);
            input[0] = -0f;
            input[^1] = BitConverter.Int32BitsToSingle(0x7FC0_1234);
            var padded = new float[channels * ph * pw + 7];
            Array.Fill(padded, 3.5f);
            DirectConv.Pad(input, padded, channels, height, width, padding);
            for (int c = 0; c < channels; c++)
            for (int y = 0; y < ph; y++)
            for (int x = 0; x < pw; x++)
            {
                int iy = y - padding, ix = x - padding;
                float expected = iy >= 0 && iy < height && ix >= 0 && ix < width ? input[(c * height + iy) * width + ix] : 0f;
                float actual = padded[(c * ph + y) * pw + x];
                Assert.True(BitConverter.SingleToInt32Bits(expected) == BitConverter.SingleToInt32Bits(actual),
                    $"C{channels} {height}x{width} P{padding}: padded[{c}, {y}, {x}] is {actual:R}, expected {expected:R}");
            }
            Assert.All(padded[^7..], v => Assert.Equal(3.5f, v));
            checkedShapes++;
        }
        Assert.Equal(36, checkedShapes);
        // A buffer one value short is refused before anything is written, also without padding.
        Assert.Throws<ArgumentException>(() => DirectConv.Pad(new float[2 * 3 * 4], new float[2 * 3 * 4 - 1], 2, 3, 4, 0));
        Assert.Throws<ArgumentException>(() => DirectConv.Pad(new float[2 * 3 * 4], new float[2 * 5 * 6 - 1], 2, 3, 4, 1));
    }

    /// <summary>PadRows writes, for output rows [first, end) of a k-high kernel, padded rows [first, end + k - 1) of
    /// every channel with Pad's bits, and no other value.</summary>
    [Fact]
    public void PadRowsWritesTheRowsARangeReadsWithPadsBits()
    {
        var random = new Random(31);
        int checkedRanges = 0;
        foreach (int width in new[] { 3, 16, 20, 32 })
        foreach (int kernel in new[] { 1, 3, 5 })
        foreach (int padding in new[] { 0, 1, 2 })
        {
            int channels = random.Next(1, 4), height = random.Next(kernel, 12), ph = height + 2 * padding, pw = width + 2 * padding;
            int outHeight = ph - kernel + 1;
            var input = Random(random, channels * height * width);
            var whole = new float[channels * ph * pw];
            DirectConv.Pad(input, whole, channels, height, width, padding);
            int first = random.Next(0, outHeight), end = random.Next(first + 1, outHeight + 1);
            var rows = new float[whole.Length];
            Array.Fill(rows, 7.25f);
            DirectConv.PadRows(input, rows, channels, height, width, kernel, padding, first, end);
            for (int c = 0; c < channels; c++)
            for (int y = 0; y < ph; y++)
            for (int x = 0; x < pw; x++)
            {
                int i = (c * ph + y) * pw + x;
                float expected = y >= first && y < end + kernel - 1 ? whole[i] : 7.25f;
                Assert.True(BitConverter.SingleToInt32Bits(expected) == BitConverter.SingleToInt32Bits(rows[i]),
                    $"C{channels} {height}x{width} K{kernel} P{padding}, output rows [{first}, {end}): padded[{c}, {y}, {x}] is {rows[i]:R}, expected {expected:R}");
            }
            checkedRanges++;
        }
        Assert.Equal(36, checkedRanges);
        // A range outside the output rows, or an empty one, is refused.
        Assert.Throws<ArgumentException>(() => DirectConv.PadRows(new float[2 * 4 * 4], new float[2 * 6 * 6], 2, 4, 4, 3, 1, 2, 5));
        Assert.Throws<ArgumentException>(() => DirectConv.PadRows(new float[2 * 4 * 4], new float[2 * 6 * 6], 2, 4, 4, 3, 1, 2, 2));
    }

    private static float[] Random(Random random, int length)
    {
        var values = new float[length];
        for (int i = 0; i < length; i++) values[i] = (float)(random.NextDouble() * 2 - 1);
        return values;
    }
}
