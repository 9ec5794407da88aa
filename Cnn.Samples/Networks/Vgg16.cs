namespace CnnGen.Samples.Networks;

/// <summary>
/// VGG16 (configuration D) exactly as torchvision 0.14 builds it (<c>torchvision.models.vgg16()</c>, 1000 classes,
/// 3x224x224, 138,357,544 parameters), under torchvision's module names so its state_dict loads key for key: thirteen
/// 3x3 convolutions with padding 1, five 2x2 max pools, then three linear layers, dropout 0.5 after the ReLU of each of
/// the first two. torchvision's adaptive average pool to 7x7 is the identity at 224x224 (the last pool gives 512x7x7),
/// so it is left out. Ends in logits.
/// </summary>
[Input(3, 224, 224)]
[Conv(3, 64, Padding = 1, Name = "features.0")] [ReLU(Name = "features.1")]
[Conv(3, 64, Padding = 1, Name = "features.2")] [ReLU(Name = "features.3")] [MaxPool(2, Name = "features.4")]
[Conv(3, 128, Padding = 1, Name = "features.5")] [ReLU(Name = "features.6")]
[Conv(3, 128, Padding = 1, Name = "features.7")] [ReLU(Name = "features.8")] [MaxPool(2, Name = "features.9")]
[Conv(3, 256, Padding = 1, Name = "features.10")] [ReLU(Name = "features.11")]
[Conv(3, 256, Padding = 1, Name = "features.12")] [ReLU(Name = "features.13")]
[Conv(3, 256, Padding = 1, Name = "features.14")] [ReLU(Name = "features.15")] [MaxPool(2, Name = "features.16")]
[Conv(3, 512, Padding = 1, Name = "features.17")] [ReLU(Name = "features.18")]
[Conv(3, 512, Padding = 1, Name = "features.19")] [ReLU(Name = "features.20")]
[Conv(3, 512, Padding = 1, Name = "features.21")] [ReLU(Name = "features.22")] [MaxPool(2, Name = "features.23")]
[Conv(3, 512, Padding = 1, Name = "features.24")] [ReLU(Name = "features.25")]
[Conv(3, 512, Padding = 1, Name = "features.26")] [ReLU(Name = "features.27")]
[Conv(3, 512, Padding = 1, Name = "features.28")] [ReLU(Name = "features.29")] [MaxPool(2, Name = "features.30")]
[Dense(4096, Name = "classifier.0")] [ReLU(Name = "classifier.1")] [Dropout(0.5f, Name = "classifier.2")]
[Dense(4096, Name = "classifier.3")] [ReLU(Name = "classifier.4")] [Dropout(0.5f, Name = "classifier.5")]
[Dense(1000, Name = "classifier.6")]
public partial class Vgg16 { }
