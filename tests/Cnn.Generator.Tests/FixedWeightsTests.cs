using CnnGen.Checkpoints;
using CnnGen.Optimizers;
using static CnnGen.Generator.Tests.Infrastructure.RunningNetworks;

namespace CnnGen.Generator.Tests;

/// <summary>
/// <see cref="INetwork.FixedWeights"/> on the network of <see cref="WinogradTests"/> (conv2: Winograd with a folded
/// BatchNorm; conv3: Winograd without one): evaluation passes then prepare the derived weights once and reuse them,
/// with the bits of a network that checks every call; every way the weights can change through the network is seen by
/// the next call; and a write through a span taken before the last pass is not, until the property is set again.
/// </summary>
public class FixedWeightsTests : IDisposable
{
    private readonly string _checkpoint = Path.Combine(Path.GetTempPath(), $"fixed-weights-{Guid.NewGuid():N}.safetensors");
    private readonly INetwork _network = WinogradTests.Create();
    private readonly float[] _inputs;
    private float[] _last;

    public FixedWeightsTests()
    {
        Perturb(_network, 21);
        _inputs = Inputs(_network, 2, 22);
        _network.FixedWeights = true;
        _last = CallThenCompareWithAFreshNetwork("the first call");
    }

    public void Dispose()
    {
        File.Delete(_checkpoint);
        GC.SuppressFinalize(this);
    }

    [Fact]
    public void OffByDefault() => Assert.False(WinogradTests.Create().FixedWeights);

    [Fact]
    public void RepeatedCallsGiveTheBitsOfANetworkThatChecksEveryCall()
    {
        var checking = WinogradTests.Create();
        Perturb(checking, 21);
        Assert.False(checking.FixedWeights);
        for (int call = 0; call < 3; call++)
            Assert.Equal(Bits(Forward(checking)), Bits(Forward(_network)));
        _network.Threads = checking.Threads = 2;
        Assert.Equal(Bits(Forward(checking)), Bits(Forward(_network)));
    }

    [Fact]
    public void AWriteThroughASpanTakenBeforeTheLastPassIsSeenOnlyOnceTheSwitchIsSetAgain()
    {
        var weights = _network.Parameter("conv2.weight");
        var before = Forward(_network); // prepares: the span was handed out before this pass
        weights[5] += 0.25f;
        Assert.Equal(Bits(before), Bits(Forward(_network))); // the documented limit: the reused fold and transform
        _network.FixedWeights = true;
        var after = Forward(_network);
        Assert.NotEqual(Bits(before), Bits(after));
        Assert.Equal(Bits(after), Bits(FreshForward()));
    }

    [Fact]
    public void TheSameWriteIsSeenEveryCallWhenTheSwitchIsOff()
    {
        _network.FixedWeights = false;
        var weights = _network.Parameter("conv2.weight");
        var before = Forward(_network);
        weights[5] += 0.25f;
        var after = Forward(_network);
        Assert.NotEqual(Bits(before), Bits(after));
        Assert.Equal(Bits(after), Bits(FreshForward()));
    }

    [Fact]
    public void EachChangeThroughTheNetworkIsSeenByTheNextCall()
    {
        string batchNorm = _network.StateTensors.Single(t => t.Name.EndsWith(".running_var", StringComparison.Ordinal)).Name[..^".running_var".Length];
        int runningVar = _network.StateTensors.Single(t => t.Name == batchNorm + ".running_var").Offset;
        AfterChange("a conv2 weight through Parameter", () => _network.Parameter("conv2.weight")[7] += 0.25f);
        AfterChange("a conv3 weight (no BatchNorm) through Parameters", () => _network.Parameters[_network.Tensors.Single(t => t.Name == "conv3.weight").Offset + 3] -= 0.5f);
        AfterChange("the BatchNorm's weight", () => _network.Parameter(batchNorm + ".weight")[2] *= 1.5f);
        AfterChange("a running variance through State", () => _network.State[runningVar + 1] *= 3f);
        AfterChange("InitializeParameters", () => _network.InitializeParameters(9, Initialization.WeightInitialization.Default));
        AfterChange("FoldBatchNorm off", () => SetFold(false));
        AfterChange("FoldBatchNorm on", () => SetFold(true));
        AfterChange("a training-mode pass", () =>
        {
            _network.Training = true;
            Forward(_network); // moves the running statistics
            _network.Training = false;
        });
    }

    [Fact]
    public void AnOptimiserStepAndACheckpointLoadAreSeenByTheNextCall()
    {
        var optimizer = new Sgd(0.05f, momentum: 0.9f);
        AfterChange("an optimiser step", () =>
        {
            _network.ComputeGradients(_inputs, [1, 3], 2);
            optimizer.Step(_network.Parameters, _network.Gradients);
        });
        var other = WinogradTests.Create();
        Perturb(other, 23);
        Checkpoint.Save(_checkpoint, other);
        AfterChange("a checkpoint load", () => Checkpoint.Load(_checkpoint, _network));
    }

    /// <summary>Makes the change, calls Forward, and only then compares with a fresh network (reading the parameters
    /// before the call would itself tell the network they may change); the outputs must differ from the last call's.</summary>
    private void AfterChange(string change, Action make)
    {
        make();
        var outputs = CallThenCompareWithAFreshNetwork(change);
        Assert.False(Bits(_last).SequenceEqual(Bits(outputs)), $"after {change}: the outputs did not change");
        _last = outputs;
    }

    /// <summary>Forward, then the bits of a fresh network; reading this network's parameters for that tells it they may
    /// change, so one more call prepares the weights again: the next change must then be seen on its own.</summary>
    private float[] CallThenCompareWithAFreshNetwork(string change)
    {
        var outputs = Forward(_network);
        Assert.True(Bits(FreshForward()).SequenceEqual(Bits(outputs)), $"after {change}: not the bits of a fresh network");
        Assert.True(Bits(Forward(_network)).SequenceEqual(Bits(outputs)), $"after {change}: a second call gave other bits");
        return outputs;
    }

    /// <summary>A new network given this one's parameters, statistics and folding switch: its outputs.</summary>
    private float[] FreshForward()
    {
        var fresh = WinogradTests.Create();
        _network.Parameters.CopyTo(fresh.Parameters);
        _network.State.CopyTo(fresh.State);
        fresh.GetType().GetProperty("FoldBatchNorm")!.SetValue(fresh, _network.GetType().GetProperty("FoldBatchNorm")!.GetValue(_network));
        return Forward(fresh);
    }

    private float[] Forward(INetwork network)
    {
        var outputs = new float[2 * network.OutputLength];
        network.Forward(_inputs, outputs, 2);
        return outputs;
    }

    private void SetFold(bool fold) => _network.GetType().GetProperty("FoldBatchNorm")!.SetValue(_network, fold);

    private static int[] Bits(float[] values) => values.Select(BitConverter.SingleToInt32Bits).ToArray();
}
