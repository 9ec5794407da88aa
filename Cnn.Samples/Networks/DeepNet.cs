namespace CnnGen.Samples.Networks;

/// <summary>A wider two-convolution network for 28x28 grey images: more filters than LeNet-5 and a larger dense layer.</summary>
[Input(1, 28, 28)]
[Conv(5, 32, Padding = 2)] [ReLU] [MaxPool(2)]
[Conv(5, 64, Padding = 2)] [ReLU] [MaxPool(2)]
[Dense(256)] [ReLU]
[Dense(10)] [Softmax]
public partial class DeepNet { }
