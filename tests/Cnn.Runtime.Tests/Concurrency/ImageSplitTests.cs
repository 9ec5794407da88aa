using Xunit;

namespace CnnGen.Tests.Concurrency;

/// <summary>
/// A forward pass with fewer images than threads splits each large layer of an image over the threads: the outputs
/// must be the bits of one thread for every thread count, in every mode (BatchNorm folded or not), and a pass must
/// allocate nothing once warm.
/// </summary>
public sealed class ImageSplitTests
{
    private static float[] Images(INetwork network, int batch, int seed)
    {
        var random = new Random(seed);
        var x = new float[network.InputLength * batch];
        for (int i = 0; i < x.Length; i++) x[i] = (float)(random.NextDouble() * 2 - 1);
        return x;
    }

    /// <summary>Running statistics away from (0, 1), so folding a BatchNorm changes the convolution's weights: means in
    /// [-0.25, 0.25) and variances in [0.5, 1.5). (Means of 0.5 to 1.5 left nearly every value below its mean, so the
    /// ReLUs after them zeroed whole layers and every network gave the same uniform softmax whatever its layers
    /// computed.)</summary>
    private static void ScrambleState(INetwork network, int seed)
    {
        var random = new Random(seed);
        var state = network.State;
        foreach (var tensor in network.StateTensors)
        {
            bool mean = tensor.Name.EndsWith("running_mean", StringComparison.Ordinal);
            for (int i = tensor.Offset; i < tensor.Offset + tensor.Length; i++)
                state[i] = mean ? (float)(random.NextDouble() * 0.5 - 0.25) : (float)(0.5 + random.NextDouble());
        }
    }

    /// <summary>Outputs that tell networks apart: not all the same value (a saturated network gives a uniform softmax
    /// or constant logits, whatever its layers computed).</summary>
    private static void AssertInformative(float[] outputs, string what) =>
        Assert.True(outputs.Distinct().Count() > outputs.Length / 2, $"{what}: {outputs.Distinct().Count()} distinct values among {outputs.Length} outputs");

    private static float[] Forward(INetwork network, float[] x, int batch, int threads)
    {
        network.Threads = threads;
        var y = new float[network.OutputLength * batch];
        network.Forward(x, y, batch);
        return y;
    }

    private static void AssertSameBits(float[] expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(actual[i]),
                $"{what}: output {i} is {actual[i]:R}, one thread gave {expected[i]:R}");
    }

    public static TheoryData<string, bool> Networks => new()
    {
        { nameof(SplitImageNet), true },
        { nameof(SplitImageNet), false },
        { nameof(SplitOddNet), false },
        { nameof(SplitWinogradNet), true },
        { nameof(SplitWinogradNet), false },
        { nameof(SplitWinogradFiltersNet), true },
        { nameof(SplitWinogradFiltersNet), false },
        { nameof(SplitWinogradPointsNet), true },
        { nameof(SplitWinogradPointsNet), false },
        { nameof(SplitWinogradNarrowPanelNet), true },
        { nameof(SplitWinogradNarrowPanelNet), false },
        { nameof(SplitFilterRowsNet), true },
        { nameof(SplitFilterRowsNet), false },
        { nameof(SplitElementwiseNet), true },
        { nameof(SplitElementwiseNet), false },
        { nameof(SplitRowsNet), true },
        { nameof(SplitRowsNet), false },
        { nameof(SplitSixteenTilesNet), true },
        { nameof(SplitSixteenTilesNet), false },
        { nameof(SplitDepthwiseNet), true },
        { nameof(SplitDepthwiseNet), false },
        { nameof(SplitStemNet), true },
        { nameof(SplitStemNet), false },
        { nameof(SplitBlocksNet), false },
        { nameof(SplitSumsNet), true },
        { nameof(SplitSumsNet), false },
        { nameof(SplitPoolsNet), true },
        { nameof(SplitPoolsNet), false },
        { nameof(SplitChannelPoolsNet), false },
        { nameof(SplitBandsNet), true },
        { nameof(SplitBandsNet), false },
        { nameof(SplitBandEndNet), false },
        { nameof(SplitNormsNet), true },
        { nameof(SplitNormsNet), false },
    };

    private static INetwork Make(string name, bool fold)
    {
        INetwork network = name switch
        {
            nameof(SplitImageNet) => new SplitImageNet(seed: 3) { FoldBatchNorm = fold },
            nameof(SplitWinogradNet) => new SplitWinogradNet(seed: 6) { FoldBatchNorm = fold },
            nameof(SplitWinogradFiltersNet) => new SplitWinogradFiltersNet(seed: 9) { FoldBatchNorm = fold },
            nameof(SplitWinogradNarrowPanelNet) => new SplitWinogradNarrowPanelNet(seed: 21) { FoldBatchNorm = fold },
            nameof(SplitWinogradPointsNet) => new SplitWinogradPointsNet(seed: 22) { FoldBatchNorm = fold },
            nameof(SplitFilterRowsNet) => new SplitFilterRowsNet(seed: 23) { FoldBatchNorm = fold },
            nameof(SplitElementwiseNet) => new SplitElementwiseNet(seed: 8) { FoldBatchNorm = fold },
            nameof(SplitRowsNet) => new SplitRowsNet(seed: 10) { FoldBatchNorm = fold },
            nameof(SplitSixteenTilesNet) => new SplitSixteenTilesNet(seed: 11) { FoldBatchNorm = fold },
            nameof(SplitDepthwiseNet) => new SplitDepthwiseNet(seed: 12) { FoldBatchNorm = fold },
            nameof(SplitStemNet) => new SplitStemNet(seed: 13) { FoldBatchNorm = fold },
            nameof(SplitBlocksNet) => new SplitBlocksNet(seed: 14),
            nameof(SplitSumsNet) => new SplitSumsNet(seed: 15) { FoldBatchNorm = fold },
            nameof(SplitPoolsNet) => new SplitPoolsNet(seed: 16) { FoldBatchNorm = fold },
            nameof(SplitChannelPoolsNet) => new SplitChannelPoolsNet(seed: 17),
            nameof(SplitBandsNet) => new SplitBandsNet(seed: 18) { FoldBatchNorm = fold },
            nameof(SplitBandEndNet) => new SplitBandEndNet(seed: 19),
            nameof(SplitNormsNet) => new SplitNormsNet(seed: 20) { FoldBatchNorm = fold },
            _ => new SplitOddNet(seed: 4),
        };
        ScrambleState(network, 5);
        network.SplitImages = true;
        return network;
    }

    [Theory]
    [MemberData(nameof(Networks))]
    public void OneImageGivesTheBitsOfOneThreadOnTwoAndThreeThreads(string name, bool fold)
    {
        var network = Make(name, fold);
        var x = Images(network, 1, seed: 7);
        // First on a network of its own, whose buffers no one-thread pass has filled: a range that left part of a
        // layer's output unwritten would show here, not pass on the values the one-thread pass left there.
        var first = Forward(Make(name, fold), x, 1, threads: 2);
        var one = Forward(network, x, 1, threads: 1);
        AssertInformative(one, name);
        AssertSameBits(one, first, $"{name}, 2 threads on a fresh network");
        AssertSameBits(one, Forward(network, x, 1, threads: 2), $"{name}, 2 threads");
        AssertSameBits(one, Forward(network, x, 1, threads: 3), $"{name}, 3 threads");
        AssertSameBits(one, Forward(network, x, 1, threads: 2), $"{name}, 2 threads again");
    }

    [Theory]
    [MemberData(nameof(Networks))]
    public void ABatchSmallerThanTheThreadsGivesTheBitsOfOneThread(string name, bool fold)
    {
        var network = Make(name, fold);
        var x = Images(network, 2, seed: 8);
        var one = Forward(network, x, 2, threads: 1);
        AssertSameBits(one, Forward(network, x, 2, threads: 3), $"{name}, 2 images on 3 threads");
        AssertSameBits(one, Forward(network, x, 2, threads: 2), $"{name}, 2 images on 2 threads (one each)");
        // Each image alone, split, gives its row of the batch.
        for (int b = 0; b < 2; b++)
        {
            var single = Forward(network, x.AsSpan(b * network.InputLength, network.InputLength).ToArray(), 1, threads: 3);
            AssertSameBits(one.AsSpan(b * network.OutputLength, network.OutputLength).ToArray(), single, $"{name}, image {b} alone on 3 threads");
        }
    }

    [Fact]
    public void SplittingIsOffByDefaultBelow20MillionMultiplyAddsAndOneImageThenRunsOnOneWorkspace()
    {
        Assert.True(new SplitImageNet(seed: 3).SplitImages); // 34 million multiply-adds per image
        var network = new SplitOddNet(seed: 3); // 13 million
        Assert.False(network.SplitImages);
        ScrambleState(network, 5);
        var x = Images(network, 1, seed: 7);
        var one = Forward(network, x, 1, threads: 1);
        AssertSameBits(one, Forward(network, x, 1, threads: 2), "not split, 2 threads");
    }

    [Fact]
    public void PredictOnTwoThreadsPicksTheClassOfOneThread()
    {
        var network = Make(nameof(SplitImageNet), fold: true);
        for (int seed = 0; seed < 5; seed++)
        {
            var x = Images(network, 1, seed);
            network.Threads = 1;
            int expected = network.Predict(x);
            network.Threads = 2;
            Assert.Equal(expected, network.Predict(x));
        }
    }

    [Fact]
    public void TrainingModeForwardOnTwoThreadsGivesTheBitsOfOneThread()
    {
        // Training mode (BatchNorm on the batch's statistics) is not split: one image on two threads gives one thread's bits.
        var network = Make(nameof(SplitImageNet), fold: true);
        network.Training = true;
        var x = Images(network, 1, seed: 9);
        var state = network.State.ToArray();
        var one = Forward(network, x, 1, threads: 1);
        state.CopyTo(network.State);
        AssertSameBits(one, Forward(network, x, 1, threads: 2), "training mode, 2 threads");
    }

    [Fact]
    public void ASplitPassAllocatesNothingOnceWarm()
    {
        var network = Make(nameof(SplitImageNet), fold: true);
        network.Threads = 2;
        var x1 = Images(network, 1, seed: 1);
        var y1 = new float[network.OutputLength];
        network.Forward(x1, y1, 1);
        network.Predict(x1);
        long forward = Steady(() => { for (int i = 0; i < 3; i++) network.Forward(x1, y1, 1); });
        long predict = Steady(() => network.Predict(x1));
        Assert.Equal((0L, 0L), (forward, predict));
    }

    [Theory]
    [InlineData(nameof(SplitElementwiseNet))] // split layers without weights
    [InlineData(nameof(SplitBandsNet))] // bands of rows: a thread's own copies of a band's outputs are made by its first band, then reused
    public void ASplitPassOfLayersWithoutWeightsOrOfBandsAllocatesNothingOnceWarm(string name)
    {
        var network = Make(name, fold: true);
        network.Threads = 2;
        var x = Images(network, 1, seed: 1);
        var y = new float[network.OutputLength];
        network.Forward(x, y, 1);
        Assert.Equal(0L, Steady(() => { for (int i = 0; i < 3; i++) network.Forward(x, y, 1); }));
    }

    [Fact]
    public void FusedSumsAndSplitLayersGiveTheBitsOfTheUnfusedPassOnOneTwoAndThreeThreads()
    {
        // Nothing folded and no Winograd layer: inference differs from the unfused pass (every layer writes its own
        // output) only by the fused ReLUs, the max pools that keep no winners (on one thread and split by channels) and
        // the split layers, which must not change a bit.
        var network = Make(nameof(SplitElementwiseNet), fold: false);
        var x = Images(network, 1, seed: 11);
        var unfused = network.Activations(x);
        foreach (int threads in new[] { 1, 2, 3 })
            AssertSameBits(unfused[^1], Forward(network, x, 1, threads), $"{threads} thread(s) against the unfused pass");

        // The unfused pass still gives each layer its own output: the sum, then the ReLU of the sum.
        var names = network.Layers.Select(l => l.Name).ToList();
        int sum = names.IndexOf("block_out") - 1, inner = names.IndexOf("block_out") - 2;
        Assert.Equal("Add", network.Layers[sum].Kind);
        var expectedSum = new float[unfused[sum].Length];
        System.Numerics.Tensors.TensorPrimitives.Add(unfused[inner], unfused[names.IndexOf("block_in")], expectedSum);
        AssertSameBits(expectedSum, unfused[sum], "the sum's own output");
        Assert.Contains(unfused[sum], v => v < 0f);
        AssertSameBits(unfused[sum].Select(v => v < 0f ? 0f : v).ToArray(), unfused[sum + 1], "the ReLU of the sum");
    }

    private static long Steady(Action action)
    {
        long least = long.MaxValue;
        for (int i = 0; i < 3; i++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            action();
            least = Math.Min(least, GC.GetAllocatedBytesForCurrentThread() - before);
        }
        return least;
    }
}
