namespace CnnGen.Training.Tests.Support;

[Input(1, 6, 6)] [Conv(3, 2)] [ReLU] [Dense(3)]
public partial class TinyNet { }

// Same layer names as TinyNet, but conv1 has a 4x4 kernel: conv1.weight and dense1.weight differ in shape.
[Input(1, 6, 6)] [Conv(4, 2)] [ReLU] [Dense(3)]
public partial class TinyNetWider { }

// Same first layer as TinyNet, a different head: for fine-tuning and partial loads.
[Input(1, 6, 6)] [Conv(3, 2)] [ReLU] [Dense(5)]
public partial class TinyNetFiveClasses { }

// Same tensors as TinyNet, a different activation: the fingerprint differs, the tensors do not.
[Input(1, 6, 6)] [Conv(3, 2)] [Tanh] [Dense(3)]
public partial class TinyTanhNet { }
