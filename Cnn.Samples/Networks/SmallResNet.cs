namespace CnnGen.Samples.Networks;

/// <summary>
/// A small ResNet for 28x28 grey images, built the way He et al. build their CIFAR ResNets: a 3x3 stem, then three
/// stages of two basic blocks at 16, 32 and 64 channels on 28x28, 14x14 and 7x7 maps, global average pooling and one
/// dense layer. A basic block is two 3x3 convolutions without bias, each followed by BatchNorm, whose input is added back
/// before the last ReLU. The first block of stages 2 and 3 halves the map with a stride-2 convolution, so its shortcut
/// is a projection: a stride-2 1x1 convolution with BatchNorm (no pooling between stages). The 1x1 stride-2 shortcut
/// leaves the last row and column of a 28x28 or 14x14 map unread (CNN0011, silenced for this project).
/// </summary>
[Input(1, 28, 28)]
[Conv(3, 16, Padding = 1, Bias = false, Name = "stem.conv")] [BatchNorm(Name = "stem.bn")] [ReLU(Name = "stem.relu")]
[Conv(3, 16, Padding = 1, Bias = false, Name = "stage1.0.conv1")] [BatchNorm(Name = "stage1.0.bn1")] [ReLU(Name = "stage1.0.relu")]
[Conv(3, 16, Padding = 1, Bias = false, Name = "stage1.0.conv2")] [BatchNorm(Name = "stage1.0.bn2")]
[Add("stem.relu", Name = "stage1.0.add")] [ReLU(Name = "stage1.0.out")]
[Conv(3, 16, Padding = 1, Bias = false, Name = "stage1.1.conv1")] [BatchNorm(Name = "stage1.1.bn1")] [ReLU(Name = "stage1.1.relu")]
[Conv(3, 16, Padding = 1, Bias = false, Name = "stage1.1.conv2")] [BatchNorm(Name = "stage1.1.bn2")]
[Add("stage1.0.out", Name = "stage1.1.add")] [ReLU(Name = "stage1.1.out")]
[Conv(3, 32, Stride = 2, Padding = 1, Bias = false, Name = "stage2.0.conv1")] [BatchNorm(Name = "stage2.0.bn1")] [ReLU(Name = "stage2.0.relu")]
[Conv(3, 32, Padding = 1, Bias = false, Name = "stage2.0.conv2")] [BatchNorm(Name = "stage2.0.bn2")]
[Conv(1, 32, Stride = 2, Bias = false, From = "stage1.1.out", Name = "stage2.0.shortcut.0")] [BatchNorm(Name = "stage2.0.shortcut.1")]
[Add("stage2.0.bn2", Name = "stage2.0.add")] [ReLU(Name = "stage2.0.out")]
[Conv(3, 32, Padding = 1, Bias = false, Name = "stage2.1.conv1")] [BatchNorm(Name = "stage2.1.bn1")] [ReLU(Name = "stage2.1.relu")]
[Conv(3, 32, Padding = 1, Bias = false, Name = "stage2.1.conv2")] [BatchNorm(Name = "stage2.1.bn2")]
[Add("stage2.0.out", Name = "stage2.1.add")] [ReLU(Name = "stage2.1.out")]
[Conv(3, 64, Stride = 2, Padding = 1, Bias = false, Name = "stage3.0.conv1")] [BatchNorm(Name = "stage3.0.bn1")] [ReLU(Name = "stage3.0.relu")]
[Conv(3, 64, Padding = 1, Bias = false, Name = "stage3.0.conv2")] [BatchNorm(Name = "stage3.0.bn2")]
[Conv(1, 64, Stride = 2, Bias = false, From = "stage2.1.out", Name = "stage3.0.shortcut.0")] [BatchNorm(Name = "stage3.0.shortcut.1")]
[Add("stage3.0.bn2", Name = "stage3.0.add")] [ReLU(Name = "stage3.0.out")]
[Conv(3, 64, Padding = 1, Bias = false, Name = "stage3.1.conv1")] [BatchNorm(Name = "stage3.1.bn1")] [ReLU(Name = "stage3.1.relu")]
[Conv(3, 64, Padding = 1, Bias = false, Name = "stage3.1.conv2")] [BatchNorm(Name = "stage3.1.bn2")]
[Add("stage3.0.out", Name = "stage3.1.add")] [ReLU(Name = "stage3.1.out")]
[GlobalAvgPool(Name = "pool")] [Dense(10, Name = "fc")] [Softmax(Name = "softmax")]
public partial class SmallResNet { }
