using CnnGen.Optimizers;
using Xunit;

namespace CnnGen.Training.Tests.Optimizers;

/// <summary>SGD against values worked out by hand from torch.optim.SGD's update rule:
/// p = [1, -2], g1 = [0.5, 0.25], g2 = [-0.1, 0.3], lr = 0.1.</summary>
public class SgdTests
{
    private static readonly float[] G1 = [0.5f, 0.25f];
    private static readonly float[] G2 = [-0.1f, 0.3f];

    internal static void Close(float[] expected, float[] actual, float tolerance = 1e-6f)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance, $"[{i}]: expected {expected[i]}, got {actual[i]}");
    }

    [Fact]
    public void PlainStepIsParameterMinusRateTimesGradient()
    {
        float[] p = [1f, -2f];
        var sgd = new Sgd(0.1f);
        sgd.Step(p, G1);
        Close([0.95f, -2.025f], p);
        Assert.Empty(sgd.State);
        Assert.Equal(1, sgd.StepCount);
    }

    [Fact]
    public void MomentumBufferStartsAsTheFirstGradientEvenWithDampening()
    {
        // step 1: buf = g1 (no dampening applied), p = [0.95, -2.025]
        // step 2: buf = 0.9*[0.5, 0.25] + 0.5*[-0.1, 0.3] = [0.4, 0.375], p = [0.91, -2.0625]
        float[] p = [1f, -2f];
        var sgd = new Sgd(0.1f, momentum: 0.9f, dampening: 0.5f);
        sgd.Step(p, G1);
        Close([0.95f, -2.025f], p);
        Close([0.5f, 0.25f], sgd.State[Sgd.MomentumSlot]);
        sgd.Step(p, G2);
        Close([0.4f, 0.375f], sgd.State[Sgd.MomentumSlot]);
        Close([0.91f, -2.0625f], p);
    }

    [Fact]
    public void MomentumWithWeightDecay()
    {
        // step 1: d = g1 + 0.01*p = [0.51, 0.23] = buf, p = [0.949, -2.023]
        // step 2: d = g2 + 0.01*p = [-0.09051, 0.27977], buf = 0.9*buf + d = [0.36849, 0.48677], p = [0.912151, -2.071677]
        float[] p = [1f, -2f];
        var sgd = new Sgd(0.1f, momentum: 0.9f, weightDecay: 0.01f);
        sgd.Step(p, G1);
        Close([0.949f, -2.023f], p);
        sgd.Step(p, G2);
        Close([0.36849f, 0.48677f], sgd.State[Sgd.MomentumSlot]);
        Close([0.912151f, -2.071677f], p);
    }

    [Fact]
    public void NesterovLooksAhead()
    {
        // step 1: d = [0.51, 0.23] = buf, d += 0.9*buf -> [0.969, 0.437], p = [0.9031, -2.0437]
        // step 2: d = [-0.090969, 0.279563], buf = [0.368031, 0.486563], d += 0.9*buf -> [0.2402589, 0.7174697],
        //         p = [0.87907411, -2.11544697]
        float[] p = [1f, -2f];
        var sgd = new Sgd(0.1f, momentum: 0.9f, weightDecay: 0.01f, nesterov: true);
        sgd.Step(p, G1);
        Close([0.9031f, -2.0437f], p);
        sgd.Step(p, G2);
        Close([0.368031f, 0.486563f], sgd.State[Sgd.MomentumSlot]);
        Close([0.87907411f, -2.11544697f], p);
    }

    [Fact]
    public void NesterovNeedsMomentumAndNoDampening()
    {
        Assert.Throws<ArgumentException>(() => new Sgd(0.1f, nesterov: true));
        Assert.Throws<ArgumentException>(() => new Sgd(0.1f, momentum: 0.9f, dampening: 0.1f, nesterov: true));
    }

    [Fact]
    public void LoadedStateContinuesExactlyLikeTheOriginal()
    {
        float[] p = [1f, -2f, 3f];
        float[] g = [0.3f, -0.7f, 0.1f];
        var original = new Sgd(0.05f, momentum: 0.8f, weightDecay: 1e-3f);
        original.Step(p, g);
        var resumed = new Sgd(0.05f, momentum: 0.8f, weightDecay: 1e-3f);
        resumed.LoadState(original.State, original.StepCount);
        float[] q = (float[])p.Clone();
        original.Step(p, g);
        resumed.Step(q, g);
        Assert.Equal(p, q);
        Assert.Equal(2, resumed.StepCount);
    }

    [Fact]
    public void LoadStateRejectsUnknownSlotsAndChangesNothing()
    {
        var sgd = new Sgd(0.1f, momentum: 0.9f);
        float[] p = [1f];
        sgd.Step(p, [1f]);
        var before = sgd.State[Sgd.MomentumSlot].ToArray();
        var e = Assert.Throws<ArgumentException>(() => sgd.LoadState(new Dictionary<string, float[]> { ["exp_avg"] = [5f] }, 7));
        Assert.Contains("exp_avg", e.Message);
        Assert.Equal(before, sgd.State[Sgd.MomentumSlot]);
        Assert.Equal(1, sgd.StepCount);
    }

    [Fact]
    public void StepRejectsMismatchedLengths()
    {
        var sgd = new Sgd(0.1f, momentum: 0.9f);
        Assert.Throws<ArgumentException>(() => sgd.Step(new float[2], new float[3]));
        sgd.Step(new float[2], new float[2]);
        Assert.Throws<ArgumentException>(() => sgd.Step(new float[3], new float[3]));
    }
}
