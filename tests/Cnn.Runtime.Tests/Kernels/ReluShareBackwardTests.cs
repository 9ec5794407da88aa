using System.Numerics.Tensors;
using CnnGen.Kernels;
using Xunit;

namespace CnnGen.Tests.Kernels;

/// <summary>
/// <see cref="Activations.ReluBackwardAddingShare"/> against the two passes it replaces, bit for bit: the shortcut's share
/// added to the ReLU's output gradient (<c>TensorPrimitives.Add(dy, share, dy)</c>), then the ReLU's backward in place.
/// Rows shorter and longer than a vector, outputs that are zero, negative zero or NaN, gradients and shares that are NaN
/// (both at once: which payload wins follows the operand order), infinities that cancel.
/// </summary>
public class ReluShareBackwardTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(67)]
    [InlineData(1024)]
    public void IsTheShareAddedThenTheRelusBackward(int n)
    {
        var random = new Random(n);
        float[] Values(double zeros) => Enumerable.Range(0, n).Select(_ => random.NextDouble() < zeros ? 0f : (float)(random.NextDouble() * 4 - 1)).ToArray();
        var y = Values(0.4).Select(v => Math.Max(v, 0f)).ToArray(); // a ReLU's output: zero about half the time
        var dy = Values(0);
        var share = Values(0);
        y[0] = n > 1 ? -0f : 1f;
        if (n > 3)
        {
            y[1] = float.NaN;
            y[2] = y[3] = 1f;
            dy[2] = BitConverter.Int32BitsToSingle(unchecked((int)0xFFC00001)); // two NaNs with different payloads
            share[2] = BitConverter.Int32BitsToSingle(unchecked((int)0x7FC00002));
            dy[3] = float.PositiveInfinity;
            share[3] = float.NegativeInfinity;
        }

        var twoPasses = (float[])dy.Clone();
        TensorPrimitives.Add(twoPasses, share, twoPasses);
        Activations.ReluBackward(y, twoPasses, twoPasses);

        var fused = (float[])dy.Clone();
        Activations.ReluBackwardAddingShare(y, fused, share);

        Assert.Equal(twoPasses.Select(BitConverter.SingleToInt32Bits), fused.Select(BitConverter.SingleToInt32Bits));
        Assert.Contains(fused, v => v != 0f && float.IsFinite(v));
        if (n > 3)
        {
            Assert.Equal(0f, fused[1]); // a NaN output masks its gradient off
            Assert.True(float.IsNaN(fused[2]) && float.IsNaN(fused[3]));
        }
    }

    [Fact]
    public void ShortSpansAreRefusedByName()
    {
        var e = Assert.Throws<ArgumentException>(() => Activations.ReluBackwardAddingShare(new float[8], new float[8], new float[7]));
        Assert.Contains("ReluBackwardAddingShare: spans differ in length", e.Message);
    }
}
