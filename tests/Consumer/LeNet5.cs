using CnnGen;

namespace Consumer;

[Input(1, 28, 28)]
[Conv(5, 6, Padding = 2)] [ReLU] [MaxPool(2)]
[Conv(5, 16)] [ReLU] [MaxPool(2)]
[Dense(120)] [ReLU]
[Dense(84)] [ReLU]
[Dense(10)] [Softmax]
public partial class LeNet5 { }
