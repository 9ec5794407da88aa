using System.Reflection;
using Xunit;

namespace CnnGen.Tests.Winograd;

/// <summary>
/// 512 -> 512 channels, 3x3 on 7x7 (ResNet-18's last stage): 37.7 MB of transformed weights for 4 tiles per image, so
/// inference runs it as Winograd only from 2 images per call, and as im2col + GEMM below.
/// </summary>
[Input(512, 7, 7)]
[Conv(3, 512, Padding = 1, Bias = false)] [BatchNorm] [ReLU]
[GlobalAvgPool] [Dense(10)]
public partial class LargeTransformNet { }

/// <summary>
/// A pass of fewer images than a layer's Winograd threshold neither makes nor allocates that layer's transform; the
/// first pass large enough makes it, also when <see cref="INetwork.FixedWeights"/> had the weights prepared by a
/// smaller pass, and every pass gives the bits of a network built afresh from the same weights.
/// </summary>
public sealed class LargeTransformTests
{
    private static float[] Images(int batch, int seed)
    {
        var random = new Random(seed);
        var x = new float[LargeTransformNet.InputLength * batch];
        for (int i = 0; i < x.Length; i++) x[i] = (float)(random.NextDouble() * 2 - 1);
        return x;
    }

    private static LargeTransformNet Create()
    {
        var network = new LargeTransformNet(seed: 4);
        var random = new Random(5);
        var state = network.State;
        for (int i = 0; i < state.Length; i++) state[i] = (float)(0.5 + random.NextDouble()); // a fold that changes the weights
        return network;
    }

    private static float[] Forward(INetwork network, float[] x, int batch)
    {
        var y = new float[network.OutputLength * batch];
        network.Forward(x, y, batch);
        return y;
    }

    private static int TransformLength(LargeTransformNet network) =>
        ((float[])typeof(LargeTransformNet).GetField("_winogradWeight_conv1", BindingFlags.Instance | BindingFlags.NonPublic)!.GetValue(network)!).Length;

    private static int[] Bits(float[] values) => values.Select(BitConverter.SingleToInt32Bits).ToArray();

    [Fact]
    public void ThePassOfOneImageLeavesTheTransformUnmadeAndThePassOfTwoMakesIt()
    {
        var network = Create();
        var one = Images(1, 6);
        var two = Images(2, 7);
        var first = Forward(network, one, 1);
        Assert.Equal(0, TransformLength(network));
        var pair = Forward(network, two, 2);
        Assert.Equal(36 * 512 * 512, TransformLength(network));
        Assert.Equal(Bits(Forward(Create(), two, 2)), Bits(pair));
        Assert.Equal(Bits(first), Bits(Forward(network, one, 1)));
        // Winograd and im2col + GEMM round differently, but both compute the same convolution.
        var pairFirst = Forward(network, one.Concat(one).ToArray(), 2).AsSpan(0, 10).ToArray();
        for (int i = 0; i < 10; i++) Assert.Equal(first[i], pairFirst[i], 1e-4f * Math.Max(1f, Math.Abs(first[i])));
    }

    [Fact]
    public void WithFixedWeightsALargerPassStillPreparesWhatASmallerOneLeftUnmade()
    {
        var network = Create();
        network.FixedWeights = true;
        var one = Images(1, 8);
        var two = Images(2, 9);
        var first = Forward(network, one, 1);
        Assert.Equal(0, TransformLength(network));
        Assert.Equal(Bits(Forward(Create(), two, 2)), Bits(Forward(network, two, 2)));
        Assert.Equal(Bits(first), Bits(Forward(network, one, 1)));
        // A change seen by the next large pass: the fold and its transform are made again.
        network.Parameter("conv1.weight")[17] += 0.5f;
        var changed = Forward(network, two, 2);
        var fresh = Create();
        network.Parameters.CopyTo(fresh.Parameters);
        Assert.Equal(Bits(Forward(fresh, two, 2)), Bits(changed));
    }
}
