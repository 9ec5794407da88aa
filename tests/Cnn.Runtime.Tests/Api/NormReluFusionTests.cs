using CnnGen.Tests.Gradients;
using Xunit;

namespace CnnGen.Tests.Api;

// DenseNet's pre-activation layers: each BatchNorm and ReLU before a 1x1 convolution, behind a channel join, at 24x24
// (576 positions: split by rows), then at 12x12 (144 positions: split by filters) from 64 channels, whose folded weights
// are laid out with the filters in the lanes; last a transition, whose 1x1 convolution averages its input first. In
// inference each 1x1 convolution normalises and rectifies its input as it reads it (the transition's as it averages
// it). The twin puts a Dropout(0) between each ReLU and its convolution (an exact copy), so there every layer runs
// itself.
[Input(16, 24, 24)]
[Conv(3, 32, Padding = 1, Bias = false, Name = "stem")] [BatchNorm(Name = "stem_norm")] [ReLU(Name = "stem_relu")]
[BatchNorm(Name = "norm1")] [ReLU(Name = "relu1")] [Conv(1, 64, Bias = false, Name = "conv1")]
[BatchNorm(Name = "norm2")] [ReLU(Name = "relu2")] [Conv(3, 16, Padding = 1, Bias = false, Name = "conv2")]
[Concat("conv2", From = "stem_relu", Name = "cat")]
[BatchNorm(Name = "norm3")] [ReLU(Name = "relu3")] [Conv(1, 64, Name = "conv3")]
[MaxPool(2, Name = "pool")]
[BatchNorm(Name = "norm4")] [ReLU(Name = "relu4")] [Conv(1, 64, Bias = false, Name = "conv4")] [BatchNorm(Name = "norm5")] [ReLU(Name = "relu5")]
[BatchNorm(Name = "norm6")] [ReLU(Name = "relu6")] [Conv(1, 32, Name = "conv6")] [AvgPool(2, Name = "transition")]
[GlobalAvgPool] [Dense(10)]
public partial class NormReluNet { }

[Input(16, 24, 24)]
[Conv(3, 32, Padding = 1, Bias = false, Name = "stem")] [BatchNorm(Name = "stem_norm")] [ReLU(Name = "stem_relu")]
[BatchNorm(Name = "norm1")] [ReLU(Name = "relu1")] [Dropout(0f)] [Conv(1, 64, Bias = false, Name = "conv1")]
[BatchNorm(Name = "norm2")] [ReLU(Name = "relu2")] [Conv(3, 16, Padding = 1, Bias = false, Name = "conv2")]
[Concat("conv2", From = "stem_relu", Name = "cat")]
[BatchNorm(Name = "norm3")] [ReLU(Name = "relu3")] [Dropout(0f)] [Conv(1, 64, Name = "conv3")]
[MaxPool(2, Name = "pool")]
[BatchNorm(Name = "norm4")] [ReLU(Name = "relu4")] [Dropout(0f)] [Conv(1, 64, Bias = false, Name = "conv4")] [BatchNorm(Name = "norm5")] [ReLU(Name = "relu5")]
[BatchNorm(Name = "norm6")] [ReLU(Name = "relu6")] [Dropout(0f)] [Conv(1, 32, Name = "conv6")] [AvgPool(2, Name = "transition")]
[GlobalAvgPool] [Dense(10)]
public partial class NormReluTwin { }

/// <summary>
/// 1x1 convolutions that normalise and rectify their input as they read it give the bits of the BatchNorm, the ReLU
/// and the convolution run one after the other: one image and a batch, on one thread and on two (one image split over
/// them), with the BatchNorms after the convolutions folded and not, and an image with a NaN input.
/// </summary>
public class NormReluFusionTests
{
    [Theory]
    [InlineData(1, 1, true)]
    [InlineData(1, 2, true)]
    [InlineData(1, 3, true)]
    [InlineData(4, 1, true)]
    [InlineData(4, 2, true)]
    [InlineData(1, 2, false)]
    [InlineData(3, 1, false)]
    public void InferenceIsTheBitsOfTheLayersRunOnTheirOwn(int batch, int threads, bool fold)
    {
        var fused = new NormReluNet(seed: 3) { Threads = threads, SplitImages = true, FoldBatchNorm = fold };
        var twin = new NormReluTwin(seed: 3) { Threads = threads, SplitImages = true, FoldBatchNorm = fold };
        Scramble(fused);
        fused.Parameters.CopyTo(twin.Parameters);
        fused.State.CopyTo(twin.State);
        var (inputs, _) = GradientCheckTests.Batch(fused, batch, seed: 8);
        // A NaN in the last image of a batch: the ReLUs and the products must carry it as the layers on their own do.
        if (batch > 1) inputs[(batch - 1) * NormReluNet.InputLength + 5 * 24 + 7] = float.NaN;
        var a = new float[batch * NormReluNet.OutputLength];
        var b = new float[batch * NormReluTwin.OutputLength];
        for (int pass = 0; pass < 2; pass++)
        {
            fused.Forward(inputs, a, batch);
            twin.Forward(inputs, b, batch);
            for (int i = 0; i < a.Length; i++)
                Assert.True(BitConverter.SingleToInt32Bits(b[i]) == BitConverter.SingleToInt32Bits(a[i]),
                    $"output {i}: {a[i]:R} where the layers on their own give {b[i]:R}");
        }
        Assert.Equal(batch > 1, a.Any(float.IsNaN));
        Assert.True(a.Where(v => !float.IsNaN(v)).Distinct().Count() > a.Length / 3, "the outputs tell images and classes apart");
    }

    /// <summary>Running statistics and BatchNorm weights away from their defaults: means off zero, variances other than one,
    /// some negative scales, so that the ReLUs after the BatchNorms cut on both sides.</summary>
    private static void Scramble(NormReluNet network)
    {
        var random = new Random(11);
        var state = network.State;
        foreach (var tensor in NormReluNet.StateTensors)
        {
            bool mean = tensor.Name.EndsWith("running_mean", StringComparison.Ordinal);
            for (int i = tensor.Offset; i < tensor.Offset + tensor.Length; i++)
                state[i] = mean ? (float)(random.NextDouble() * 0.5 - 0.25) : (float)(0.5 + random.NextDouble());
        }
        foreach (var norm in new[] { "stem_norm", "norm1", "norm2", "norm3", "norm4", "norm5", "norm6" })
        {
            var weight = network.Parameter(norm + ".weight");
            var bias = network.Parameter(norm + ".bias");
            for (int i = 0; i < weight.Length; i++)
            {
                weight[i] = (float)(random.NextDouble() * 1.6 - 0.4);
                bias[i] = (float)(random.NextDouble() * 0.4 - 0.2);
            }
        }
    }
}
