namespace CnnGen.Samples.Networks;

/// <summary>LeNet-5 with a BatchNorm after every convolution and hidden dense layer (seed 002), to compare with
/// <see cref="LeNet5"/>. In inference the BatchNorms after the convolutions are folded into their weights.</summary>
[Input(1, 28, 28)]
[Conv(5, 6, Padding = 2)] [BatchNorm] [ReLU] [MaxPool(2)]
[Conv(5, 16)] [BatchNorm] [ReLU] [MaxPool(2)]
[Dense(120)] [BatchNorm] [ReLU]
[Dense(84)] [BatchNorm] [ReLU]
[Dense(10)] [Softmax]
public partial class LeNet5BatchNorm { }
