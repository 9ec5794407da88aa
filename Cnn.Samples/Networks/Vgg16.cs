namespace CnnGen.Samples.Networks;

/// <summary>VGG16 (configuration D): thirteen 3x3 convolutions with padding 1, five 2x2 max pools, three dense layers.</summary>
[Input(3, 224, 224)]
[Conv(3, 64, Padding = 1)] [ReLU] [Conv(3, 64, Padding = 1)] [ReLU] [MaxPool(2)]
[Conv(3, 128, Padding = 1)] [ReLU] [Conv(3, 128, Padding = 1)] [ReLU] [MaxPool(2)]
[Conv(3, 256, Padding = 1)] [ReLU] [Conv(3, 256, Padding = 1)] [ReLU] [Conv(3, 256, Padding = 1)] [ReLU] [MaxPool(2)]
[Conv(3, 512, Padding = 1)] [ReLU] [Conv(3, 512, Padding = 1)] [ReLU] [Conv(3, 512, Padding = 1)] [ReLU] [MaxPool(2)]
[Conv(3, 512, Padding = 1)] [ReLU] [Conv(3, 512, Padding = 1)] [ReLU] [Conv(3, 512, Padding = 1)] [ReLU] [MaxPool(2)]
[Dense(4096)] [ReLU]
[Dense(4096)] [ReLU]
[Dense(1000)] [Softmax]
public partial class Vgg16 { }
