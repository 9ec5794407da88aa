using System.Reflection;
using Xunit;

namespace CnnGen.Tests.Networks;

/// <summary>
/// ResNet-18's last stage in small: a stride-2 3x3 convolution 256 -> 512 onto 7x7 (im2col in inference at every batch
/// size) with its ReLU fused, then a 3x3 512 -> 512 on 7x7 (Winograd only from 2 images: 37.7 MB of transformed
/// weights), both with a BatchNorm folded in, then a 1x1 512 -> 160 (its input is its columns) with a folded BatchNorm
/// and a ReLU6: at one image all three products run with the filters in the vector lanes.
/// </summary>
[Input(256, 13, 13)]
[Conv(3, 512, Stride = 2, Padding = 1, Bias = false)] [BatchNorm] [ReLU]
[Conv(3, 512, Padding = 1, Bias = false)] [BatchNorm]
[Conv(1, 160, Bias = false)] [BatchNorm] [ReLU6]
[GlobalAvgPool] [Dense(10)]
public partial class FilterLanesNet { }

/// <summary>
/// The filter-lane products in a network: a pass of one image gives the bits of the packed product they replace (the
/// same network with the laid-out weights marked stale, which a pass with <see cref="INetwork.FixedWeights"/> does not
/// remake, takes the packed product), on one thread and split over two and three; a change of the weights is seen by
/// the next pass (the fold and the layout are made again).
/// </summary>
public sealed class FilterLanesNetworkTests
{
    private static readonly string[] Layers = ["conv1", "conv2", "conv3"];

    private static FilterLanesNet Create()
    {
        var network = new FilterLanesNet(seed: 4);
        var random = new Random(5);
        var state = network.State;
        for (int i = 0; i < state.Length; i++) state[i] = (float)(0.5 + random.NextDouble()); // a fold that changes the weights
        return network;
    }

    private static float[] Image(int seed)
    {
        var random = new Random(seed);
        var x = new float[FilterLanesNet.InputLength];
        for (int i = 0; i < x.Length; i++) x[i] = (float)(random.NextDouble() * 2 - 1);
        return x;
    }

    private static float[] Forward(INetwork network, float[] x, int threads = 1)
    {
        network.Threads = threads;
        var y = new float[network.OutputLength];
        network.Forward(x, y, 1);
        return y;
    }

    private static FieldInfo Field(string name) => typeof(FilterLanesNet).GetField(name, BindingFlags.Instance | BindingFlags.NonPublic)!;

    private static int[] Bits(float[] values) => values.Select(BitConverter.SingleToInt32Bits).ToArray();

    [Fact]
    public void OneImageGivesTheBitsOfThePackedProduct()
    {
        var network = Create();
        network.FixedWeights = true;
        var x = Image(6);
        var lanes = Forward(network, x);
        Assert.Contains(lanes, v => v != 0f);
        Assert.Equal(512 * 2304, ((float[])Field("_filterLanes_conv1").GetValue(network)!).Length);
        Assert.Equal(512 * 4608, ((float[])Field("_filterLanes_conv2").GetValue(network)!).Length);
        Assert.Equal(160 * 512, ((float[])Field("_filterLanes_conv3").GetValue(network)!).Length);
        foreach (var layer in Layers) Assert.True((bool)Field("_filterLanesFromFold_" + layer).GetValue(network)!);

        // Marked stale, with fixed weights nothing lays them out again: the pass takes the packed product.
        foreach (var layer in Layers) Field("_filterLanesFromFold_" + layer).SetValue(network, false);
        var packed = Forward(network, x);
        Assert.False((bool)Field("_filterLanesFromFold_conv1").GetValue(network)!);
        Assert.Equal(Bits(packed), Bits(lanes));
    }

    [Fact]
    public void ASplitPassGivesTheBitsOfOneThread()
    {
        var network = Create();
        network.SplitImages = true;
        var x = Image(7);
        var one = Forward(network, x, threads: 1);
        Assert.Equal(Bits(one), Bits(Forward(network, x, threads: 2)));
        Assert.Equal(Bits(one), Bits(Forward(network, x, threads: 3)));
        Assert.Equal(Bits(one), Bits(Forward(Create(), x, threads: 1)));
    }

    [Fact]
    public void AChangedWeightIsLaidOutAgain()
    {
        var network = Create();
        var x = Image(8);
        var before = Forward(network, x);
        network.Parameter("conv2.weight")[17] += 0.5f;
        network.Parameter("conv1.weight")[5] -= 0.5f;
        var changed = Forward(network, x);
        Assert.NotEqual(Bits(before), Bits(changed));
        var fresh = Create();
        network.Parameters.CopyTo(fresh.Parameters);
        Assert.Equal(Bits(Forward(fresh, x)), Bits(changed));
    }
}
