using CnnGen.Kernels;
using Xunit;

namespace CnnGen.Tests.Kernels;

/// <summary>
/// <see cref="Im2ColBlocks.Forward"/>, im2col and the product in blocks of output rows, against the whole image's
/// columns (<see cref="Im2Col.Pack"/>) and one product (<see cref="Gemm.MultiplyBiasActivation"/>), bit for bit: blocks
/// of one row, of whole 32-column panels and of leftover columns, a last block shorter than the others, strides 1 to 3,
/// padding, dilation, filter counts off the 8-row blocks, each activation, and inputs with NaN, infinities and -0.
/// <see cref="Im2Col.PackRows"/> gives exactly its rows' columns of <see cref="Im2Col.Pack"/>'s matrix.
/// <see cref="Im2ColBlocks.ForwardLanes"/>, the blocks with the filters in the vector lanes, gives the same bits, on
/// ResNet-18's stem and on blocks of 14-position groups with leftovers, of more positions than one chunk of the kernel's
/// scratch, and of rows shorter than two transposes. <see cref="Im2ColBlocks.ForwardBlocks"/>, ranges of blocks (a
/// thread's share of a split image, its columns in the thread's own scratch), gives the same bits range by range and
/// writes nothing outside its blocks' rows.
/// </summary>
public class Im2ColBlocksTests
{
    private static float[] Values(Random random, int n)
    {
        var x = new float[n];
        for (int i = 0; i < n; i++) x[i] = random.NextSingle() * 2 - 1;
        return x;
    }

    public static TheoryData<int, int, int, int, int, int, int, int, FusedActivation> Shapes()
    {
        // channels, size, filters, kernel, stride, padding, dilation, rows per block, activation
        var data = new TheoryData<int, int, int, int, int, int, int, int, FusedActivation>
        {
            { 3, 64, 64, 7, 2, 3, 1, 2, FusedActivation.Relu },   // ResNet-18's stem, smaller: 2 rows of 32, whole panels
            { 3, 64, 32, 3, 2, 1, 1, 4, FusedActivation.Relu6 },  // MobileNetV2's stem, smaller
            { 3, 45, 21, 7, 2, 3, 1, 3, FusedActivation.None },   // 23 columns a row: panels and leftovers; a short last block
            { 2, 30, 9, 5, 1, 2, 1, 1, FusedActivation.Relu },    // one row per block
            { 4, 40, 16, 3, 3, 1, 1, 5, FusedActivation.Relu },   // stride 3
            { 3, 36, 12, 3, 1, 2, 2, 7, FusedActivation.Relu6 },  // dilation 2
            { 1, 20, 5, 3, 1, 1, 1, 30, FusedActivation.None },   // one block for the whole image, fewer rows than 8
        };
        return data;
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void BlocksGiveTheBitsOfTheWholeImagesColumnsAndOneProduct(int channels, int size, int filters, int kernel, int stride,
        int padding, int dilation, int rowsPerBlock, FusedActivation activation)
    {
        var random = new Random(channels * 1000 + size * 10 + kernel);
        int outSize = (size + 2 * padding - dilation * (kernel - 1) - 1) / stride + 1, n = outSize * outSize, k = channels * kernel * kernel;
        float[] input = Values(random, channels * size * size), weight = Values(random, filters * k), bias = Values(random, filters);
        input[5] = float.NaN; input[17] = float.PositiveInfinity; input[40] = -0f; input[^3] = float.NegativeInfinity;
        bias[0] = -0f;
        if (filters > 2) bias[2] = 6f;

        var wholeColumns = new float[k * n];
        var expected = new float[filters * n];
        Im2Col.Pack(input, wholeColumns, channels, size, size, kernel, stride, padding, outSize, outSize, dilation);
        Gemm.MultiplyBiasActivation(weight, wholeColumns, expected, bias, filters, n, k, activation);

        var col = new float[k * n];
        var actual = Enumerable.Repeat(123f, filters * n + 1).ToArray();
        Im2ColBlocks.Forward(input, weight, bias, actual, col, channels, size, size, filters, kernel, stride, padding, outSize, outSize,
            rowsPerBlock, activation, dilation);
        Assert.Contains(expected, float.IsNaN);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(actual[i]),
                $"output {i} (filter {i / n}, position {i % n}): {actual[i]:R}, the whole image's product gave {expected[i]:R}");
        Assert.Equal(123f, actual[^1]);
    }

    public static TheoryData<int, int, int, int, int, int, int, FusedActivation> LaneShapes()
    {
        // channels, size, filters, kernel, stride, padding, rows per block, activation
        return new TheoryData<int, int, int, int, int, int, int, FusedActivation>
        {
            { 3, 224, 64, 7, 2, 3, 2, FusedActivation.Relu },   // ResNet-18's stem: blocks of 2 rows of 112, 224 positions
            { 3, 64, 32, 3, 2, 1, 4, FusedActivation.Relu6 },  // 4 rows of 32
            { 3, 45, 64, 7, 2, 3, 3, FusedActivation.None },   // 23 columns a row (69 a block: groups of 14, 7 and single positions); a short last block
            { 2, 60, 32, 3, 1, 1, 6, FusedActivation.Relu },   // 360 positions a block: two chunks of the kernel's scratch
            { 4, 20, 96, 3, 1, 1, 1, FusedActivation.Relu },   // one row of 20 per block: a transpose and 4 positions after it
        };
    }

    [Theory]
    [MemberData(nameof(LaneShapes))]
    public void LanesGiveTheBitsOfTheBlocksAndOfTheWholeImagesProduct(int channels, int size, int filters, int kernel, int stride,
        int padding, int rowsPerBlock, FusedActivation activation)
    {
        var random = new Random(channels * 977 + size * 13 + kernel + filters);
        int outSize = (size + 2 * padding - kernel) / stride + 1, n = outSize * outSize, k = channels * kernel * kernel;
        float[] input = Values(random, channels * size * size), weight = Values(random, filters * k), bias = Values(random, filters);
        input[5] = float.NaN; input[17] = float.PositiveInfinity; input[40] = -0f; input[^3] = float.NegativeInfinity;
        bias[0] = -0f; bias[2] = 6f;

        var wholeColumns = new float[k * n];
        var expected = new float[filters * n];
        Im2Col.Pack(input, wholeColumns, channels, size, size, kernel, stride, padding, outSize, outSize);
        Gemm.MultiplyBiasActivation(weight, wholeColumns, expected, bias, filters, n, k, activation);
        var blocks = new float[filters * n];
        Im2ColBlocks.Forward(input, weight, bias, blocks, new float[k * n], channels, size, size, filters, kernel, stride, padding, outSize, outSize,
            rowsPerBlock, activation);

        var panels = new float[filters * k];
        FilterLanes.Layout(weight, panels, filters, k);
        var actual = Enumerable.Repeat(123f, filters * n + 1).ToArray();
        Im2ColBlocks.ForwardLanes(input, panels, bias, actual, new float[k * n], channels, size, size, filters, kernel, stride, padding, outSize, outSize,
            rowsPerBlock, activation);
        Assert.Contains(expected, float.IsNaN);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(actual[i]),
                $"output {i} (filter {i / n}, position {i % n}): {actual[i]:R}, the whole image's product gave {expected[i]:R}");
            Assert.True(BitConverter.SingleToInt32Bits(blocks[i]) == BitConverter.SingleToInt32Bits(actual[i]),
                $"output {i} (filter {i / n}, position {i % n}): {actual[i]:R}, the blocks with the filters in rows gave {blocks[i]:R}");
        }
        Assert.Equal(123f, actual[^1]);
    }

    [Theory]
    [InlineData(3, 64, 64, 7, 2, 3, 2, false, FusedActivation.Relu)]   // ResNet-18's stem, smaller: 16 blocks of 2 rows of 32
    [InlineData(3, 64, 64, 7, 2, 3, 2, true, FusedActivation.Relu)]    // the same with the filters in the lanes
    [InlineData(3, 45, 21, 7, 2, 3, 3, false, FusedActivation.None)]   // a short last block
    [InlineData(3, 45, 64, 7, 2, 3, 3, true, FusedActivation.Relu6)]
    public void RangesOfBlocksGiveTheBitsOfTheWholeImageAndWriteOnlyTheirRows(int channels, int size, int filters, int kernel, int stride,
        int padding, int rowsPerBlock, bool lanes, FusedActivation activation)
    {
        var random = new Random(channels * 31 + size * 7 + filters + (lanes ? 1 : 0));
        int outSize = (size + 2 * padding - kernel) / stride + 1, n = outSize * outSize, k = channels * kernel * kernel;
        int blocks = (outSize + rowsPerBlock - 1) / rowsPerBlock;
        float[] input = Values(random, channels * size * size), weight = Values(random, filters * k), bias = Values(random, filters);
        input[5] = float.NaN; input[40] = -0f;
        var expected = new float[filters * n];
        Im2ColBlocks.Forward(input, weight, bias, expected, new float[k * n], channels, size, size, filters, kernel, stride, padding, outSize, outSize,
            rowsPerBlock, activation);
        var operand = weight;
        if (lanes)
        {
            operand = new float[filters * k];
            FilterLanes.Layout(weight, operand, filters, k);
        }

        // Three ranges, the middle one first and on another thread (its own scratch), the others after it on this one.
        int a = blocks / 3, b = 2 * blocks / 3;
        var actual = Enumerable.Repeat(123f, filters * n).ToArray();
        var other = new Thread(() => Im2ColBlocks.ForwardBlocks(input, operand, bias, actual, lanes, channels, size, size, filters, kernel, stride, padding,
            outSize, outSize, rowsPerBlock, activation, a, b));
        other.Start();
        other.Join();
        for (int i = 0; i < filters * n; i++)
        {
            int row = i % n / outSize;
            bool inMiddle = row >= a * rowsPerBlock && row < b * rowsPerBlock;
            Assert.True(inMiddle ? BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(actual[i]) : actual[i] == 123f,
                $"after blocks [{a}, {b}): output {i} (filter {i / n}, row {row}) is {actual[i]:R}");
        }
        Im2ColBlocks.ForwardBlocks(input, operand, bias, actual, lanes, channels, size, size, filters, kernel, stride, padding, outSize, outSize,
            rowsPerBlock, activation, 0, a);
        Im2ColBlocks.ForwardBlocks(input, operand, bias, actual, lanes, channels, size, size, filters, kernel, stride, padding, outSize, outSize,
            rowsPerBlock, activation, b, blocks);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(actual[i]),
                $"output {i} (filter {i / n}, position {i % n}): {actual[i]:R}, the whole image's blocks gave {expected[i]:R}");
    }

    [Fact]
    public void RangesOutsideTheBlocksAreRejected()
    {
        var buffer = new float[32 * 27 * 256];
        var error = Assert.Throws<ArgumentException>(() => Im2ColBlocks.ForwardBlocks(buffer, buffer, buffer, buffer, false, 3, 32, 32, 32, 3, 2, 1,
            16, 16, 4, FusedActivation.None, 2, 5));
        Assert.Contains("blocks [2, 5) are not within the 4 blocks", error.Message);
    }

    [Fact]
    public void LanesRejectFiltersThatAreNotWholePanels()
    {
        var buffer = new float[48 * 27 * 64];
        Assert.Throws<ArgumentException>(() => Im2ColBlocks.ForwardLanes(buffer, buffer, buffer, buffer, buffer, 3, 16, 16, 48, 3, 2, 1, 8, 8, 2, FusedActivation.None));
    }

    [Fact]
    public void PackRowsLaysOutThoseRowsColumnsOfPack()
    {
        const int channels = 2, size = 19, kernel = 5, stride = 2, padding = 2, outSize = 10, k = channels * kernel * kernel;
        var input = Values(new Random(3), channels * size * size);
        var whole = new float[k * outSize * outSize];
        Im2Col.Pack(input, whole, channels, size, size, kernel, stride, padding, outSize, outSize);
        foreach (var (first, rows) in new[] { (0, 3), (3, 4), (7, 3), (9, 1) })
        {
            var block = Enumerable.Repeat(float.NaN, k * rows * outSize).ToArray();
            Im2Col.PackRows(input, block, channels, size, size, kernel, stride, padding, outSize, first, rows);
            for (int p = 0; p < k; p++)
                for (int j = 0; j < rows * outSize; j++)
                    Assert.Equal(whole[p * outSize * outSize + first * outSize + j], block[p * rows * outSize + j]);
        }
    }

    [Fact]
    public void BadArgumentsAreRefusedWithAMessage()
    {
        var e = Assert.Throws<ArgumentException>(() => Im2ColBlocks.Forward(new float[75], new float[27], new float[1], new float[9], new float[27 * 8],
            3, 5, 5, 1, 3, 2, 1, 3, 3, 1, FusedActivation.None));
        Assert.Contains("too short", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => Im2ColBlocks.Forward(new float[75], new float[27], new float[1], new float[9], new float[27 * 9],
            3, 5, 5, 1, 3, 2, 1, 3, 3, 0, FusedActivation.None));
    }
}
