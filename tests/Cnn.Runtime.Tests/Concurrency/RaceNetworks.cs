namespace CnnGen.Tests.Concurrency;

// The networks of the concurrency tests: LeNet-5 without its softmax (the network a user raced the worker pool with)
// and a small one with BatchNorm, whose training-mode workers meet at a barrier in every BatchNorm.

[Input(1, 28, 28)]
[Conv(5, 6, Padding = 2)] [ReLU] [MaxPool(2)]
[Conv(5, 16)] [ReLU] [MaxPool(2)]
[Dense(120)] [ReLU] [Dense(84)] [ReLU] [Dense(10)]
public partial class RaceNet { }

[Input(2, 8, 8)]
[Conv(3, 6, Padding = 1)] [BatchNorm] [ReLU] [MaxPool(2)]
[Dense(12)] [BatchNorm] [ReLU] [Dense(4)]
public partial class RaceBatchNormNet { }
