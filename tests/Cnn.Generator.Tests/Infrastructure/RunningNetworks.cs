namespace CnnGen.Generator.Tests.Infrastructure;

/// <summary>Helpers for tests that run generated networks: parameters away from their initial values, inputs, and the
/// check of the analytic gradients against central differences of the loss.</summary>
internal static class RunningNetworks
{
    /// <summary>Running statistics and BatchNorm parameters away from their initial values, biases away from zero.</summary>
    public static void Perturb(INetwork network, int seed)
    {
        var random = new Random(seed);
        var state = network.State;
        foreach (var t in network.StateTensors)
            for (int i = t.Offset; i < t.Offset + t.Length; i++)
                state[i] = t.Name.EndsWith(".running_var", StringComparison.Ordinal) ? 0.5f + random.NextSingle()
                    : t.Name.EndsWith(".running_mean", StringComparison.Ordinal) ? random.NextSingle() - 0.5f : state[i];
        foreach (var t in network.Tensors.Where(t => t.Name.EndsWith(".bias", StringComparison.Ordinal) || t.Name.StartsWith("bn", StringComparison.Ordinal)))
            foreach (ref float v in network.Parameter(t.Name))
                v += (random.NextSingle() - 0.5f) * 0.2f;
    }

    /// <summary>A batch of inputs in [-1, 1), the same on every run.</summary>
    public static float[] Inputs(INetwork network, int batch, int seed)
    {
        var random = new Random(seed);
        var inputs = new float[batch * network.InputLength];
        for (int i = 0; i < inputs.Length; i++) inputs[i] = random.NextSingle() * 2 - 1;
        return inputs;
    }

    /// <summary>
    /// Perturbs the network, then checks every parameter's analytic gradient (one worker, and two giving the same) against
    /// the central difference of the mean cross-entropy; frozen parameters must get exactly zero. For networks with smooth
    /// activations only, so that central differences are accurate.
    /// </summary>
    public static void AssertGradientsMatchFiniteDifferences(INetwork network, bool training)
    {
        Perturb(network, 2);
        network.Training = training;
        const int batch = 3;
        var inputs = Inputs(network, batch, 8);
        var labels = new[] { 0, 2, 1 };
        var frozen = network.Tensors.Where(t => network.Layers.Any(l => t.Name.StartsWith(l.Name + ".", StringComparison.Ordinal) && network.IsFrozen(l.Name)))
            .SelectMany(t => Enumerable.Range(t.Offset, t.Length)).ToHashSet();

        network.ComputeGradients(inputs, labels, batch);
        float[] analytic = network.Gradients.ToArray();
        network.Threads = 2;
        network.ComputeGradients(inputs, labels, batch);
        float[] twoWorkers = network.Gradients.ToArray();
        network.Threads = 1;
        for (int i = 0; i < analytic.Length; i++)
            Assert.True(Math.Abs(analytic[i] - twoWorkers[i]) <= 1e-5f * (1 + Math.Abs(analytic[i])), $"parameter {i}: one worker {analytic[i]}, two {twoWorkers[i]}");

        int checkedCount = 0;
        for (int i = 0; i < analytic.Length; i++)
        {
            if (frozen.Contains(i))
            {
                Assert.Equal(0f, analytic[i]);
                continue;
            }
            double central = CentralDifference(network, inputs, labels, i);
            Assert.True(Math.Abs(central - analytic[i]) <= 1e-2 * Math.Abs(central) + 3e-4,
                $"parameter {i} ({network.Tensors.Single(t => i >= t.Offset && i < t.Offset + t.Length).Name}): analytic {analytic[i]}, central difference {central}");
            checkedCount++;
        }
        Assert.True(checkedCount > 0);
    }

    /// <summary>The central difference, with step 1e-3, of the batch's mean cross-entropy (from <c>Forward</c>'s
    /// probabilities) with respect to parameter <paramref name="index"/>; leaves the parameter as it was.</summary>
    public static double CentralDifference(INetwork network, float[] inputs, int[] labels, int index)
    {
        int batch = labels.Length;
        var outputs = new float[batch * network.OutputLength];
        double Loss()
        {
            network.Forward(inputs, outputs, batch);
            double sum = 0;
            for (int b = 0; b < batch; b++) sum -= Math.Log(outputs[b * network.OutputLength + labels[b]]);
            return sum / batch;
        }
        const float h = 1e-3f;
        var parameters = network.Parameters;
        float saved = parameters[index];
        parameters[index] = saved + h;
        double plus = Loss();
        network.Parameters[index] = saved - h;
        double minus = Loss();
        network.Parameters[index] = saved;
        return (plus - minus) / (2 * h);
    }
}
