using CnnGen.Tests.Networks;
using Xunit;

namespace CnnGen.Tests.Api;

/// <summary>Dropout's masks: the rate, the 1 / (1 - rate) scaling, repeatability, independence from threads, evaluation mode.</summary>
public class DropoutTests
{
    [Fact]
    public void MaskDropsAboutTheRateAndScalesTheRest()
    {
        var mask = new float[64 * 1000];
        global::CnnGen.Kernels.Dropout.Mask(mask, seed: 3, step: 9, firstImage: 0, images: 64, units: 1000, rate: 0.3f);
        int dropped = mask.Count(v => v == 0f);
        Assert.InRange(dropped / (double)mask.Length, 0.29, 0.31);
        Assert.All(mask.Where(v => v != 0f), v => Assert.Equal(1f / 0.7f, v));

        var again = new float[mask.Length];
        global::CnnGen.Kernels.Dropout.Mask(again, seed: 3, step: 9, firstImage: 0, images: 64, units: 1000, rate: 0.3f);
        Assert.Equal(mask, again);
        // Image 10's mask does not depend on where its micro-batch starts.
        var one = new float[1000];
        global::CnnGen.Kernels.Dropout.Mask(one, seed: 3, step: 9, firstImage: 10, images: 1, units: 1000, rate: 0.3f);
        Assert.Equal(mask.AsSpan(10 * 1000, 1000).ToArray(), one);
        global::CnnGen.Kernels.Dropout.Mask(again, seed: 3, step: 10, firstImage: 0, images: 64, units: 1000, rate: 0.3f);
        Assert.NotEqual(mask, again);
    }

    [Fact]
    public void EvaluationModeIsTheIdentityAndTrainingModeIsNot()
    {
        var net = new DropoutNet(seed: 4);
        var inputs = Enumerable.Range(0, 36 * 5).Select(i => MathF.Sin(i)).ToArray();
        var evaluation = new float[3 * 5];
        net.Forward(inputs, evaluation, 5);

        net.Training = true;
        net.Step = 1;
        var training = new float[3 * 5];
        net.Forward(inputs, training, 5);
        Assert.NotEqual(evaluation, training);

        net.Training = false;
        var again = new float[3 * 5];
        net.Forward(inputs, again, 5);
        Assert.Equal(evaluation, again);
    }

    [Fact]
    public void TrainingGradientsDoNotDependOnTheThreadCount()
    {
        var inputs = Enumerable.Range(0, 36 * 40).Select(i => MathF.Cos(0.3f * i)).ToArray();
        var labels = Enumerable.Range(0, 40).Select(i => i % 3).ToArray();
        float[] Gradients(int threads)
        {
            var net = new DropoutNet(seed: 5) { Training = true, Step = 77, Threads = threads };
            net.ComputeGradients(inputs, labels, 40);
            return net.Gradients.ToArray();
        }
        var one = Gradients(1);
        var two = Gradients(2);
        // Same masks; only the order in which the two workers' sums are added differs.
        for (int i = 0; i < one.Length; i++) Assert.True(Math.Abs(one[i] - two[i]) <= 1e-6f + 1e-5f * Math.Abs(one[i]), $"gradient {i}: {one[i]} vs {two[i]}");
        var other = new DropoutNet(seed: 5) { Training = true, Step = 78 };
        other.ComputeGradients(inputs, labels, 40);
        Assert.NotEqual(one, other.Gradients.ToArray());
    }
}
