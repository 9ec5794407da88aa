namespace CnnGen.Samples.Tests.Networks;

/// <summary>
/// The ResNet18 sample's body on 3x64x64 images with a 10-class head: <c>torchvision.models.resnet18(num_classes=10)</c>,
/// for comparing training-mode gradients at a cost a test can afford. Module names as torchvision's.
/// </summary>
[Input(3, 64, 64)]
[Conv(7, 64, Stride = 2, Padding = 3, Bias = false, Name = "conv1")] [BatchNorm(Name = "bn1")] [ReLU(Name = "relu")]
[MaxPool(3, Stride = 2, Padding = 1, Name = "maxpool")]
[Conv(3, 64, Stride = 1, Padding = 1, Bias = false, Name = "layer1.0.conv1")] [BatchNorm(Name = "layer1.0.bn1")] [ReLU(Name = "layer1.0.relu")]
[Conv(3, 64, Padding = 1, Bias = false, Name = "layer1.0.conv2")] [BatchNorm(Name = "layer1.0.bn2")]
[Add("maxpool", Name = "layer1.0.add")] [ReLU(Name = "layer1.0.out")]
[Conv(3, 64, Stride = 1, Padding = 1, Bias = false, Name = "layer1.1.conv1")] [BatchNorm(Name = "layer1.1.bn1")] [ReLU(Name = "layer1.1.relu")]
[Conv(3, 64, Padding = 1, Bias = false, Name = "layer1.1.conv2")] [BatchNorm(Name = "layer1.1.bn2")]
[Add("layer1.0.out", Name = "layer1.1.add")] [ReLU(Name = "layer1.1.out")]
[Conv(3, 128, Stride = 2, Padding = 1, Bias = false, Name = "layer2.0.conv1")] [BatchNorm(Name = "layer2.0.bn1")] [ReLU(Name = "layer2.0.relu")]
[Conv(3, 128, Padding = 1, Bias = false, Name = "layer2.0.conv2")] [BatchNorm(Name = "layer2.0.bn2")]
[Conv(1, 128, Stride = 2, Bias = false, From = "layer1.1.out", Name = "layer2.0.downsample.0")] [BatchNorm(Name = "layer2.0.downsample.1")]
[Add("layer2.0.bn2", Name = "layer2.0.add")] [ReLU(Name = "layer2.0.out")]
[Conv(3, 128, Stride = 1, Padding = 1, Bias = false, Name = "layer2.1.conv1")] [BatchNorm(Name = "layer2.1.bn1")] [ReLU(Name = "layer2.1.relu")]
[Conv(3, 128, Padding = 1, Bias = false, Name = "layer2.1.conv2")] [BatchNorm(Name = "layer2.1.bn2")]
[Add("layer2.0.out", Name = "layer2.1.add")] [ReLU(Name = "layer2.1.out")]
[Conv(3, 256, Stride = 2, Padding = 1, Bias = false, Name = "layer3.0.conv1")] [BatchNorm(Name = "layer3.0.bn1")] [ReLU(Name = "layer3.0.relu")]
[Conv(3, 256, Padding = 1, Bias = false, Name = "layer3.0.conv2")] [BatchNorm(Name = "layer3.0.bn2")]
[Conv(1, 256, Stride = 2, Bias = false, From = "layer2.1.out", Name = "layer3.0.downsample.0")] [BatchNorm(Name = "layer3.0.downsample.1")]
[Add("layer3.0.bn2", Name = "layer3.0.add")] [ReLU(Name = "layer3.0.out")]
[Conv(3, 256, Stride = 1, Padding = 1, Bias = false, Name = "layer3.1.conv1")] [BatchNorm(Name = "layer3.1.bn1")] [ReLU(Name = "layer3.1.relu")]
[Conv(3, 256, Padding = 1, Bias = false, Name = "layer3.1.conv2")] [BatchNorm(Name = "layer3.1.bn2")]
[Add("layer3.0.out", Name = "layer3.1.add")] [ReLU(Name = "layer3.1.out")]
[Conv(3, 512, Stride = 2, Padding = 1, Bias = false, Name = "layer4.0.conv1")] [BatchNorm(Name = "layer4.0.bn1")] [ReLU(Name = "layer4.0.relu")]
[Conv(3, 512, Padding = 1, Bias = false, Name = "layer4.0.conv2")] [BatchNorm(Name = "layer4.0.bn2")]
[Conv(1, 512, Stride = 2, Bias = false, From = "layer3.1.out", Name = "layer4.0.downsample.0")] [BatchNorm(Name = "layer4.0.downsample.1")]
[Add("layer4.0.bn2", Name = "layer4.0.add")] [ReLU(Name = "layer4.0.out")]
[Conv(3, 512, Stride = 1, Padding = 1, Bias = false, Name = "layer4.1.conv1")] [BatchNorm(Name = "layer4.1.bn1")] [ReLU(Name = "layer4.1.relu")]
[Conv(3, 512, Padding = 1, Bias = false, Name = "layer4.1.conv2")] [BatchNorm(Name = "layer4.1.bn2")]
[Add("layer4.0.out", Name = "layer4.1.add")] [ReLU(Name = "layer4.1.out")]
[GlobalAvgPool(Name = "avgpool")] [Dense(10, Name = "fc")]
public partial class ResNet18Small { }
