using CnnGen.Losses;
using Xunit;

namespace CnnGen.Tests.Api;

/// <summary>Seed 004's entropy, cross-entropy and KL divergence, against values PyTorch 1.13 printed in float64.</summary>
public class InformationTheoryTests
{
    private static readonly float[] P = [0.1f, 0.2f, 0.3f, 0.4f];
    private static readonly float[] Q = [0.25f, 0.25f, 0.4f, 0.1f];

    [Fact]
    public void ValuesAgreeWithPyTorch()
    {
        // -(p*p.log()).sum(), -(p*q.log()).sum(), F.kl_div(q.log(), p, reduction="sum") and with p, q swapped.
        Assert.Equal(1.2798542258336676, InformationTheory.Entropy(P), 6);
        Assert.Equal(1.611809565095832, InformationTheory.CrossEntropy(P, Q), 6);
        Assert.Equal(0.33195533926216436, InformationTheory.KlDivergence(P, Q), 6);
        Assert.Equal(0.2613019636658146, InformationTheory.KlDivergence(Q, P), 6); // not symmetric
    }

    [Fact]
    public void CrossEntropyIsEntropyPlusKlAndNeverBelowTheEntropy()
    {
        Assert.Equal(InformationTheory.Entropy(P) + InformationTheory.KlDivergence(P, Q), InformationTheory.CrossEntropy(P, Q), 12);
        Assert.True(InformationTheory.CrossEntropy(P, Q) > InformationTheory.Entropy(P));
        Assert.Equal(0.0, InformationTheory.KlDivergence(P, P), 12);
        Assert.Equal(Math.Log(5), InformationTheory.Entropy([0.2f, 0.2f, 0.2f, 0.2f, 0.2f]), 6); // the most uncertain
        Assert.Equal(0.0, InformationTheory.Entropy([0f, 1f, 0f]));                           // certain
    }

    [Fact]
    public void WithAOneHotLabelCrossEntropyIsTheTrainingLoss()
    {
        // F.cross_entropy([[1.5, -0.3, 0.2, 2.0]], [2]) = 2.4270545947061812; the label's entropy is 0, so KL = CE.
        float[] logits = [1.5f, -0.3f, 0.2f, 2.0f];
        var q = new float[4];
        global::CnnGen.Kernels.SoftmaxCrossEntropy.Softmax(logits, q);
        float[] label = [0f, 0f, 1f, 0f];
        Assert.Equal(2.4270545947061812, InformationTheory.CrossEntropy(label, q), 5);
        Assert.Equal(InformationTheory.CrossEntropy(label, q), InformationTheory.KlDivergence(label, q), 12);
        var gradient = new float[4];
        double loss = global::CnnGen.Kernels.SoftmaxCrossEntropy.LossAndGradient(logits, 2, gradient, 1f);
        Assert.Equal(2.4270545947061812, loss, 5);
    }

    [Fact]
    public void BadDistributionsAreNamed()
    {
        Assert.Contains("q sums to 0.9", Assert.Throws<ArgumentException>(() => InformationTheory.KlDivergence(P, [0.3f, 0.3f, 0.2f, 0.1f])).Message);
        Assert.Contains("p has 4 outcomes but q has 3", Assert.Throws<ArgumentException>(() => InformationTheory.CrossEntropy(P, [0.5f, 0.25f, 0.25f])).Message);
        Assert.Contains("p[1] is -0.2", Assert.Throws<ArgumentException>(() => InformationTheory.Entropy([0.6f, -0.2f, 0.6f])).Message);
        Assert.True(double.IsPositiveInfinity(InformationTheory.CrossEntropy([0.5f, 0.5f], [1f, 0f])));
    }
}
