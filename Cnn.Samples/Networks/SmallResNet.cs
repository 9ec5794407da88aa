namespace CnnGen.Samples.Networks;

/// <summary>
/// A small ResNet for 28x28 grey images (seed 002's named networks): two residual blocks, each two 3x3 convolutions
/// with BatchNorm whose output is added to the block's input by an identity shortcut (<c>[Add]</c>) before the ReLU.
/// </summary>
[Input(1, 28, 28)]
[Conv(3, 16, Padding = 1)] [BatchNorm] [ReLU]
[Conv(3, 16, Padding = 1)] [BatchNorm] [ReLU] [Conv(3, 16, Padding = 1)] [BatchNorm] [Add("relu1")] [ReLU]
[MaxPool(2)]
[Conv(3, 32, Padding = 1)] [BatchNorm] [ReLU]
[Conv(3, 32, Padding = 1)] [BatchNorm] [ReLU] [Conv(3, 32, Padding = 1)] [BatchNorm] [Add("relu4")] [ReLU]
[MaxPool(2)]
[Dense(10)] [Softmax]
public partial class SmallResNet { }
