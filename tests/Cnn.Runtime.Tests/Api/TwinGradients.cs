using Xunit;

namespace CnnGen.Tests.Api;

/// <summary>
/// The check of a fused network against its twin (the same layers with an exact copy, a <c>Dropout(0)</c>, beside each
/// fused one, so that there every layer runs its own passes): two training steps from the same parameters, the first
/// with a NaN input, the second with a finite value in its place, each giving the same loss and every gradient with the
/// same bits.
/// </summary>
internal static class TwinGradients
{
    /// <summary><see cref="AssertSameBits"/> for two fresh networks in training or evaluation mode on
    /// <paramref name="threads"/> threads, the twin given the fused network's parameters, on a batch of
    /// <paramref name="batch"/> images made from <paramref name="inputSeed"/>; the running statistics end the same too.</summary>
    public static void AssertTwinsAgree(INetwork fused, INetwork twin, bool training, int threads, int batch, int inputSeed, int nanAt, float replacement)
    {
        fused.Training = twin.Training = training;
        fused.Threads = twin.Threads = threads;
        fused.Parameters.CopyTo(twin.Parameters);
        var (inputs, labels) = CnnGen.Tests.Gradients.GradientCheckTests.Batch(fused, batch, inputSeed);
        AssertSameBits(fused, twin, inputs, labels, batch, nanAt, replacement);
        Assert.Equal(twin.State.ToArray(), fused.State.ToArray());
    }

    public static void AssertSameBits(INetwork fused, INetwork twin, float[] inputs, int[] labels, int batch, int nanAt, float replacement)
    {
        inputs[nanAt] = float.NaN;
        for (int step = 0; step < 2; step++)
        {
            float lossFused = fused.ComputeGradients(inputs, labels, batch), lossTwin = twin.ComputeGradients(inputs, labels, batch);
            Assert.Equal(BitConverter.SingleToInt32Bits(lossTwin), BitConverter.SingleToInt32Bits(lossFused));
            var a = fused.Gradients.ToArray();
            var b = twin.Gradients.ToArray();
            Assert.Equal(b.Length, a.Length);
            for (int i = 0; i < a.Length; i++)
                Assert.True(BitConverter.SingleToInt32Bits(a[i]) == BitConverter.SingleToInt32Bits(b[i]),
                    $"step {step}: gradient {i} is {a[i]:R}, the twin's {b[i]:R}");
            if (step == 1) Assert.Contains(a, v => v != 0 && float.IsFinite(v));
            inputs[nanAt] = replacement; // the second step without the NaN, so that the gradients are finite
        }
    }
}
