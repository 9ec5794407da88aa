using CnnGen.Kernels;
using Xunit;

namespace CnnGen.Tests.Kernels;

/// <summary>
/// <see cref="BatchNorm.MaskAndAddGradientSums"/> against the two passes it replaces, bit for bit: the ReLU's backward over
/// the whole map (<c>dy = y &gt; 0 ? dy : 0</c>, y the ReLU's output), then <see cref="BatchNorm.AddGradientSums"/>. Rows
/// of one value (after a dense layer), shorter and longer than a vector, sums added to nonzero ones, and outputs that are
/// zero, negative zero or NaN, gradients that are NaN.
/// </summary>
public class BatchNormReluBackwardTests
{
    [Theory]
    [InlineData(3, 5, 1)]
    [InlineData(2, 3, 7)]
    [InlineData(2, 4, 67)]
    [InlineData(1, 2, 1024)]
    public void IsTheRelusBackwardThenTheGradientSums(int batch, int channels, int spatial)
    {
        var random = new Random(batch * 1000 + spatial);
        int n = batch * channels * spatial;
        float[] Values(double zeros) => Enumerable.Range(0, n).Select(_ => random.NextDouble() < zeros ? 0f : (float)(random.NextDouble() * 4 - 1)).ToArray();
        var y = Values(0.4).Select(v => Math.Max(v, 0f)).ToArray(); // a ReLU's output: zero about half the time
        var x = Values(0);
        var dy = Values(0);
        y[0] = -0f;
        y[n / 2] = float.NaN;
        dy[n - 1] = float.NaN;
        var mean = Enumerable.Range(0, channels).Select(c => 0.1f * c - 0.05f).ToArray();
        var start = Enumerable.Range(0, 2 * channels).Select(c => 0.5 * c).ToArray(); // sums already holding another micro-batch's

        var twoPasses = (float[])dy.Clone();
        Activations.ReluBackward(y, twoPasses, twoPasses);
        var expectedSums = (double[])start.Clone();
        BatchNorm.AddGradientSums(twoPasses, x, mean, batch, channels, spatial, expectedSums);

        var fused = (float[])dy.Clone();
        var sums = (double[])start.Clone();
        BatchNorm.MaskAndAddGradientSums(fused, y, x, mean, batch, channels, spatial, sums);

        Assert.Equal(twoPasses.Select(BitConverter.SingleToInt32Bits), fused.Select(BitConverter.SingleToInt32Bits));
        Assert.Equal(expectedSums.Select(BitConverter.DoubleToInt64Bits), sums.Select(BitConverter.DoubleToInt64Bits));
        Assert.Contains(fused, v => v == 0f);
        Assert.Contains(fused, v => v != 0f && float.IsFinite(v));
    }

    [Fact]
    public void ShortSpansAreRefusedByName()
    {
        var e = Assert.Throws<ArgumentException>(() =>
            BatchNorm.MaskAndAddGradientSums(new float[8], new float[7], new float[8], new float[2], 1, 2, 4, new double[4]));
        Assert.Contains("reluOutput", e.Message);
    }
}
