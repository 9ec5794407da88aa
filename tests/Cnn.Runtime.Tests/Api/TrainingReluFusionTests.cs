using CnnGen.Tests.Gradients;
using Xunit;

namespace CnnGen.Tests.Api;

// A convolution on the direct training kernel and one on Winograd's, each followed by a ReLU and a max pool (2x2, then
// an overlapping 3x3): in a gradient pass each convolution applies its ReLU as it stores, and each pool's backward applies
// the ReLU's mask as it routes the gradient. The twin puts a Dropout(0) (an exact copy) on both sides of each ReLU, so
// there every layer runs its own passes.
[Input(3, 16, 16)]
[Conv(3, 16, Padding = 1)] [ReLU] [MaxPool(2)]
[Conv(3, 32, Padding = 1)] [ReLU] [MaxPool(3, Stride = 2, Padding = 1)]
[Dense(5)] [Softmax]
public partial class ConvReluPoolNet { }

[Input(3, 16, 16)]
[Conv(3, 16, Padding = 1)] [Dropout(0f)] [ReLU] [Dropout(0f)] [MaxPool(2)]
[Conv(3, 32, Padding = 1)] [Dropout(0f)] [ReLU] [Dropout(0f)] [MaxPool(3, Stride = 2, Padding = 1)]
[Dense(5)] [Softmax]
public partial class ConvReluPoolTwin { }

/// <summary>
/// Training with a convolution's ReLU applied as it stores and the ReLU's backward done by the max pool after it gives
/// the bits of every layer run on its own: loss and every gradient, on one and two threads, with a NaN input; and
/// <c>Activations</c> still returns each convolution's own output.
/// </summary>
public class TrainingReluFusionTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void GradientsAreTheBitsOfEveryLayerOnItsOwn(int threads)
    {
        var fused = new ConvReluPoolNet(seed: 4) { Threads = threads };
        var twin = new ConvReluPoolTwin(seed: 4) { Threads = threads };
        fused.Parameters.CopyTo(twin.Parameters);
        // Images a worker's micro-batch holds in both networks: the gradients are then summed in the same order.
        int batch = 2 * threads;
        Assert.True(TrainingMicroBatch(typeof(ConvReluPoolNet)) >= 2 && TrainingMicroBatch(typeof(ConvReluPoolTwin)) >= 2);
        var (inputs, labels) = GradientCheckTests.Batch(fused, batch, seed: 6);
        TwinGradients.AssertSameBits(fused, twin, inputs, labels, batch, nanAt: 40, replacement: 0.5f);
    }

    /// <summary>Images per micro-batch of a gradient pass: its own constant, or the inference one it shares.</summary>
    private static int TrainingMicroBatch(Type network) =>
        (int)(network.GetField("TrainingMicroBatch") ?? network.GetField("MicroBatch")!).GetRawConstantValue()!;

    [Fact]
    public void ActivationsStillReturnTheConvolutionsOwnOutputs()
    {
        var fused = new ConvReluPoolNet(seed: 5);
        var twin = new ConvReluPoolTwin(seed: 5);
        fused.Parameters.CopyTo(twin.Parameters);
        var (inputs, _) = GradientCheckTests.Batch(fused, 1, seed: 2);
        var ours = fused.Activations(inputs);
        var theirs = twin.Activations(inputs);
        foreach (string name in new[] { "conv1", "relu1", "pool1", "conv2", "relu2", "pool2" })
        {
            int i = ConvReluPoolNet.Layers.ToList().FindIndex(l => l.Name == name), j = ConvReluPoolTwin.Layers.ToList().FindIndex(l => l.Name == name);
            Assert.Equal(theirs[j], ours[i]);
        }
        Assert.Contains(ours[ConvReluPoolNet.Layers.ToList().FindIndex(l => l.Name == "conv1")], v => v < 0f); // before its ReLU
    }
}
