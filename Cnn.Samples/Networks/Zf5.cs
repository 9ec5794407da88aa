namespace CnnGen.Samples.Networks;

/// <summary>
/// ZF-5 (Zeiler and Fergus's network as the SPP-net paper uses it), with seed 004's filter/stride/pad per layer:
/// conv1 7/2/3, pool1 3/2/1, conv2 5/2/2, pool2 3/2/1, conv3-5 3/1/1; here followed by AlexNet's pool5 and dense head.
/// The input is 225x225, the size at which every stride reads every pixel (at 224 conv1 would leave a row unread).
/// A conv5 unit sees 139x139 pixels at a stride of 16.
/// </summary>
[Input(3, 225, 225)]
[Conv(7, 96, Stride = 2, Padding = 3)] [ReLU] [MaxPool(3, Stride = 2, Padding = 1)]
[Conv(5, 256, Stride = 2, Padding = 2)] [ReLU] [MaxPool(3, Stride = 2, Padding = 1)]
[Conv(3, 384, Padding = 1)] [ReLU]
[Conv(3, 384, Padding = 1)] [ReLU]
[Conv(3, 256, Padding = 1)] [ReLU] [MaxPool(3, Stride = 2)]
[Dense(4096)] [ReLU]
[Dense(4096)] [ReLU]
[Dense(1000)] [Softmax]
public partial class Zf5 { }
