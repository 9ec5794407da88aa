namespace CnnGen.Generator.Tests.Infrastructure;

/// <summary>Checks of an evaluation pass whose layers the generator fused: the same bits on any thread count, split or
/// not, and agreement with the unfolded, unfused layers.</summary>
internal static class FusedPasses
{
    /// <summary>
    /// The folded pass over <paramref name="batch"/> images gives the same bits on 1, 2 and 3 threads, split or not, and
    /// agrees with the unfolded, unfused layers (<c>Activations</c>) within float rounding of the folds (1e-5 of the
    /// outputs' scale); the output of <paramref name="saturated"/> must reach both of ReLU6's bounds. Returns nothing: it
    /// asserts.
    /// </summary>
    public static void AssertGivesTheBitsOnAnyThreads(INetwork network, float[] inputs, int batch, string saturated)
    {
        var one = Forward(network, inputs, batch, threads: 1, split: false);
        for (int b = 0; b < batch; b++)
        {
            var image = inputs.AsSpan(b * network.InputLength, network.InputLength).ToArray();
            foreach (int threads in new[] { 2, 3 })
                Assert.Equal(one.AsSpan(b * network.OutputLength, network.OutputLength).ToArray(), Forward(network, image, 1, threads, split: true));
        }
        Assert.Equal(one, Forward(network, inputs, batch, threads: 2, split: false));

        int layer = network.Layers.ToList().FindIndex(l => l.Name == saturated);
        for (int b = 0; b < batch; b++)
        {
            var unfused = network.Activations(inputs.AsSpan(b * network.InputLength, network.InputLength));
            Assert.Contains(6f, unfused[layer]);
            Assert.Contains(0f, unfused[layer]);
            var logits = unfused[^1];
            double scale = logits.Max(v => Math.Abs(v));
            Assert.True(scale > 0.01, "the outputs are not a fair test");
            for (int i = 0; i < logits.Length; i++)
                Assert.True(Math.Abs(one[b * network.OutputLength + i] - logits[i]) <= 1e-5 * scale,
                    $"image {b}, output {i}: fused {one[b * network.OutputLength + i]}, unfused {logits[i]}");
        }
    }

    private static float[] Forward(INetwork network, float[] inputs, int batch, int threads, bool split)
    {
        network.Threads = threads;
        network.SplitImages = split;
        var outputs = new float[batch * network.OutputLength];
        network.Forward(inputs, outputs, batch);
        return outputs;
    }
}
