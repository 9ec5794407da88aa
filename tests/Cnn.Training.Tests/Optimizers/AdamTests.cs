using CnnGen.Optimizers;
using Xunit;
using static CnnGen.Training.Tests.Optimizers.SgdTests;

namespace CnnGen.Training.Tests.Optimizers;

/// <summary>Adam against values worked out from torch.optim.Adam's update rule:
/// p = [1, -2], g1 = [0.5, 0.25], g2 = [-0.1, 0.3], lr = 0.1, betas (0.9, 0.999), eps 1e-8.</summary>
public class AdamTests
{
    private static readonly float[] G1 = [0.5f, 0.25f];
    private static readonly float[] G2 = [-0.1f, 0.3f];

    [Fact]
    public void FirstStepMovesByTheLearningRateThanksToBiasCorrection()
    {
        // m = 0.1*g1 = [0.05, 0.025]; v = 0.001*g1^2 = [2.5e-4, 6.25e-5]
        // step size = 0.1 / (1 - 0.9) = 1; denom = sqrt(v)/sqrt(1 - 0.999) + eps = [0.5, 0.25]
        // p = [1 - 0.1, -2 - 0.1]
        float[] p = [1f, -2f];
        var adam = new Adam(0.1f);
        adam.Step(p, G1);
        Close([0.05f, 0.025f], adam.State[Adam.FirstMomentSlot]);
        Close([2.5e-4f, 6.25e-5f], adam.State[Adam.SecondMomentSlot], 1e-9f);
        Close([0.9f, -2.1f], p);
    }

    [Fact]
    public void SecondStep()
    {
        // m = [0.035, 0.0525]; v = [2.5975e-4, 1.524375e-4]; bc1 = 0.19, bc2 = 0.001999
        // p = [0.848897396, -2.2000613]
        float[] p = [1f, -2f];
        var adam = new Adam(0.1f);
        adam.Step(p, G1);
        adam.Step(p, G2);
        Close([0.035f, 0.0525f], adam.State[Adam.FirstMomentSlot]);
        Close([2.5975e-4f, 1.524375e-4f], adam.State[Adam.SecondMomentSlot], 1e-9f);
        Close([0.848897396f, -2.2000613f], p);
        Assert.Equal(2, adam.StepCount);
    }

    [Fact]
    public void WeightDecayIsAddedToTheGradient()
    {
        // g += 0.1*p each step; after two steps p = [0.834244168, -2.19758537]
        float[] p = [1f, -2f];
        var adam = new Adam(0.1f, weightDecay: 0.1f);
        adam.Step(p, G1);
        adam.Step(p, G2);
        Close([0.834244168f, -2.19758537f], p);
    }

    [Fact]
    public void AdamWDecaysTheParametersDirectly()
    {
        // p *= 1 - 0.1*0.1 before each Adam update; after two steps p = [0.829997396, -2.1592613]
        float[] p = [1f, -2f];
        var adamw = new AdamW(0.1f, weightDecay: 0.1f);
        adamw.Step(p, G1);
        adamw.Step(p, G2);
        Close([0.829997396f, -2.1592613f], p);
        Assert.Equal("AdamW", adamw.Name);
    }

    [Fact]
    public void LoadedStateContinuesExactlyLikeTheOriginal()
    {
        float[] p = [1f, -2f, 3f];
        float[] g = [0.3f, -0.7f, 0.1f];
        var original = new Adam(0.01f);
        original.Step(p, g);
        original.Step(p, g);
        var resumed = new Adam(0.01f);
        resumed.LoadState(original.State, original.StepCount);
        float[] q = (float[])p.Clone();
        original.Step(p, g);
        resumed.Step(q, g);
        Assert.Equal(p, q);
    }

    [Fact]
    public void LoadStateNeedsBothMoments()
    {
        var adam = new Adam();
        var e = Assert.Throws<ArgumentException>(() => adam.LoadState(new Dictionary<string, float[]> { [Adam.FirstMomentSlot] = [1f] }, 1));
        Assert.Contains("exp_avg_sq", e.Message);
        Assert.Empty(adam.State);
    }
}
