namespace CnnGen.Tests.Onnx;

// Networks as graphs for the export tests: an inception module (four branches from one input, joined), a
// MobileNet/ResNet-like block (depthwise convolution, ReLU6, a projection shortcut), torchvision's dotted names, and
// dilated convolutions (plain and grouped).

[Input(3, 12, 12)]
[Conv(3, 8, Padding = 1, Bias = false, Name = "stem")] [BatchNorm(Epsilon = 0.001f, Name = "stem_bn")] [ReLU(Name = "stem_relu")]
[Conv(1, 4, Name = "branch1")]
[Conv(1, 3, From = "stem_relu", Name = "branch2a")] [ReLU6(Name = "branch2r")] [Conv(3, 4, Padding = 1, Name = "branch2b")]
[MaxPool(3, Stride = 1, Padding = 1, CeilMode = true, From = "stem_relu", Name = "branch3a")] [Conv(1, 4, Name = "branch3b")]
[Concat("branch2b", "branch3b", From = "branch1", Name = "joined")] [BatchNorm(Name = "joined_bn")] [ReLU(Name = "joined_relu")]
[GlobalAvgPool(Name = "gap")] [Dense(5, Name = "fc")]
public partial class InceptionNet { }

[Input(4, 9, 9)]
[Conv(3, 8, Padding = 1, Bias = false, Name = "c0")] [BatchNorm(Name = "bn0")] [ReLU(Name = "r0")]
[Conv(3, 8, Stride = 2, Padding = 1, Groups = 8, Bias = false, Name = "dw")] [BatchNorm(Momentum = 0.01f, Name = "dw_bn")] [ReLU6(Name = "dw_relu")]
[Conv(1, 16, Bias = false, Name = "pw")] [BatchNorm(Name = "pw_bn")]
[Conv(1, 16, Stride = 2, Bias = false, From = "r0", Name = "proj")] [BatchNorm(Name = "proj_bn")]
[Add("pw_bn", Name = "sum")] [ReLU(Name = "out_relu")] [AvgPool(2, CeilMode = true, Name = "pool")] [Dense(3, Name = "fc")] [Softmax]
public partial class ProjectionBlockNet { }

[Input(2, 6, 6)]
[Conv(3, 4, Padding = 1, Name = "layer1.0.conv1")] [BatchNorm(Name = "layer1.0.bn1")] [ReLU(Name = "layer1.0.relu")]
[Add("layer1.0.bn1", "layer1.0.conv1", Name = "layer1.0.sum")]
[Dense(3, Bias = false, Name = "fc")]
public partial class DottedNamesNet { }

[Input(2, 10, 10)]
[Conv(3, 6, Padding = 2, Dilation = 2, Name = "atrous")] [ReLU(Name = "atrous_relu")]
[Conv(3, 6, Padding = 3, Dilation = 3, Groups = 2, Name = "atrous_grouped")] [BatchNorm(Name = "bn")]
[GlobalAvgPool(Name = "gap")] [Dense(3, Name = "fc")]
public partial class DilatedGraphNet { }
