using Xunit;

namespace CnnGen.Tests.Api;

// Shortcuts' sums whose main input only they read (bn2, conv3, add2: their output gradient is the sum's buffer), sums
// that do the backward of the ReLU after them in place (add1, add3, after two sums in a row) and add the one share a
// later sum's shortcut leaves that ReLU's gradient as they mask it (add1 add2's, add3 add4's), and a sum after a ReLU
// whose backward its BatchNorm does in place (relu4, which keeps its own gradient so that add4's reaches relu3
// unmasked). The twin puts a Dropout(0) (an exact copy) before each sum and between each sum and its ReLU, so that
// every sum copies its gradient and every ReLU runs its own backward there.
[Input(2, 9, 8)]
[Conv(3, 4, Padding = 1)] [BatchNorm] [ReLU]
[Conv(3, 4, Padding = 1)] [BatchNorm] [Add("relu1")] [ReLU]
[Conv(3, 4, Padding = 1)] [Add("relu2")] [Add("relu1")] [ReLU]
[Conv(3, 4, Padding = 1)] [BatchNorm] [ReLU] [Add("relu3")]
[Dense(3)] [Softmax]
public partial class SharedSumGradientNet { }

[Input(2, 9, 8)]
[Conv(3, 4, Padding = 1)] [BatchNorm] [ReLU]
[Conv(3, 4, Padding = 1)] [BatchNorm] [Dropout(0f)] [Add("relu1")] [Dropout(0f)] [ReLU]
[Conv(3, 4, Padding = 1)] [Dropout(0f)] [Add("relu2")] [Dropout(0f)] [Add("relu1")] [Dropout(0f)] [ReLU]
[Conv(3, 4, Padding = 1)] [BatchNorm] [ReLU] [Dropout(0f)] [Add("relu3")]
[Dense(3)] [Softmax]
public partial class SharedSumGradientTwin { }

/// <summary>
/// A sum's main input taking the sum's output gradient as its own, and a sum doing the backward of the ReLU after it in
/// place, give the bits of each layer running its own backward: losses and every parameter's gradient, in training and
/// evaluation mode, on one and two threads, with a NaN input first.
/// </summary>
public class SumGradientTests
{
    [Theory]
    [InlineData(true, 1)]
    [InlineData(true, 2)]
    [InlineData(false, 1)]
    [InlineData(false, 2)]
    public void GradientsAreTheBitsOfEachLayersOwnBackward(bool training, int threads) =>
        TwinGradients.AssertTwinsAgree(new SharedSumGradientNet(seed: 7), new SharedSumGradientTwin(seed: 7), training, threads, batch: 7, inputSeed: 11, nanAt: 5, replacement: 0.5f);
}
