namespace CnnGen.Samples.Tests.Networks;

/// <summary>
/// Dilated convolutions (plain, and grouped with a stride), declared as a PyTorch <c>nn.Sequential</c> of the same
/// modules names them, for the cross-check against PyTorch.
/// </summary>
[Input(3, 32, 32)]
[Conv(3, 8, Padding = 2, Dilation = 2, Bias = false, Name = "conv1")] [BatchNorm(Name = "bn1")] [ReLU(Name = "relu1")]
[Conv(3, 8, Stride = 2, Padding = 3, Groups = 2, Dilation = 3, Name = "conv2")] [ReLU(Name = "relu2")]
[Conv(3, 6, Dilation = 4, Name = "conv3")] [ReLU(Name = "relu3")]
[Dense(10, Name = "fc")]
public partial class DilatedNet { }
