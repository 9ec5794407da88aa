namespace CnnGen.Samples.Networks;

/// <summary>LeNet-5 with a 5-way head, for the first five Fashion-MNIST classes.</summary>
[Input(1, 28, 28)]
[Conv(5, 6, Padding = 2)] [ReLU] [MaxPool(2)]
[Conv(5, 16)] [ReLU] [MaxPool(2)]
[Dense(120)] [ReLU] [Dense(84)] [ReLU]
[Dense(5, Name = "head_a")] [Softmax]
public partial class LeNet5FirstFive { }

/// <summary>The same body with a new 5-way head for the other five classes; its convolutions start frozen, so
/// fine-tuning trains the dense layers only (<c>Unfreeze</c> lets them train too).</summary>
[Input(1, 28, 28)]
[Conv(5, 6, Padding = 2, Frozen = true)] [ReLU] [MaxPool(2)]
[Conv(5, 16, Frozen = true)] [ReLU] [MaxPool(2)]
[Dense(120)] [ReLU] [Dense(84)] [ReLU]
[Dense(5, Name = "head_b")] [Softmax]
public partial class LeNet5OtherFive { }
