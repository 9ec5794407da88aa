namespace CnnGen.Training.Tests.BatchNorm;

/// <summary>LeNet-5 with BatchNorm after every convolution and hidden dense layer, as the samples declare it.</summary>
[Input(1, 28, 28)]
[Conv(5, 6, Padding = 2)] [BatchNorm] [ReLU] [MaxPool(2)]
[Conv(5, 16)] [BatchNorm] [ReLU] [MaxPool(2)]
[Dense(120)] [BatchNorm] [ReLU]
[Dense(84)] [BatchNorm] [ReLU]
[Dense(10)] [Softmax]
public partial class TrainLeNetBatchNorm { }

/// <summary>As <see cref="TrainLeNetBatchNorm"/> with bn1 frozen at compile time.</summary>
[Input(1, 28, 28)]
[Conv(5, 6, Padding = 2)] [BatchNorm(Frozen = true)] [ReLU] [MaxPool(2)]
[Conv(5, 16)] [BatchNorm] [ReLU] [MaxPool(2)]
[Dense(120)] [BatchNorm] [ReLU]
[Dense(84)] [BatchNorm] [ReLU]
[Dense(10)] [Softmax]
public partial class FrozenBatchNormLeNet { }
