using System.Numerics.Tensors;
using CnnGen.Optimizers;
using Xunit;

namespace CnnGen.Training.Tests.Optimizers;

/// <summary>The one-pass SGD step against the same rule applied a pass per operation (weight decay, the buffer's decay,
/// its sum, Nesterov's look-ahead, the update), bit for bit, over three steps on a length with a scalar tail.</summary>
public class SgdOnePassTests
{
    internal const int Length = 1003; // 125 vectors of 8 and a scalar tail of 3

    public static TheoryData<float, float, float, bool> Rules => new()
    {
        { 0f, 0f, 0f, false },
        { 0f, 0f, 1e-3f, false },
        { 0.9f, 0f, 0f, false },
        { 0.9f, 0.3f, 0f, false },
        { 0.8f, 0.1f, 5e-4f, false },
        { 0.9f, 0f, 1e-3f, true },
        { 0.95f, 0f, 0f, true },
    };

    [Theory]
    [MemberData(nameof(Rules))]
    public void SameBitsAsAPassPerOperation(float momentum, float dampening, float weightDecay, bool nesterov)
    {
        var random = new Random(5);
        var parameters = Values(random, 2f);
        var expected = (float[])parameters.Clone();
        var sgd = new Sgd(0.05f, momentum, dampening, weightDecay, nesterov);
        float[]? buffer = null;
        for (int step = 0; step < 3; step++)
        {
            var gradients = Values(random, 0.5f);
            sgd.Step(parameters, gradients);
            buffer = PassPerOperation(expected, gradients, buffer, 0.05f, momentum, dampening, weightDecay, nesterov);
            Assert.Equal(Bits(expected), Bits(parameters));
            if (momentum != 0f) Assert.Equal(Bits(buffer!), Bits(sgd.State[Sgd.MomentumSlot]));
            else Assert.Empty(sgd.State);
        }
        Assert.NotEqual(Bits(Values(new Random(5), 2f)), Bits(parameters)); // the steps moved the parameters
    }

    /// <summary>torch.optim.SGD's rule, one array operation at a time: what <see cref="Sgd"/> computed before its step
    /// became one pass.</summary>
    private static float[]? PassPerOperation(float[] p, float[] g, float[]? buffer, float lr, float momentum, float dampening, float weightDecay, bool nesterov)
    {
        float[] d = (float[])g.Clone();
        if (weightDecay != 0f) TensorPrimitives.MultiplyAdd(p, weightDecay, g, d);
        if (momentum != 0f)
        {
            if (buffer is null) buffer = (float[])d.Clone();
            else
            {
                TensorPrimitives.Multiply(buffer, momentum, buffer);
                TensorPrimitives.MultiplyAdd(d, 1f - dampening, buffer, buffer);
            }
            if (nesterov) TensorPrimitives.MultiplyAdd(buffer, momentum, d, d);
            else buffer.CopyTo(d, 0);
        }
        TensorPrimitives.MultiplyAdd(d, -lr, p, p);
        return buffer;
    }

    /// <summary><see cref="Length"/> values uniform in [-scale, scale).</summary>
    internal static float[] Values(Random random, float scale)
    {
        var values = new float[Length];
        for (int i = 0; i < values.Length; i++) values[i] = (float)(random.NextDouble() * 2 - 1) * scale;
        return values;
    }

    internal static int[] Bits(float[] values) => values.Select(BitConverter.SingleToInt32Bits).ToArray();
}
