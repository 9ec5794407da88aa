namespace CnnGen.Tests.Gradients;

/// <summary>
/// Compares a network's analytic parameter gradients with finite differences of its float loss.
/// Each probed parameter gets a backward, a forward and a central difference at a step h. A kink (ReLU or LeakyReLU
/// at zero, ELU with alpha != 1, a max-pool winner changing) inside [x - h, x + h] makes the difference quotients
/// meaningless, so a probe that fails at h is retried at a smaller step (where kinks are rarer but float rounding
/// of the loss weighs more, so the absolute tolerance grows as the step shrinks). If it still fails but the two
/// one-sided slopes disagree (a kink) and the analytic value lies between them, it counts as a kink, not a failure:
/// at a kink the true derivative is one of the one-sided slopes, or between them when several kinks are near.
/// </summary>
public sealed class FiniteDifference
{
    /// <summary>Steps tried in order.</summary>
    public double[] Steps { get; init; } = [2e-3, 2.5e-4];
    /// <summary>Absolute tolerance times the step: the loss's rounding noise divided by the step.</summary>
    public double NoiseTimesStep { get; init; } = 2e-6;
    public double RelativeTolerance { get; init; } = 2e-2;

    public sealed record Probe(int Index, double Step, double Analytic, double Central, double Forward, double Backward, double Allowed)
    {
        public double Error => Math.Abs(Central - Analytic);
        public bool Agrees => Error <= Allowed;
        /// <summary>The one-sided slopes disagree and the analytic value lies between them.</summary>
        public bool BracketedByKink => Math.Abs(Forward - Backward) > Allowed
            && Analytic >= Math.Min(Forward, Backward) - Allowed && Analytic <= Math.Max(Forward, Backward) + Allowed;
    }

    /// <param name="WorstErrorRatio">Largest |central - analytic| over its allowance among the probes that agreed.</param>
    public sealed record Result(int Probed, IReadOnlyList<Probe> Kinks, IReadOnlyList<Probe> Failed, double WorstErrorRatio)
    {
        public double KinkFraction => Probed == 0 ? 0 : (double)Kinks.Count / Probed;
    }

    /// <summary>Probes up to <paramref name="maxProbes"/> parameters evenly spread over the buffer. <paramref name="analytic"/>
    /// is the gradient to judge, copied before: every probe calls <see cref="INetwork.ComputeGradients"/>.</summary>
    public Result Check(INetwork net, float[] inputs, int[] labels, int batch, ReadOnlySpan<float> analytic, int maxProbes = 400)
    {
        var kinks = new List<Probe>();
        var failed = new List<Probe>();
        double worst = 0, f0 = net.ComputeGradients(inputs, labels, batch);
        int probed = 0, stride = Math.Max(1, net.ParameterCount / maxProbes);
        for (int i = 0; i < net.ParameterCount; i += stride, probed++)
        {
            Probe? probe = null;
            foreach (double step in Steps)
            {
                probe = Measure(net, inputs, labels, batch, i, step, analytic[i], f0);
                if (probe.Agrees) break;
            }
            if (probe!.Agrees) worst = Math.Max(worst, probe.Error / probe.Allowed);
            else if (probe.BracketedByKink) kinks.Add(probe);
            else failed.Add(probe);
        }
        return new Result(probed, kinks, failed, worst);
    }

    private Probe Measure(INetwork net, float[] inputs, int[] labels, int batch, int i, double step, double analytic, double f0)
    {
        var parameters = net.Parameters;
        float saved = parameters[i];
        float up = saved + (float)step, down = saved - (float)step;
        double hUp = (double)up - saved, hDown = saved - (double)down; // the steps taken after rounding to float
        parameters[i] = up;
        double fUp = net.ComputeGradients(inputs, labels, batch);
        net.Parameters[i] = down;
        double fDown = net.ComputeGradients(inputs, labels, batch);
        net.Parameters[i] = saved;
        double central = (fUp - fDown) / (hUp + hDown);
        double allowed = NoiseTimesStep / step + RelativeTolerance * Math.Max(Math.Abs(central), Math.Abs(analytic));
        return new Probe(i, step, analytic, central, (fUp - f0) / hUp, (f0 - fDown) / hDown, allowed);
    }
}
