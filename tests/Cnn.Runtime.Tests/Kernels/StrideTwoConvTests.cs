using CnnGen.Kernels;
using Xunit;

namespace CnnGen.Tests.Kernels;

/// <summary>The direct stride-2 convolution gives exactly the bits of im2col + the product with bias and activation,
/// whole and in ranges of blocks, and refuses shapes and spans it cannot take.</summary>
public class StrideTwoConvTests
{
    private static readonly FusedActivation[] Activations = [FusedActivation.None, FusedActivation.Relu, FusedActivation.Relu6];

    [Fact]
    public void DirectStrideTwoEqualsIm2ColProductBitForBit()
    {
        var random = new Random(23);
        int checkedShapes = 0, oddPadding = 0, wideRows = 0;
        for (int trial = 0; trial < 200; trial++)
        {
            int kernel = random.Next(3, 8), padding = random.Next(0, kernel), channels = random.Next(1, 5), filters = random.Next(1, 21);
            int height = random.Next(Math.Max(1, kernel - 2 * padding), 40), width = random.Next(Math.Max(1, kernel - 2 * padding), 80);
            int outHeight = (height + 2 * padding - kernel) / 2 + 1, outWidth = (width + 2 * padding - kernel) / 2 + 1, rows = random.Next(1, 6);
            var activation = Activations[trial % 3];
            float[] input = Random(random, channels * height * width), weight = Random(random, filters * channels * kernel * kernel), bias = Random(random, filters);
            for (int i = 0; i < bias.Length; i++) bias[i] *= 4f; // some sums pass 6, some stay below 0

            int k = channels * kernel * kernel, positions = outHeight * outWidth;
            var col = new float[k * positions];
            var expected = new float[filters * positions];
            Im2Col.Pack(input, col, channels, height, width, kernel, 2, padding, outHeight, outWidth);
            Gemm.MultiplyBiasActivation(weight, col, expected, bias, filters, positions, k, activation);

            var actual = new float[filters * positions];
            var scratch = new float[StrideTwoConv.ScratchLength(channels, width, kernel, padding, rows)];
            StrideTwoConv.Forward(input, weight, bias, actual, scratch, channels, height, width, filters, kernel, padding, outHeight, outWidth, rows, activation);
            AssertSameBits(expected, actual, $"C{channels} F{filters} K{kernel} P{padding} {height}x{width} rows {rows} {activation}");
            checkedShapes++;
            if (padding % 2 == 1) oddPadding++;
            if (outWidth > 32) wideRows++;
        }
        Assert.Equal(200, checkedShapes);
        Assert.True(oddPadding > 40 && wideRows > 40, $"odd paddings {oddPadding}, rows of more than two vectors {wideRows}");
    }

    [Theory]
    [InlineData(3, 18, 224, 32, 3, 1, 8)]  // MobileNetV2's stem on 18 rows: rows of 112 outputs, 7 whole vectors
    [InlineData(3, 21, 224, 64, 7, 3, 8)]  // ResNet-18's conv1 on 21 rows
    [InlineData(3, 17, 100, 20, 3, 1, 3)]  // rows of 50 outputs: groups of three whole vectors and groups with the masked last one
    [InlineData(2, 9, 64, 9, 5, 2, 2)]     // rows of 32 outputs: two whole vectors, the groups crossing rows
    public void RowsOfWholeVectorsGiveTheBitsOfIm2ColAndTheProduct(int channels, int height, int width, int filters, int kernel, int padding, int rows)
    {
        var random = new Random(height * 31 + width);
        int outHeight = (height + 2 * padding - kernel) / 2 + 1, outWidth = (width + 2 * padding - kernel) / 2 + 1;
        float[] input = Random(random, channels * height * width), weight = Random(random, filters * channels * kernel * kernel), bias = Random(random, filters);
        for (int i = 0; i < bias.Length; i++) bias[i] *= 4f;
        int k = channels * kernel * kernel, positions = outHeight * outWidth;
        var col = new float[k * positions];
        Im2Col.Pack(input, col, channels, height, width, kernel, 2, padding, outHeight, outWidth);
        foreach (var activation in Activations)
        {
            var expected = new float[filters * positions];
            Gemm.MultiplyBiasActivation(weight, col, expected, bias, filters, positions, k, activation);
            var actual = new float[filters * positions];
            StrideTwoConv.Forward(input, weight, bias, actual, new float[StrideTwoConv.ScratchLength(channels, width, kernel, padding, rows)],
                channels, height, width, filters, kernel, padding, outHeight, outWidth, rows, activation);
            AssertSameBits(expected, actual, $"C{channels} F{filters} K{kernel} P{padding} {height}x{width} rows {rows} {activation}");
        }
    }

    [Fact]
    public void ADeepInputWithALargeKernelGivesTheSameBits()
    {
        // 512 channels x 11 x 11 taps: 2 MB of weights laid out tap by tap per block of 8 filters (on the heap, not the stack).
        var random = new Random(31);
        const int channels = 512, size = 12, filters = 11, kernel = 11, padding = 5, outSize = 6, rows = 4;
        float[] input = Random(random, channels * size * size), weight = Random(random, filters * channels * kernel * kernel), bias = Random(random, filters);
        int k = channels * kernel * kernel, positions = outSize * outSize;
        var col = new float[k * positions];
        var expected = new float[filters * positions];
        Im2Col.Pack(input, col, channels, size, size, kernel, 2, padding, outSize, outSize);
        Gemm.MultiplyBiasActivation(weight, col, expected, bias, filters, positions, k, FusedActivation.Relu);

        var actual = new float[filters * positions];
        StrideTwoConv.Forward(input, weight, bias, actual, new float[StrideTwoConv.ScratchLength(channels, size, kernel, padding, rows)],
            channels, size, size, filters, kernel, padding, outSize, outSize, rows, FusedActivation.Relu);
        AssertSameBits(expected, actual, "C512 F11 K11 P5 12x12");
    }

    [Fact]
    public void RangesOfBlocksGiveTheBitsOfTheWholeCallAndWriteOnlyTheirRows()
    {
        var random = new Random(29);
        for (int trial = 0; trial < 60; trial++)
        {
            int kernel = 2 * random.Next(1, 4) + 1, padding = kernel / 2, channels = random.Next(1, 4), filters = random.Next(1, 19);
            int size = random.Next(kernel, 50), outSize = (size + 2 * padding - kernel) / 2 + 1, rows = random.Next(1, 5);
            int blocks = (outSize + rows - 1) / rows;
            var activation = Activations[trial % 3];
            float[] input = Random(random, channels * size * size), weight = Random(random, filters * channels * kernel * kernel), bias = Random(random, filters);

            var whole = new float[filters * outSize * outSize];
            StrideTwoConv.Forward(input, weight, bias, whole, new float[StrideTwoConv.ScratchLength(channels, size, kernel, padding, rows)],
                channels, size, size, filters, kernel, padding, outSize, outSize, rows, activation);

            // One range alone leaves every other row as it was.
            int first = random.Next(0, blocks), end = random.Next(first + 1, blocks + 1);
            var part = new float[whole.Length];
            Array.Fill(part, float.NaN);
            StrideTwoConv.ForwardBlocks(input, weight, bias, part, channels, size, size, filters, kernel, padding, outSize, outSize, rows, activation, first, end);
            for (int f = 0; f < filters; f++)
            for (int y = 0; y < outSize; y++)
            for (int x = 0; x < outSize; x++)
            {
                int i = (f * outSize + y) * outSize + x;
                bool inside = y >= first * rows && y < Math.Min(outSize, end * rows);
                if (inside) Assert.Equal(BitConverter.SingleToInt32Bits(whole[i]), BitConverter.SingleToInt32Bits(part[i]));
                else Assert.True(float.IsNaN(part[i]), $"row {y} outside blocks [{first}, {end}) of {rows} rows was written");
            }

            // Ranges that cover the blocks, in any order, give the whole call's bits.
            var pieces = new float[whole.Length];
            int middle = blocks / 2;
            StrideTwoConv.ForwardBlocks(input, weight, bias, pieces, channels, size, size, filters, kernel, padding, outSize, outSize, rows, activation, middle, blocks);
            StrideTwoConv.ForwardBlocks(input, weight, bias, pieces, channels, size, size, filters, kernel, padding, outSize, outSize, rows, activation, 0, middle);
            AssertSameBits(whole, pieces, $"C{channels} F{filters} K{kernel} {size}x{size} rows {rows}");
        }
    }

    [Fact]
    public void ShapesAndSpansItCannotTakeAreRefusedWithTheirNames()
    {
        float[] input = new float[3 * 224 * 224], weight = new float[32 * 27], bias = new float[32], output = new float[32 * 112 * 112];
        var scratch = new float[StrideTwoConv.ScratchLength(3, 224, 3, 1, 8)];

        var wrongSize = Assert.Throws<ArgumentException>(() =>
            StrideTwoConv.Forward(input, weight, bias, output, scratch, 3, 224, 224, 32, 3, 1, 111, 112, 8, FusedActivation.None));
        Assert.Contains("3x224x224 through a 3x3 kernel, stride 2, padding 1, is not 32x111x112", wrongSize.Message);

        var shortScratch = Assert.Throws<ArgumentException>(() =>
            StrideTwoConv.Forward(input, weight, bias, output, scratch.AsSpan(0, scratch.Length - 1), 3, 224, 224, 32, 3, 1, 112, 112, 8, FusedActivation.None));
        Assert.Contains("a block of 8 rows needs", shortScratch.Message);

        var shortOutput = Assert.Throws<ArgumentException>(() =>
            StrideTwoConv.Forward(input, weight, bias, output.AsSpan(1), scratch, 3, 224, 224, 32, 3, 1, 112, 112, 8, FusedActivation.None));
        Assert.Contains("spans too short", shortOutput.Message);

        var padding = Assert.Throws<ArgumentException>(() =>
            StrideTwoConv.Forward(input, weight, bias, output, scratch, 3, 224, 224, 32, 3, 3, 114, 114, 8, FusedActivation.None));
        Assert.Contains("padding 3 is not supported", padding.Message);

        var blocks = Assert.Throws<ArgumentException>(() =>
            StrideTwoConv.ForwardBlocks(input, weight, bias, output, 3, 224, 224, 32, 3, 1, 112, 112, 8, FusedActivation.None, 10, 15));
        Assert.Contains("blocks [10, 15) are not within the 14 blocks", blocks.Message);

        Assert.Throws<ArgumentOutOfRangeException>(() =>
            StrideTwoConv.Forward(input, weight, bias, output, scratch, 3, 224, 224, 32, 3, 1, 112, 112, 0, FusedActivation.None));
    }

    private static void AssertSameBits(float[] expected, float[] actual, string shape)
    {
        for (int i = 0; i < actual.Length; i++)
            Assert.True(BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(actual[i]),
                $"{shape}: value {i} is {actual[i]:R}, im2col gives {expected[i]:R}");
    }

    private static float[] Random(Random random, int n)
    {
        var values = new float[n];
        for (int i = 0; i < values.Length; i++) values[i] = (float)(random.NextDouble() * 2 - 1);
        return values;
    }
}
