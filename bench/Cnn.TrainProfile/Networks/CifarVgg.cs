namespace CnnGen.TrainProfile.Networks;

/// <summary>A VGG for 3x32x32 images: pairs of 3x3 convolutions (padding 1) of 32, 64 and 128 filters, each followed
/// by ReLU, a 2x2 max pool after each pair, then one dense layer to 10 logits.</summary>
[Input(3, 32, 32)]
[Conv(3, 32, Padding = 1)] [ReLU] [Conv(3, 32, Padding = 1)] [ReLU] [MaxPool(2)]
[Conv(3, 64, Padding = 1)] [ReLU] [Conv(3, 64, Padding = 1)] [ReLU] [MaxPool(2)]
[Conv(3, 128, Padding = 1)] [ReLU] [Conv(3, 128, Padding = 1)] [ReLU] [MaxPool(2)]
[Dense(10)]
public partial class CifarVgg { }
