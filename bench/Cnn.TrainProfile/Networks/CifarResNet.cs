namespace CnnGen.TrainProfile.Networks;

/// <summary>
/// A ResNet for 3x32x32 images: a 3x3 convolution to 16 channels with BatchNorm and ReLU, two residual blocks of 16,
/// a 2x2 max pool, a convolution to 32, two blocks of 32, a pool, a convolution to 64, two blocks of 64, global
/// average pooling (AvgPool over the remaining 8x8) and one dense layer to 10 logits. A block is conv-BN-ReLU-conv-BN,
/// then the identity shortcut from the block's input ([Add]) and ReLU.
/// </summary>
[Input(3, 32, 32)]
[Conv(3, 16, Padding = 1)] [BatchNorm] [ReLU]
[Conv(3, 16, Padding = 1)] [BatchNorm] [ReLU] [Conv(3, 16, Padding = 1)] [BatchNorm] [Add("relu1")] [ReLU]
[Conv(3, 16, Padding = 1)] [BatchNorm] [ReLU] [Conv(3, 16, Padding = 1)] [BatchNorm] [Add("relu3")] [ReLU]
[MaxPool(2)]
[Conv(3, 32, Padding = 1)] [BatchNorm] [ReLU]
[Conv(3, 32, Padding = 1)] [BatchNorm] [ReLU] [Conv(3, 32, Padding = 1)] [BatchNorm] [Add("relu6")] [ReLU]
[Conv(3, 32, Padding = 1)] [BatchNorm] [ReLU] [Conv(3, 32, Padding = 1)] [BatchNorm] [Add("relu8")] [ReLU]
[MaxPool(2)]
[Conv(3, 64, Padding = 1)] [BatchNorm] [ReLU]
[Conv(3, 64, Padding = 1)] [BatchNorm] [ReLU] [Conv(3, 64, Padding = 1)] [BatchNorm] [Add("relu11")] [ReLU]
[Conv(3, 64, Padding = 1)] [BatchNorm] [ReLU] [Conv(3, 64, Padding = 1)] [BatchNorm] [Add("relu13")] [ReLU]
[AvgPool(8)]
[Dense(10)]
public partial class CifarResNet { }
