using CnnGen.Tests.Gradients;
using Xunit;

namespace CnnGen.Tests.Api;

// Winograd convolutions each followed by a 2x2 max pool: after a ReLU at 32x32 (tiles split over threads), 16x16 and 8x8
// (128 filters: split by filters), and without a ReLU at 4x4. In inference each convolution stores the pool's maxima as
// it stores its tiles. The twin puts a Dropout(0) before each pool (an exact copy), so there every pool runs itself.
[Input(3, 32, 32)]
[Conv(3, 32, Padding = 1)] [ReLU]
[Conv(3, 32, Padding = 1)] [ReLU] [MaxPool(2)]
[Conv(3, 64, Padding = 1)] [ReLU] [MaxPool(2)]
[Conv(3, 128, Padding = 1)] [ReLU] [MaxPool(2)]
[Conv(3, 16, Padding = 1)] [MaxPool(2)]
[Dense(10)]
public partial class PooledWinogradNet { }

[Input(3, 32, 32)]
[Conv(3, 32, Padding = 1)] [ReLU]
[Conv(3, 32, Padding = 1)] [ReLU] [Dropout(0f)] [MaxPool(2)]
[Conv(3, 64, Padding = 1)] [ReLU] [Dropout(0f)] [MaxPool(2)]
[Conv(3, 128, Padding = 1)] [ReLU] [Dropout(0f)] [MaxPool(2)]
[Conv(3, 16, Padding = 1)] [Dropout(0f)] [MaxPool(2)]
[Dense(10)]
public partial class PooledWinogradTwin { }

/// <summary>
/// Pools taken as the Winograd tiles before them are stored give the bits of every layer run on its own: one image and a
/// batch, on one thread and on two (one image split over them), and an image with a NaN input.
/// </summary>
public class PooledWinogradTests
{
    [Theory]
    [InlineData(1, 1)]
    [InlineData(1, 2)]
    [InlineData(4, 1)]
    [InlineData(4, 2)]
    public void InferenceIsTheBitsOfThePoolsRunOnTheirOwn(int batch, int threads)
    {
        var fused = new PooledWinogradNet(seed: 3) { Threads = threads, SplitImages = true };
        var twin = new PooledWinogradTwin(seed: 3) { Threads = threads, SplitImages = true };
        fused.Parameters.CopyTo(twin.Parameters);
        var (inputs, _) = GradientCheckTests.Batch(fused, batch, seed: 8);
        // A NaN in the last image of a batch: its windows must keep the pool's rule (the last NaN wins).
        if (batch > 1) inputs[(batch - 1) * PooledWinogradNet.InputLength + 5 * 32 + 7] = float.NaN;
        var a = new float[batch * PooledWinogradNet.OutputLength];
        var b = new float[batch * PooledWinogradTwin.OutputLength];
        for (int pass = 0; pass < 2; pass++)
        {
            fused.Forward(inputs, a, batch);
            twin.Forward(inputs, b, batch);
            for (int i = 0; i < a.Length; i++)
                Assert.True(BitConverter.SingleToInt32Bits(b[i]) == BitConverter.SingleToInt32Bits(a[i]),
                    $"output {i}: {a[i]:R} where the pools on their own give {b[i]:R}");
        }
        Assert.Equal(batch > 1, a.Any(float.IsNaN));
        Assert.Contains(a, v => v != 0 && !float.IsNaN(v));
    }
}
