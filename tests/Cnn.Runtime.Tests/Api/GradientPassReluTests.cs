using CnnGen.Kernels;
using CnnGen.Tests.Gradients;
using Xunit;

namespace CnnGen.Tests.Api;

// A BatchNorm and a shortcut's sum each followed by a ReLU that alone reads it: in a gradient pass they apply the ReLU as
// they store. The twin puts a Dropout(0) in between (an exact copy: every value kept and multiplied by 1), so each
// ReLU runs as its own layer there.
[Input(2, 9, 8)]
[Conv(3, 4, Padding = 1)] [BatchNorm] [ReLU]
[Conv(3, 4, Padding = 1)] [BatchNorm] [Add("relu1")] [ReLU]
[Dense(6)] [BatchNorm] [ReLU] [Dense(3)] [Softmax]
public partial class ReluAfterNormNet { }

[Input(2, 9, 8)]
[Conv(3, 4, Padding = 1)] [BatchNorm] [Dropout(0f)] [ReLU]
[Conv(3, 4, Padding = 1)] [BatchNorm] [Add("relu1")] [Dropout(0f)] [ReLU]
[Dense(6)] [BatchNorm] [Dropout(0f)] [ReLU] [Dense(3)] [Softmax]
public partial class ReluAfterNormTwin { }

/// <summary>
/// The ReLU applied by the BatchNorm or sum before it in a gradient pass (and its backward taking the mask from its own
/// output, or done by the BatchNorm's backward: relu1, read by a convolution and a sum, and relu3, after a dense layer)
/// gives the bits of the ReLU run as its own layer: losses and every parameter's gradient, in training and evaluation
/// mode, on one and two threads; and <c>Activations</c>, which keeps every layer's output, still gets each.
/// </summary>
public class GradientPassReluTests
{
    [Theory]
    [InlineData(true, 1)]
    [InlineData(true, 2)]
    [InlineData(false, 1)]
    [InlineData(false, 2)]
    public void GradientsAreTheBitsOfTheReluAsItsOwnLayer(bool training, int threads) =>
        // Some inputs the BatchNorms turn negative, zero and NaN: the masks must agree on those too.
        TwinGradients.AssertTwinsAgree(new ReluAfterNormNet(seed: 5), new ReluAfterNormTwin(seed: 5), training, threads, batch: 7, inputSeed: 9, nanAt: 3, replacement: 0.25f);

    [Fact]
    public void ActivationsStillReturnTheBatchNormsAndTheSumsOwnOutputs()
    {
        var fused = new ReluAfterNormNet(seed: 6);
        var twin = new ReluAfterNormTwin(seed: 6);
        fused.Parameters.CopyTo(twin.Parameters);
        var (inputs, _) = GradientCheckTests.Batch(fused, 1, seed: 4);
        var ours = fused.Activations(inputs);
        var theirs = twin.Activations(inputs);
        foreach (string name in new[] { "bn1", "relu1", "bn2", "add1", "relu2", "bn3", "relu3" })
        {
            int i = ReluAfterNormNet.Layers.ToList().FindIndex(l => l.Name == name), j = ReluAfterNormTwin.Layers.ToList().FindIndex(l => l.Name == name);
            Assert.Equal(theirs[j], ours[i]);
        }
        Assert.Contains(ours[ReluAfterNormNet.Layers.ToList().FindIndex(l => l.Name == "bn1")], v => v < 0f); // the BatchNorm's own output, before its ReLU
    }

    [Fact]
    public void BatchNormApplyWithReluIsApplyThenRelu()
    {
        var random = new Random(3);
        foreach (var (batch, channels, spatial) in new[] { (2, 3, 37), (3, 5, 1), (1, 4, 8), (2, 2, 7) })
        {
            int n = batch * channels * spatial;
            var x = new float[n];
            for (int i = 0; i < n; i++) x[i] = (float)(random.NextDouble() * 4 - 2);
            x[0] = float.NaN;
            x[1] = -0f;
            var scale = new float[channels];
            var shift = new float[channels];
            for (int c = 0; c < channels; c++) { scale[c] = (float)(random.NextDouble() - 0.3); shift[c] = (float)(random.NextDouble() - 0.5); }
            shift[0] = 0f; scale[0] = 1f; // x = -0 stays -0, which the ReLU keeps
            var twoPasses = new float[n];
            BatchNorm.Apply(x, twoPasses, batch, channels, spatial, scale, shift);
            Activations.Relu(twoPasses, twoPasses);
            var fused = new float[n];
            BatchNorm.Apply(x, fused, batch, channels, spatial, scale, shift, FusedActivation.Relu);
            for (int i = 0; i < n; i++)
                Assert.True(BitConverter.SingleToInt32Bits(twoPasses[i]) == BitConverter.SingleToInt32Bits(fused[i]),
                    $"{batch}x{channels}x{spatial}: value {i} is {fused[i]:R}, apply then ReLU gives {twoPasses[i]:R}");
        }
    }
}
