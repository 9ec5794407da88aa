using CnnGen.Tests.Gradients;
using CnnGen.Tests.Networks;
using Xunit;
using Xunit.Abstractions;

namespace CnnGen.Tests.Api;

/// <summary>BatchNorm's modes, running statistics, folding, threads and bad batches.</summary>
public class BatchNormTests(ITestOutputHelper output)
{
    private static (float[] Inputs, int[] Labels) Batch(INetwork net, int batch, int seed) => GradientCheckTests.Batch(net, batch, seed);

    private static float[] Run(INetwork net, float[] inputs, int batch)
    {
        var outputs = new float[net.OutputLength * batch];
        net.Forward(inputs, outputs, batch);
        return outputs;
    }

    private static double LargestRelativeDifference(float[] a, float[] b) =>
        a.Zip(b, (x, y) => Math.Abs(x - y) / Math.Max(1.0, Math.Abs(y))).Max();

    [Fact]
    public void StateTensorsArePyTorchsBuffersStartingAtZeroMeanUnitVariance()
    {
        INetwork net = new BatchNormNet(seed: 1);
        Assert.Equal(new[] { "bn1.running_mean", "bn1.running_var", "bn1.num_batches_tracked", "bn2.running_mean", "bn2.running_var", "bn2.num_batches_tracked" },
            net.StateTensors.Select(t => t.Name));
        Assert.Equal(new[] { "[4]", "[4]", "[]", "[5]", "[5]", "[]" }, net.StateTensors.Select(t => t.ShapeText));
        Assert.Equal(4 + 4 + 1 + 5 + 5 + 1, net.State.Length);
        Assert.Equal(new float[] { 0, 0, 0, 0, 1, 1, 1, 1, 0 }, net.State.Slice(0, 9).ToArray());
        // Trainable: bnN.weight (ones) and bnN.bias (zeros); the state is not among the parameters.
        Assert.Equal(new[] { "conv1.weight", "conv1.bias", "bn1.weight", "bn1.bias", "dense1.weight", "dense1.bias", "bn2.weight", "bn2.bias", "dense2.weight", "dense2.bias" },
            net.Tensors.Select(t => t.Name));
        Assert.All(net.Parameter("bn1.weight").ToArray(), w => Assert.Equal(1f, w));
        Assert.All(net.Parameter("bn2.bias").ToArray(), b => Assert.Equal(0f, b));
    }

    [Fact]
    public void TrainingModeUpdatesRunningStatisticsAsPyTorchDoes()
    {
        // dense1's output is the BatchNorm's input: compute it here and check mean, unbiased variance and the count.
        var net = new BatchNormNet(seed: 2) { Training = true };
        const int batch = 6;
        var (inputs, labels) = Batch(net, batch, 3);
        var before = net.State.ToArray();
        net.ComputeGradients(inputs, labels, batch);

        // bn1 follows conv1: recompute conv1's output per channel with a plain loop.
        var weight = net.Parameter("conv1.weight").ToArray();
        var bias = net.Parameter("conv1.bias").ToArray();
        var sum = new double[4];
        var squares = new double[4];
        for (int b = 0; b < batch; b++)
            for (int f = 0; f < 4; f++)
                for (int y = 0; y < 7; y++)
                    for (int x = 0; x < 6; x++)
                    {
                        double v = bias[f];
                        for (int c = 0; c < 2; c++)
                            for (int i = 0; i < 3; i++)
                                for (int j = 0; j < 3; j++)
                                {
                                    int iy = y + i - 1, ix = x + j - 1;
                                    if (iy < 0 || iy >= 7 || ix < 0 || ix >= 6) continue;
                                    v += weight[((f * 2 + c) * 3 + i) * 3 + j] * inputs[((b * 2 + c) * 7 + iy) * 6 + ix];
                                }
                        sum[f] += v;
                        squares[f] += v * v;
                    }
        int m = batch * 7 * 6;
        for (int f = 0; f < 4; f++)
        {
            double mean = sum[f] / m, unbiased = (squares[f] / m - mean * mean) * m / (m - 1);
            Assert.Equal(0.9 * before[f] + 0.1 * mean, net.State[f], 1e-5);
            Assert.Equal(0.9 * before[4 + f] + 0.1 * unbiased, net.State[4 + f], 1e-5);
        }
        Assert.Equal(1f, net.State[8]); // bn1.num_batches_tracked
        Assert.Equal(1f, net.State[8 + 11]); // bn2.num_batches_tracked

        // Evaluation mode leaves the statistics alone, in Forward and in ComputeGradients.
        var after = net.State.ToArray();
        net.Training = false;
        Run(net, inputs, batch);
        net.ComputeGradients(inputs, labels, batch);
        Assert.Equal(after, net.State.ToArray());
    }

    [Fact]
    public void TrainingModeNormalisesByTheBatchSoEachImageDependsOnTheOthers()
    {
        INetwork net = new BatchNormNet(seed: 4) { Training = true };
        var (inputs, _) = Batch(net, 4, 5);
        var all = Run(net, inputs, 4);
        var first = Run(net, inputs.AsSpan(0, 2 * net.InputLength).ToArray(), 2);
        Assert.True(LargestRelativeDifference(first, all.AsSpan(0, 2 * net.OutputLength).ToArray()) > 1e-3);

        // In evaluation mode an image's output does not depend on its batch.
        net.Training = false;
        all = Run(net, inputs, 4);
        first = Run(net, inputs.AsSpan(0, 2 * net.InputLength).ToArray(), 2);
        Assert.Equal(all.AsSpan(0, 2 * net.OutputLength).ToArray(), first);
    }

    [Theory]
    [InlineData("BatchNormNet")]
    [InlineData("BatchNormPoolNet")]
    public void FoldingIntoTheLayerBeforeGivesTheUnfoldedResultToFloatRounding(string name)
    {
        foreach (int seed in new[] { 1, 2, 3 })
        {
            INetwork net = name == "BatchNormNet" ? new BatchNormNet(seed) : new BatchNormPoolNet(seed);
            GradientCheckTests.WithRunningStatistics(net, seed);
            var (inputs, _) = Batch(net, 9, seed);
            var folded = Run(net, inputs, 9);
            SetFold(net, false);
            var unfolded = Run(net, inputs, 9);
            double largest = LargestRelativeDifference(folded, unfolded);
            output.WriteLine($"{name} seed {seed}: largest |folded - unfolded| / max(1, |unfolded|) = {largest:E2}");
            Assert.True(largest < 2e-6, $"{name} seed {seed}: folded and unfolded outputs differ by {largest:E2}");
            // The statistics matter: the same weights with PyTorch's initial statistics give other outputs.
            INetwork initial = name == "BatchNormNet" ? new BatchNormNet(seed) : new BatchNormPoolNet(seed);
            Assert.True(LargestRelativeDifference(folded, Run(initial, inputs, 9)) > 1e-3);
        }
    }

    private static void SetFold(INetwork net, bool fold)
    {
        switch (net)
        {
            case BatchNormNet n: n.FoldBatchNorm = fold; break;
            case BatchNormPoolNet n: n.FoldBatchNorm = fold; break;
        }
    }

    [Fact]
    public void FoldingFollowsChangedParametersAndStatistics()
    {
        var net = new BatchNormNet(seed: 6);
        var (inputs, _) = Batch(net, 3, 7);
        var first = Run(net, inputs, 3);
        net.State[2] = 0.75f; // bn1.running_mean[2]
        net.Parameter("bn1.weight")[1] = 2.5f;
        var second = Run(net, inputs, 3);
        net.FoldBatchNorm = false;
        var unfolded = Run(net, inputs, 3);
        Assert.NotEqual(first, second);
        Assert.True(LargestRelativeDifference(second, unfolded) < 2e-6);
    }

    [Fact]
    public void TwoThreadsShareTheBatchStatistics()
    {
        const int batch = 37;
        var reference = new BatchNormPoolNet(seed: 8) { Training = true };
        var (inputs, labels) = Batch(reference, batch, 9);
        float loss1 = reference.ComputeGradients(inputs, labels, batch);

        float[] gradients = [], state = [];
        float loss2 = 0;
        for (int run = 0; run < 2; run++)
        {
            var net = new BatchNormPoolNet(seed: 8) { Training = true, Threads = 2 };
            float loss = net.ComputeGradients(inputs, labels, batch);
            if (run == 1)
            {
                // The same thread count gives the same bits on every run.
                Assert.Equal(loss2, loss);
                Assert.Equal(gradients, net.Gradients.ToArray());
                Assert.Equal(state, net.State.ToArray());
            }
            loss2 = loss;
            gradients = net.Gradients.ToArray();
            state = net.State.ToArray();
        }
        output.WriteLine($"loss 1 thread {loss1:R}, 2 threads {loss2:R}");
        Assert.Equal(loss1, loss2, 1e-5f);
        Assert.True(LargestRelativeDifference(gradients, reference.Gradients.ToArray()) < 1e-5);
        Assert.True(LargestRelativeDifference(state, reference.State.ToArray()) < 1e-6);

        // Training-mode Forward on two threads normalises by the whole batch too.
        var one = new BatchNormPoolNet(seed: 8) { Training = true };
        var two = new BatchNormPoolNet(seed: 8) { Training = true, Threads = 2 };
        Assert.True(LargestRelativeDifference(Run(two, inputs, batch), Run(one, inputs, batch)) < 1e-5);
    }

    [Fact]
    public void ABatchOfOneCannotBeNormalisedPerUnitInTrainingMode()
    {
        var net = new BatchNormNet(seed: 1) { Training = true };
        var (inputs, labels) = Batch(net, 1, 2);
        var state = net.State.ToArray();
        var e = Assert.Throws<ArgumentException>(() => net.ComputeGradients(inputs, labels, 1));
        Assert.Contains("bn2 normalises each of its 5 units over the batch in training mode", e.Message);
        Assert.Contains("the batch has 1 image", e.Message);
        Assert.Throws<ArgumentException>(() => Run(net, inputs, 1));
        Assert.Equal(state, net.State.ToArray());

        // Per channel over a 2x2 map a single image has 4 values: that works; so does evaluation mode.
        var pooled = new BatchNormPoolNet(seed: 1) { Training = true };
        Run(pooled, Batch(pooled, 1, 2).Inputs, 1);
        net.Training = false;
        Run(net, inputs, 1);
    }

    [Fact]
    public void FrozenBatchNormGetsNoGradientButStillTracksStatistics()
    {
        var concrete = new BatchNormNet(seed: 3) { Training = true };
        INetwork net = concrete;
        net.Freeze("bn1");
        Assert.True(net.IsFrozen("bn1"));
        var (inputs, labels) = Batch(net, 5, 4);
        net.ComputeGradients(inputs, labels, 5);
        var bn1 = net.Tensors.Single(t => t.Name == "bn1.weight");
        Assert.All(net.Gradients.Slice(bn1.Offset, 2 * bn1.Length).ToArray(), g => Assert.Equal(0f, g));
        var conv1 = net.Tensors.Single(t => t.Name == "conv1.weight");
        Assert.Contains(net.Gradients.Slice(conv1.Offset, conv1.Length).ToArray(), g => g != 0f);
        Assert.Equal(1f, net.State[8]);
    }
}
