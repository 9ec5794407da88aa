using CnnGen.Checkpoints;
using CnnGen.Optimizers;
using static CnnGen.Generator.Tests.Infrastructure.RunningNetworks;

namespace CnnGen.Generator.Tests;

/// <summary>
/// The network of <see cref="WinogradTests"/> (conv2: Winograd with a folded BatchNorm; conv3: Winograd without one)
/// prepares its weights before a pass only where something changed: the fold reports a changed bit, and only then is
/// conv2's fold transformed again. Here every way the weights or statistics can change between two calls is made in turn,
/// and after each the next call must give new outputs, with exactly the bits of a network built afresh from the same
/// parameters, statistics and switches.
/// </summary>
public class WinogradFoldRefreshTests : IDisposable
{
    private readonly string _checkpoint = Path.Combine(Path.GetTempPath(), $"winograd-fold-{Guid.NewGuid():N}.safetensors");
    private readonly INetwork _network = WinogradTests.Create();
    private readonly float[] _inputs;
    private float[] _last;

    public WinogradFoldRefreshTests()
    {
        Perturb(_network, 11);
        _inputs = Inputs(_network, 2, 12);
        _last = CallAndCompareWithAFreshNetwork();
    }

    public void Dispose()
    {
        File.Delete(_checkpoint);
        GC.SuppressFinalize(this);
    }

    private string BatchNorm => _network.StateTensors.Single(t => t.Name.EndsWith(".running_var", StringComparison.Ordinal)).Name[..^".running_var".Length];

    [Fact]
    public void NothingChangedGivesTheSameBits() => Assert.Equal(Bits(_last), Bits(CallAndCompareWithAFreshNetwork()));

    [Fact]
    public void EachWriteThroughParametersOrStateIsSeenByTheNextCall()
    {
        AfterChange("a conv2 weight", () => _network.Parameter("conv2.weight")[5] += 0.25f);
        AfterChange("the BatchNorm's weight", () => _network.Parameter(BatchNorm + ".weight")[3] *= 1.5f);
        AfterChange("the BatchNorm's bias", () => _network.Parameter(BatchNorm + ".bias")[7] -= 0.5f);
        AfterChange("a running mean", () => _network.State[Offset(BatchNorm + ".running_mean") + 2] += 0.5f);
        AfterChange("a running variance", () => _network.State[Offset(BatchNorm + ".running_var") + 4] *= 3f);
        AfterChange("a conv3 weight (no BatchNorm)", () => _network.Parameter("conv3.weight")[11] += 0.5f);
        AfterChange("the last bit of a conv2 weight", () =>
        {
            ref float w = ref _network.Parameter("conv2.weight")[100];
            w = BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(w) ^ 1);
        }, mustChangeOutputs: false);
    }

    [Fact]
    public void ACheckpointLoadIsSeenByTheNextCall()
    {
        var other = WinogradTests.Create();
        Perturb(other, 13);
        Checkpoint.Save(_checkpoint, other);
        AfterChange("a checkpoint load", () => Checkpoint.Load(_checkpoint, _network));
        Assert.Equal(Bits(other.Parameters.ToArray()), Bits(_network.Parameters.ToArray()));
    }

    [Fact]
    public void AnOptimiserStepIsSeenByTheNextCall()
    {
        var optimizer = new Sgd(0.05f, momentum: 0.9f);
        for (int step = 0; step < 2; step++)
            AfterChange($"optimiser step {step + 1}", () =>
            {
                _network.ComputeGradients(_inputs, [1, 3], 2);
                optimizer.Step(_network.Parameters, _network.Gradients);
            });
    }

    [Fact]
    public void SwitchingFoldingOrTrainingOffAndOnGivesEachModesOwnBits()
    {
        AfterChange("FoldBatchNorm off", () => SetFold(false));
        AfterChange("a conv2 weight while not folding", () => _network.Parameter("conv2.weight")[9] -= 0.25f);
        AfterChange("FoldBatchNorm on", () => SetFold(true));
        // Off and on again with nothing changed in between: the fold is the same, but the transform was of the raw weights.
        var folded = _last;
        AfterChange("FoldBatchNorm off again", () => SetFold(false));
        AfterChange("FoldBatchNorm on again", () => SetFold(true));
        Assert.Equal(Bits(folded), Bits(_last));

        // Training mode normalises by the batch and moves the running statistics, which evaluation then folds in.
        AfterChange("Training on", () => _network.Training = true);
        AfterChange("Training off", () => _network.Training = false);
    }

    [Fact]
    public void TwoWorkerThreadsGiveTheSameBits()
    {
        _network.Threads = 2;
        AfterChange("a conv2 weight, on two threads", () => _network.Parameter("conv2.weight")[40] += 0.25f);
        AfterChange("a running variance, on two threads", () => _network.State[Offset(BatchNorm + ".running_var")] *= 2f);
    }

    [Fact]
    public void AFoldedWinogradLayerKeepsNoCopyOfItsWeightsWhileFolding()
    {
        float[] Copy(string layer) => (float[])_network.GetType().GetField("_winogradSource_" + layer, System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.NonPublic)!.GetValue(_network)!;
        int conv2Weights = _network.Parameter("conv2.weight").Length;
        Assert.Empty(Copy("conv2"));
        Assert.Equal(_network.Parameter("conv3.weight").Length + 1, Copy("conv3").Length); // no BatchNorm: compared with its copy
        AfterChange("FoldBatchNorm off", () => SetFold(false));
        Assert.Equal(conv2Weights + 1, Copy("conv2").Length);
        AfterChange("FoldBatchNorm on", () => SetFold(true));
        Assert.Empty(Copy("conv2"));
    }

    /// <summary>Makes the change, calls Forward and checks it against a fresh network; the outputs must differ from the
    /// last call's (unless the change may be too small to reach them).</summary>
    private void AfterChange(string change, Action make, bool mustChangeOutputs = true)
    {
        make();
        var outputs = CallAndCompareWithAFreshNetwork(change);
        if (mustChangeOutputs) Assert.False(Bits(_last).SequenceEqual(Bits(outputs)), $"after {change}: the outputs did not change");
        _last = outputs;
    }

    /// <summary>Forward on the network under test, and on a new network given its parameters, statistics and switches
    /// before the call: the outputs and the statistics after the call must have the same bits.</summary>
    private float[] CallAndCompareWithAFreshNetwork(string change = "the first call")
    {
        var fresh = WinogradTests.Create();
        _network.Parameters.CopyTo(fresh.Parameters);
        _network.State.CopyTo(fresh.State);
        fresh.Training = _network.Training;
        fresh.GetType().GetProperty("FoldBatchNorm")!.SetValue(fresh, Fold);
        var outputs = Forward(_network);
        Assert.True(Bits(Forward(fresh)).SequenceEqual(Bits(outputs)), $"after {change}: not the bits of a fresh network");
        Assert.True(Bits(fresh.State.ToArray()).SequenceEqual(Bits(_network.State.ToArray())), $"after {change}: not the statistics of a fresh network");
        return outputs;
    }

    private float[] Forward(INetwork network)
    {
        var outputs = new float[2 * network.OutputLength];
        network.Forward(_inputs, outputs, 2);
        return outputs;
    }

    private bool Fold => (bool)_network.GetType().GetProperty("FoldBatchNorm")!.GetValue(_network)!;

    private void SetFold(bool fold) => _network.GetType().GetProperty("FoldBatchNorm")!.SetValue(_network, fold);

    private int Offset(string stateTensor) => _network.StateTensors.Single(t => t.Name == stateTensor).Offset;

    private static int[] Bits(float[] values) => values.Select(BitConverter.SingleToInt32Bits).ToArray();
}
