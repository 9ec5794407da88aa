using System.Numerics.Tensors;
using CnnGen.Optimizers;
using Xunit;
using static CnnGen.Training.Tests.Optimizers.SgdOnePassTests;

namespace CnnGen.Training.Tests.Optimizers;

/// <summary>The one-pass Adam and AdamW steps against the same rule applied a pass per operation, bit for bit, over
/// three steps on a length with a scalar tail.</summary>
public class AdamOnePassTests
{
    private const float Rate = 2e-3f;

    public static TheoryData<bool, float> Rules => new()
    {
        { false, 0f },
        { false, 1e-2f },
        { true, 0f },
        { true, 1e-2f },
    };

    [Theory]
    [MemberData(nameof(Rules))]
    public void SameBitsAsAPassPerOperation(bool decoupled, float weightDecay)
    {
        var random = new Random(7);
        var parameters = Values(random, 2f);
        var expected = (float[])parameters.Clone();
        Adam adam = decoupled ? new AdamW(Rate, weightDecay: weightDecay) : new Adam(Rate, weightDecay: weightDecay);
        var m = new float[Length];
        var v = new float[Length];
        for (int step = 1; step <= 3; step++)
        {
            var gradients = Values(random, 0.5f);
            adam.Step(parameters, gradients);
            PassPerOperation(expected, gradients, m, v, step, adam.Beta1, adam.Beta2, adam.Epsilon, weightDecay, decoupled);
            Assert.Equal(Bits(expected), Bits(parameters));
            Assert.Equal(Bits(m), Bits(adam.State[Adam.FirstMomentSlot]));
            Assert.Equal(Bits(v), Bits(adam.State[Adam.SecondMomentSlot]));
        }
        Assert.NotEqual(Bits(Values(new Random(7), 2f)), Bits(parameters)); // the steps moved the parameters
    }

    /// <summary>torch.optim.Adam's rule, one array operation at a time: what <see cref="Adam"/> computed before its step
    /// became one pass.</summary>
    private static void PassPerOperation(float[] p, float[] gradients, float[] m, float[] v, long step, double beta1, double beta2,
        float epsilon, float weightDecay, bool decoupled)
    {
        float[] g = gradients;
        if (weightDecay != 0f)
        {
            if (decoupled) TensorPrimitives.Multiply(p, 1f - Rate * weightDecay, p);
            else
            {
                g = new float[p.Length];
                TensorPrimitives.MultiplyAdd(p, weightDecay, gradients, g);
            }
        }
        var work = new float[p.Length];
        TensorPrimitives.Multiply(m, (float)beta1, m);
        TensorPrimitives.MultiplyAdd(g, (float)(1 - beta1), m, m);
        TensorPrimitives.Multiply(g, (float)(1 - beta2), work);
        TensorPrimitives.Multiply(v, (float)beta2, v);
        TensorPrimitives.MultiplyAdd(work, g, v, v);
        float stepSize = (float)(Rate / (1.0 - Math.Pow(beta1, step)));
        float biasCorrection2Sqrt = (float)Math.Sqrt(1.0 - Math.Pow(beta2, step));
        TensorPrimitives.Sqrt(v, work);
        TensorPrimitives.Divide(work, biasCorrection2Sqrt, work);
        TensorPrimitives.Add(work, epsilon, work);
        TensorPrimitives.Divide(m, work, work);
        TensorPrimitives.MultiplyAdd(work, -stepSize, p, p);
    }
}
