using CnnGen.Tests.Gradients;
using Xunit;

namespace CnnGen.Tests.Networks;

// Convolutions whose whole-image columns pass 1 MiB with few input channels: inference runs them in blocks of output
// rows. A 5x5 on 97-wide rows (75 x 9,409 columns, blocks of 2 rows that leave columns after the whole panels) with its
// ReLU fused; a 7x7 stride-2 stem with a folded BatchNorm and ReLU (147 x 2,304 columns, blocks of 2 rows = 3 panels).

[Input(3, 97, 97)]
[Conv(5, 8, Padding = 2)] [ReLU] [MaxPool(3, Stride = 2, Padding = 1)]
[GlobalAvgPool] [Dense(4)]
public partial class WideBlocksNet { }

[Input(3, 96, 96)]
[Conv(7, 16, Stride = 2, Padding = 3, Bias = false)] [BatchNorm] [ReLU]
[GlobalAvgPool] [Dense(5)]
public partial class StemBlocksNet { }

// The same stem with 32 filters (one panel): each block of 2 rows (96 positions) multiplied with the filters in the lanes.
[Input(3, 96, 96)]
[Conv(7, 32, Stride = 2, Padding = 3, Bias = false)] [BatchNorm] [ReLU]
[GlobalAvgPool] [Dense(5)]
public partial class StemLanesNet { }

/// <summary>
/// Inference's blocks of output rows give the bits of the whole image's columns and one product: against the unfused
/// pass (every layer its own output, the whole product) without BatchNorm, and with a folded BatchNorm against the pass
/// split over two threads (whole columns, filters shared out) and training mode's whole product within rounding.
/// </summary>
public class Im2ColBlocksNetworkTests
{
    private static float[] Image(INetwork network, int seed)
    {
        var random = new Random(seed);
        var x = new float[network.InputLength];
        for (int i = 0; i < x.Length; i++) x[i] = (float)(random.NextDouble() * 2 - 1);
        return x;
    }

    private static void AssertSameBits(float[] expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(actual[i]),
                $"{what}: output {i} is {actual[i]:R}, expected {expected[i]:R}");
    }

    [Fact]
    public void BlocksWithAFusedReluGiveTheBitsOfTheUnfusedPass()
    {
        INetwork network = new WideBlocksNet(seed: 4);
        var x = Image(network, 1);
        var unfused = network.Activations(x);
        var y = new float[network.OutputLength];
        network.Forward(x, y, 1);
        Assert.Contains(unfused[0], v => v < 0f); // the convolution's own output, before its ReLU
        AssertSameBits(unfused[^1], y, "inference against the unfused pass");
    }

    [Fact]
    public void BlocksWithAFoldedBatchNormGiveTheBitsOfTheSplitWholeProduct()
    {
        INetwork network = new StemBlocksNet(seed: 6);
        GradientCheckTests.WithRunningStatistics(network, 6);
        var x = Image(network, 2);
        var blocks = new float[network.OutputLength];
        network.Forward(x, blocks, 1); // one thread: blocks of rows
        network.Threads = 2;
        network.SplitImages = true;
        var split = new float[network.OutputLength];
        network.Forward(x, split, 1); // split over two threads: the whole image's columns, ranges of filters
        AssertSameBits(split, blocks, "one thread's blocks against the split whole product");
        var unfused = network.Activations(x)[^1];
        for (int i = 0; i < unfused.Length; i++) Assert.Equal(unfused[i], blocks[i], 1e-5f);
    }

    [Fact]
    public void BlocksWithTheFiltersInTheLanesGiveTheBitsOfTheSplitWholeProductAndFollowAChangedFold()
    {
        INetwork network = new StemLanesNet(seed: 8);
        GradientCheckTests.WithRunningStatistics(network, 8);
        var x = Image(network, 3);
        var lanes = new float[network.OutputLength];
        network.Forward(x, lanes, 1); // one thread: blocks of rows, filters in the lanes from the laid-out fold
        network.Threads = 2;
        network.SplitImages = true;
        var split = new float[network.OutputLength];
        network.Forward(x, split, 1); // split over two threads: the whole image's columns, ranges of filters in rows
        AssertSameBits(split, lanes, "one thread's blocks in lanes against the split whole product");

        // A changed weight changes the fold: the laid-out panels are made again before the next pass.
        network.Parameter("conv1.weight")[7] += 0.25f;
        network.Threads = 1;
        network.SplitImages = false;
        network.Forward(x, lanes, 1);
        network.Threads = 2;
        network.SplitImages = true;
        network.Forward(x, split, 1);
        AssertSameBits(split, lanes, "after a weight changed");
        var unfused = network.Activations(x)[^1];
        for (int i = 0; i < unfused.Length; i++) Assert.Equal(unfused[i], lanes[i], 1e-5f);
    }
}
