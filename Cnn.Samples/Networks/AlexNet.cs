namespace CnnGen.Samples.Networks;

/// <summary>
/// AlexNet exactly as torchvision 0.14 builds it (<c>torchvision.models.alexnet()</c>, 1000 classes, 3x224x224,
/// 61,100,840 parameters), under torchvision's module names so its state_dict loads key for key: the one-GPU variant
/// (64, 192, 384, 256, 256 filters; conv1 11x11 stride 4 padding 2), three 3x3 stride-2 max pools, then dropout 0.5
/// before each of the first two linear layers. torchvision's adaptive average pool to 6x6 is the identity at 224x224
/// (pool5 gives 256x6x6), so it is left out. Ends in logits. conv1's stride 4 leaves the last input row and column
/// unread, as torchvision's does (CNN0011, silenced for this project).
/// </summary>
[Input(3, 224, 224)]
[Conv(11, 64, Stride = 4, Padding = 2, Name = "features.0")] [ReLU(Name = "features.1")] [MaxPool(3, Stride = 2, Name = "features.2")]
[Conv(5, 192, Padding = 2, Name = "features.3")] [ReLU(Name = "features.4")] [MaxPool(3, Stride = 2, Name = "features.5")]
[Conv(3, 384, Padding = 1, Name = "features.6")] [ReLU(Name = "features.7")]
[Conv(3, 256, Padding = 1, Name = "features.8")] [ReLU(Name = "features.9")]
[Conv(3, 256, Padding = 1, Name = "features.10")] [ReLU(Name = "features.11")] [MaxPool(3, Stride = 2, Name = "features.12")]
[Dropout(0.5f, Name = "classifier.0")] [Dense(4096, Name = "classifier.1")] [ReLU(Name = "classifier.2")]
[Dropout(0.5f, Name = "classifier.3")] [Dense(4096, Name = "classifier.4")] [ReLU(Name = "classifier.5")]
[Dense(1000, Name = "classifier.6")]
public partial class AlexNet { }
