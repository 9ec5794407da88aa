namespace CnnGen.Samples.Networks;

/// <summary>
/// AlexNet's layers as seed 004 lists them (filter/stride/pad): conv1 11/4/0, pool1 3/2/0, conv2 5/1/2, pool2 3/2/0,
/// conv3-5 3/1/1, pool5 3/2/0, then three dense layers. The input is 227x227, the size at which conv1's stride 4
/// reads every pixel (at 224, CnnGen warns that the last 3 rows and columns go unread).
/// </summary>
[Input(3, 227, 227)]
[Conv(11, 96, Stride = 4)] [ReLU] [MaxPool(3, Stride = 2)]
[Conv(5, 256, Padding = 2)] [ReLU] [MaxPool(3, Stride = 2)]
[Conv(3, 384, Padding = 1)] [ReLU]
[Conv(3, 384, Padding = 1)] [ReLU]
[Conv(3, 256, Padding = 1)] [ReLU] [MaxPool(3, Stride = 2)]
[Dense(4096)] [ReLU]
[Dense(4096)] [ReLU]
[Dense(1000)] [Softmax]
public partial class AlexNet { }
