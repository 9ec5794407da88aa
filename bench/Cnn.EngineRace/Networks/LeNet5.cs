namespace CnnGen.EngineRace.Networks;

/// <summary>LeNet-5 as in the samples, without the final [Softmax]: every engine returns logits, so they can be
/// compared directly (training fuses the softmax with the cross-entropy either way).</summary>
[Input(1, 28, 28)]
[Conv(5, 6, Padding = 2)] [ReLU] [MaxPool(2)]
[Conv(5, 16)] [ReLU] [MaxPool(2)]
[Dense(120)] [ReLU]
[Dense(84)] [ReLU]
[Dense(10)]
public partial class LeNet5 { }
