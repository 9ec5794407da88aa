namespace CnnGen.Samples.Networks;

/// <summary>Seed 003's multilayer perceptron baseline: two hidden layers of 512 units with dropout 0.2, on the flattened
/// 28x28 image.</summary>
[Input(1, 28, 28)]
[Dense(512)] [ReLU] [Dropout(0.2f)]
[Dense(512)] [ReLU] [Dropout(0.2f)]
[Dense(10)] [Softmax]
public partial class Mlp { }
