namespace CnnGen.Samples.Networks;

/// <summary>
/// GoogLeNet (Inception v1) exactly as torchvision 0.14 builds it without its auxiliary classifiers
/// (<c>torchvision.models.googlenet(aux_logits=False, transform_input=False)</c>, 1000 classes, 3x224x224,
/// 6,624,904 parameters), under torchvision's module names so its state_dict loads key for key. Every convolution is
/// torchvision's BasicConv2d: no bias, BatchNorm with eps 0.001, ReLU. Max pools round their output size up
/// (ceil mode). Each inception module runs four branches on the same input and concatenates them in order:
/// a 1x1 convolution; a 1x1 reduction then a 3x3; a 1x1 reduction then another 3x3 (torchvision's, where the paper
/// has a 5x5); a 3x3 max pool with stride 1 then a 1x1 projection. Ends in logits after the global average and
/// dropout 0.2.
/// </summary>
[Input(3, 224, 224)]
[Conv(7, 64, Stride = 2, Padding = 3, Bias = false, Name = "conv1.conv")] [BatchNorm(Epsilon = 1e-3f, Name = "conv1.bn")] [ReLU(Name = "conv1.relu")]
[MaxPool(3, Stride = 2, CeilMode = true, Name = "maxpool1")]
[Conv(1, 64, Bias = false, Name = "conv2.conv")] [BatchNorm(Epsilon = 1e-3f, Name = "conv2.bn")] [ReLU(Name = "conv2.relu")]
[Conv(3, 192, Padding = 1, Bias = false, Name = "conv3.conv")] [BatchNorm(Epsilon = 1e-3f, Name = "conv3.bn")] [ReLU(Name = "conv3.relu")]
[MaxPool(3, Stride = 2, CeilMode = true, Name = "maxpool2")]
// inception3a: 1x1 64; 1x1 96 then 3x3 128; 1x1 16 then 3x3 32 (torchvision's 3x3 where the paper has 5x5); 3x3 max pool then 1x1 32
[Conv(1, 64, Bias = false, From = "maxpool2", Name = "inception3a.branch1.conv")] [BatchNorm(Epsilon = 1e-3f, Name = "inception3a.branch1.bn")] [ReLU(Name = "inception3a.branch1.relu")]
[Conv(1, 96, Bias = false, From = "maxpool2", Name = "inception3a.branch2.0.conv")] [BatchNorm(Epsilon = 1e-3f, Name = "inception3a.branch2.0.bn")] [ReLU(Name = "inception3a.branch2.0.relu")]
[Conv(3, 128, Padding = 1, Bias = false, Name = "inception3a.branch2.1.conv")] [BatchNorm(Epsilon = 1e-3f, Name = "inception3a.branch2.1.bn")] [ReLU(Name = "inception3a.branch2.1.relu")]
[Conv(1, 16, Bias = false, From = "maxpool2", Name = "inception3a.branch3.0.conv")] [BatchNorm(Epsilon = 1e-3f, Name = "inception3a.branch3.0.bn")] [ReLU(Name = "inception3a.branch3.0.relu")]
[Conv(3, 32, Padding = 1, Bias = false, Name = "inception3a.branch3.1.conv")] [BatchNorm(Epsilon = 1e-3f, Name = "inception3a.branch3.1.bn")] [ReLU(Name = "inception3a.branch3.1.relu")]
[MaxPool(3, Stride = 1, Padding = 1, CeilMode = true, From = "maxpool2", Name = "inception3a.branch4.0")]
[Conv(1, 32, Bias = false, Name = "inception3a.branch4.1.conv")] [BatchNorm(Epsilon = 1e-3f, Name = "inception3a.branch4.1.bn")] [ReLU(Name = "inception3a.branch4.1.relu")]
[Concat("inception3a.branch2.1.relu", "inception3a.branch3.1.relu", "inception3a.branch4.1.relu", From = "inception3a.branch1.relu", Name = "inception3a.cat")]
// inception3b: 1x1 128; 1x1 128 then 3x3 192; 1x1 32 then 3x3 96 (torchvision's 3x3 where the paper has 5x5); 3x3 max pool then 1x1 64
[Conv(1, 128, Bias = false, From = "inception3a.cat", Name = "inception3b.branch1.conv")] [BatchNorm(Epsilon = 1e-3f, Name = "inception3b.branch1.bn")] [ReLU(Name = "inception3b.branch1.relu")]
[Conv(1, 128, Bias = false, From = "inception3a.cat", Name = "inception3b.branch2.0.conv")] [BatchNorm(Epsilon = 1e-3f, Name = "inception3b.branch2.0.bn")] [ReLU(Name = "inception3b.branch2.0.relu")]
[Conv(3, 192, Padding = 1, Bias = false, Name = "inception3b.branch2.1.conv")] [BatchNorm(Epsilon = 1e-3f, Name = "inception3b.branch2.1.bn")] [ReLU(Name = "inception3b.branch2.1.relu")]
[Conv(1, 32, Bias = false, From = "inception3a.cat", Name = "inception3b.branch3.0.conv")] [BatchNorm(Epsilon = 1e-3f, Name = "inception3b.branch3.0.bn")] [ReLU(Name = "inception3b.branch3.0.relu")]
[Conv(3, 96, Padding = 1, Bias = false, Name = "inception3b.branch3.1.conv")] [BatchNorm(Epsilon = 1e-3f, Name = "inception3b.branch3.1.bn")] [ReLU(Name = "inception3b.branch3.1.relu")]
[MaxPool(3, Stride = 1, Padding = 1, CeilMode = true, From = "inception3a.cat", Name = "inception3b.branch4.0")]
[Conv(1, 64, Bias = false, Name = "inception3b.branch4.1.conv")] [BatchNorm(Epsilon = 1e-3f, Name = "inception3b.branch4.1.bn")] [ReLU(Name = "inception3b.branch4.1.relu")]
[Concat("inception3b.branch2.1.relu", "inception3b.branch3.1.relu", "inception3b.branch4.1.relu", From = "inception3b.branch1.relu", Name = "inception3b.cat")]
[MaxPool(3, Stride = 2, CeilMode = true, Name = "maxpool3")]
// inception4a: 1x1 192; 1x1 96 then 3x3 208; 1x1 16 then 3x3 48 (torchvision's 3x3 where the paper has 5x5); 3x3 max pool then 1x1 64
[Conv(1, 192, Bias = false, From = "maxpool3", Name = "inception4a.branch1.conv")] [BatchNorm(Epsilon = 1e-3f, Name = "inception4a.branch1.bn")] [ReLU(Name = "inception4a.branch1.relu")]
[Conv(1, 96, Bias = false, From = "maxpool3", Name = "inception4a.branch2.0.conv")] [BatchNorm(Epsilon = 1e-3f, Name = "inception4a.branch2.0.bn")] [ReLU(Name = "inception4a.branch2.0.relu")]
[Conv(3, 208, Padding = 1, Bias = false, Name = "inception4a.branch2.1.conv")] [BatchNorm(Epsilon = 1e-3f, Name = "inception4a.branch2.1.bn")] [ReLU(Name = "inception4a.branch2.1.relu")]
[Conv(1, 16, Bias = false, From = "maxpool3", Name = "inception4a.branch3.0.conv")] [BatchNorm(Epsilon = 1e-3f, Name = "inception4a.branch3.0.bn")] [ReLU(Name = "inception4a.branch3.0.relu")]
[Conv(3, 48, Padding = 1, Bias = false, Name = "inception4a.branch3.1.conv")] [BatchNorm(Epsilon = 1e-3f, Name = "inception4a.branch3.1.bn")] [ReLU(Name = "inception4a.branch3.1.relu")]
[MaxPool(3, Stride = 1, Padding = 1, CeilMode = true, From = "maxpool3", Name = "inception4a.branch4.0")]
[Conv(1, 64, Bias = false, Name = "inception4a.branch4.1.conv")] [BatchNorm(Epsilon = 1e-3f, Name = "inception4a.branch4.1.bn")] [ReLU(Name = "inception4a.branch4.1.relu")]
[Concat("inception4a.branch2.1.relu", "inception4a.branch3.1.relu", "inception4a.branch4.1.relu", From = "inception4a.branch1.relu", Name = "inception4a.cat")]
// inception4b: 1x1 160; 1x1 112 then 3x3 224; 1x1 24 then 3x3 64 (torchvision's 3x3 where the paper has 5x5); 3x3 max pool then 1x1 64
[Conv(1, 160, Bias = false, From = "inception4a.cat", Name = "inception4b.branch1.conv")] [BatchNorm(Epsilon = 1e-3f, Name = "inception4b.branch1.bn")] [ReLU(Name = "inception4b.branch1.relu")]
[Conv(1, 112, Bias = false, From = "inception4a.cat", Name = "inception4b.branch2.0.conv")] [BatchNorm(Epsilon = 1e-3f, Name = "inception4b.branch2.0.bn")] [ReLU(Name = "inception4b.branch2.0.relu")]
[Conv(3, 224, Padding = 1, Bias = false, Name = "inception4b.branch2.1.conv")] [BatchNorm(Epsilon = 1e-3f, Name = "inception4b.branch2.1.bn")] [ReLU(Name = "inception4b.branch2.1.relu")]
[Conv(1, 24, Bias = false, From = "inception4a.cat", Name = "inception4b.branch3.0.conv")] [BatchNorm(Epsilon = 1e-3f, Name = "inception4b.branch3.0.bn")] [ReLU(Name = "inception4b.branch3.0.relu")]
[Conv(3, 64, Padding = 1, Bias = false, Name = "inception4b.branch3.1.conv")] [BatchNorm(Epsilon = 1e-3f, Name = "inception4b.branch3.1.bn")] [ReLU(Name = "inception4b.branch3.1.relu")]
[MaxPool(3, Stride = 1, Padding = 1, CeilMode = true, From = "inception4a.cat", Name = "inception4b.branch4.0")]
[Conv(1, 64, Bias = false, Name = "inception4b.branch4.1.conv")] [BatchNorm(Epsilon = 1e-3f, Name = "inception4b.branch4.1.bn")] [ReLU(Name = "inception4b.branch4.1.relu")]
[Concat("inception4b.branch2.1.relu", "inception4b.branch3.1.relu", "inception4b.branch4.1.relu", From = "inception4b.branch1.relu", Name = "inception4b.cat")]
// inception4c: 1x1 128; 1x1 128 then 3x3 256; 1x1 24 then 3x3 64 (torchvision's 3x3 where the paper has 5x5); 3x3 max pool then 1x1 64
[Conv(1, 128, Bias = false, From = "inception4b.cat", Name = "inception4c.branch1.conv")] [BatchNorm(Epsilon = 1e-3f, Name = "inception4c.branch1.bn")] [ReLU(Name = "inception4c.branch1.relu")]
[Conv(1, 128, Bias = false, From = "inception4b.cat", Name = "inception4c.branch2.0.conv")] [BatchNorm(Epsilon = 1e-3f, Name = "inception4c.branch2.0.bn")] [ReLU(Name = "inception4c.branch2.0.relu")]
[Conv(3, 256, Padding = 1, Bias = false, Name = "inception4c.branch2.1.conv")] [BatchNorm(Epsilon = 1e-3f, Name = "inception4c.branch2.1.bn")] [ReLU(Name = "inception4c.branch2.1.relu")]
[Conv(1, 24, Bias = false, From = "inception4b.cat", Name = "inception4c.branch3.0.conv")] [BatchNorm(Epsilon = 1e-3f, Name = "inception4c.branch3.0.bn")] [ReLU(Name = "inception4c.branch3.0.relu")]
[Conv(3, 64, Padding = 1, Bias = false, Name = "inception4c.branch3.1.conv")] [BatchNorm(Epsilon = 1e-3f, Name = "inception4c.branch3.1.bn")] [ReLU(Name = "inception4c.branch3.1.relu")]
[MaxPool(3, Stride = 1, Padding = 1, CeilMode = true, From = "inception4b.cat", Name = "inception4c.branch4.0")]
[Conv(1, 64, Bias = false, Name = "inception4c.branch4.1.conv")] [BatchNorm(Epsilon = 1e-3f, Name = "inception4c.branch4.1.bn")] [ReLU(Name = "inception4c.branch4.1.relu")]
[Concat("inception4c.branch2.1.relu", "inception4c.branch3.1.relu", "inception4c.branch4.1.relu", From = "inception4c.branch1.relu", Name = "inception4c.cat")]
// inception4d: 1x1 112; 1x1 144 then 3x3 288; 1x1 32 then 3x3 64 (torchvision's 3x3 where the paper has 5x5); 3x3 max pool then 1x1 64
[Conv(1, 112, Bias = false, From = "inception4c.cat", Name = "inception4d.branch1.conv")] [BatchNorm(Epsilon = 1e-3f, Name = "inception4d.branch1.bn")] [ReLU(Name = "inception4d.branch1.relu")]
[Conv(1, 144, Bias = false, From = "inception4c.cat", Name = "inception4d.branch2.0.conv")] [BatchNorm(Epsilon = 1e-3f, Name = "inception4d.branch2.0.bn")] [ReLU(Name = "inception4d.branch2.0.relu")]
[Conv(3, 288, Padding = 1, Bias = false, Name = "inception4d.branch2.1.conv")] [BatchNorm(Epsilon = 1e-3f, Name = "inception4d.branch2.1.bn")] [ReLU(Name = "inception4d.branch2.1.relu")]
[Conv(1, 32, Bias = false, From = "inception4c.cat", Name = "inception4d.branch3.0.conv")] [BatchNorm(Epsilon = 1e-3f, Name = "inception4d.branch3.0.bn")] [ReLU(Name = "inception4d.branch3.0.relu")]
[Conv(3, 64, Padding = 1, Bias = false, Name = "inception4d.branch3.1.conv")] [BatchNorm(Epsilon = 1e-3f, Name = "inception4d.branch3.1.bn")] [ReLU(Name = "inception4d.branch3.1.relu")]
[MaxPool(3, Stride = 1, Padding = 1, CeilMode = true, From = "inception4c.cat", Name = "inception4d.branch4.0")]
[Conv(1, 64, Bias = false, Name = "inception4d.branch4.1.conv")] [BatchNorm(Epsilon = 1e-3f, Name = "inception4d.branch4.1.bn")] [ReLU(Name = "inception4d.branch4.1.relu")]
[Concat("inception4d.branch2.1.relu", "inception4d.branch3.1.relu", "inception4d.branch4.1.relu", From = "inception4d.branch1.relu", Name = "inception4d.cat")]
// inception4e: 1x1 256; 1x1 160 then 3x3 320; 1x1 32 then 3x3 128 (torchvision's 3x3 where the paper has 5x5); 3x3 max pool then 1x1 128
[Conv(1, 256, Bias = false, From = "inception4d.cat", Name = "inception4e.branch1.conv")] [BatchNorm(Epsilon = 1e-3f, Name = "inception4e.branch1.bn")] [ReLU(Name = "inception4e.branch1.relu")]
[Conv(1, 160, Bias = false, From = "inception4d.cat", Name = "inception4e.branch2.0.conv")] [BatchNorm(Epsilon = 1e-3f, Name = "inception4e.branch2.0.bn")] [ReLU(Name = "inception4e.branch2.0.relu")]
[Conv(3, 320, Padding = 1, Bias = false, Name = "inception4e.branch2.1.conv")] [BatchNorm(Epsilon = 1e-3f, Name = "inception4e.branch2.1.bn")] [ReLU(Name = "inception4e.branch2.1.relu")]
[Conv(1, 32, Bias = false, From = "inception4d.cat", Name = "inception4e.branch3.0.conv")] [BatchNorm(Epsilon = 1e-3f, Name = "inception4e.branch3.0.bn")] [ReLU(Name = "inception4e.branch3.0.relu")]
[Conv(3, 128, Padding = 1, Bias = false, Name = "inception4e.branch3.1.conv")] [BatchNorm(Epsilon = 1e-3f, Name = "inception4e.branch3.1.bn")] [ReLU(Name = "inception4e.branch3.1.relu")]
[MaxPool(3, Stride = 1, Padding = 1, CeilMode = true, From = "inception4d.cat", Name = "inception4e.branch4.0")]
[Conv(1, 128, Bias = false, Name = "inception4e.branch4.1.conv")] [BatchNorm(Epsilon = 1e-3f, Name = "inception4e.branch4.1.bn")] [ReLU(Name = "inception4e.branch4.1.relu")]
[Concat("inception4e.branch2.1.relu", "inception4e.branch3.1.relu", "inception4e.branch4.1.relu", From = "inception4e.branch1.relu", Name = "inception4e.cat")]
[MaxPool(2, Stride = 2, CeilMode = true, Name = "maxpool4")]
// inception5a: 1x1 256; 1x1 160 then 3x3 320; 1x1 32 then 3x3 128 (torchvision's 3x3 where the paper has 5x5); 3x3 max pool then 1x1 128
[Conv(1, 256, Bias = false, From = "maxpool4", Name = "inception5a.branch1.conv")] [BatchNorm(Epsilon = 1e-3f, Name = "inception5a.branch1.bn")] [ReLU(Name = "inception5a.branch1.relu")]
[Conv(1, 160, Bias = false, From = "maxpool4", Name = "inception5a.branch2.0.conv")] [BatchNorm(Epsilon = 1e-3f, Name = "inception5a.branch2.0.bn")] [ReLU(Name = "inception5a.branch2.0.relu")]
[Conv(3, 320, Padding = 1, Bias = false, Name = "inception5a.branch2.1.conv")] [BatchNorm(Epsilon = 1e-3f, Name = "inception5a.branch2.1.bn")] [ReLU(Name = "inception5a.branch2.1.relu")]
[Conv(1, 32, Bias = false, From = "maxpool4", Name = "inception5a.branch3.0.conv")] [BatchNorm(Epsilon = 1e-3f, Name = "inception5a.branch3.0.bn")] [ReLU(Name = "inception5a.branch3.0.relu")]
[Conv(3, 128, Padding = 1, Bias = false, Name = "inception5a.branch3.1.conv")] [BatchNorm(Epsilon = 1e-3f, Name = "inception5a.branch3.1.bn")] [ReLU(Name = "inception5a.branch3.1.relu")]
[MaxPool(3, Stride = 1, Padding = 1, CeilMode = true, From = "maxpool4", Name = "inception5a.branch4.0")]
[Conv(1, 128, Bias = false, Name = "inception5a.branch4.1.conv")] [BatchNorm(Epsilon = 1e-3f, Name = "inception5a.branch4.1.bn")] [ReLU(Name = "inception5a.branch4.1.relu")]
[Concat("inception5a.branch2.1.relu", "inception5a.branch3.1.relu", "inception5a.branch4.1.relu", From = "inception5a.branch1.relu", Name = "inception5a.cat")]
// inception5b: 1x1 384; 1x1 192 then 3x3 384; 1x1 48 then 3x3 128 (torchvision's 3x3 where the paper has 5x5); 3x3 max pool then 1x1 128
[Conv(1, 384, Bias = false, From = "inception5a.cat", Name = "inception5b.branch1.conv")] [BatchNorm(Epsilon = 1e-3f, Name = "inception5b.branch1.bn")] [ReLU(Name = "inception5b.branch1.relu")]
[Conv(1, 192, Bias = false, From = "inception5a.cat", Name = "inception5b.branch2.0.conv")] [BatchNorm(Epsilon = 1e-3f, Name = "inception5b.branch2.0.bn")] [ReLU(Name = "inception5b.branch2.0.relu")]
[Conv(3, 384, Padding = 1, Bias = false, Name = "inception5b.branch2.1.conv")] [BatchNorm(Epsilon = 1e-3f, Name = "inception5b.branch2.1.bn")] [ReLU(Name = "inception5b.branch2.1.relu")]
[Conv(1, 48, Bias = false, From = "inception5a.cat", Name = "inception5b.branch3.0.conv")] [BatchNorm(Epsilon = 1e-3f, Name = "inception5b.branch3.0.bn")] [ReLU(Name = "inception5b.branch3.0.relu")]
[Conv(3, 128, Padding = 1, Bias = false, Name = "inception5b.branch3.1.conv")] [BatchNorm(Epsilon = 1e-3f, Name = "inception5b.branch3.1.bn")] [ReLU(Name = "inception5b.branch3.1.relu")]
[MaxPool(3, Stride = 1, Padding = 1, CeilMode = true, From = "inception5a.cat", Name = "inception5b.branch4.0")]
[Conv(1, 128, Bias = false, Name = "inception5b.branch4.1.conv")] [BatchNorm(Epsilon = 1e-3f, Name = "inception5b.branch4.1.bn")] [ReLU(Name = "inception5b.branch4.1.relu")]
[Concat("inception5b.branch2.1.relu", "inception5b.branch3.1.relu", "inception5b.branch4.1.relu", From = "inception5b.branch1.relu", Name = "inception5b.cat")]
[GlobalAvgPool(Name = "avgpool")] [Dropout(0.2f, Name = "dropout")] [Dense(1000, Name = "fc")]
public partial class GoogLeNet { }
