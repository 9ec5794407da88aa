namespace CnnGen.SimdCheck;

// Sizes chosen so the matrix products hit the 16-wide, 8-wide and scalar column paths and dot products of every
// length class (multiples of 16 and remainders).

[Input(1, 28, 28)]
[Conv(5, 6, Padding = 2)] [ReLU] [MaxPool(2)]
[Conv(5, 16)] [ReLU] [MaxPool(2)]
[Dense(120)] [ReLU] [Dense(84)] [ReLU] [Dense(10)] [Softmax]
public partial class LeNet5 { }

[Input(3, 13, 11)]
[Conv(3, 5, Stride = 2, Padding = 1)] [LeakyReLU(0.1f)] [MaxPool(3, Stride = 1, Padding = 1)]
[Conv(1, 4)] [ELU(0.5f)]
[Dense(27)] [Tanh] [Dense(5)]
public partial class MixedNet { }

[Input(2, 10, 25)]
[Conv(4, 6, Padding = 2)] [Tanh] [AvgPool(3, Stride = 2, Padding = 1)]
[Conv(2, 3, Stride = 2)] [Sigmoid]
[Dense(19)] [ReLU] [Dense(4)] [Softmax]
public partial class WideNet { }

// BatchNorm after a direct-path convolution (folded with a fused ReLU in inference), after a wide map and after a
// dense layer; its sums, normalisation and gradients must give the same bits at every SIMD width.
[Input(2, 12, 11)]
[Conv(3, 5, Padding = 1)] [BatchNorm] [ReLU] [MaxPool(2)]
[Dense(9)] [BatchNorm] [Tanh] [Dense(4)] [Softmax]
public partial class BatchNormNet { }

// Dilated convolutions, plain and grouped, through im2col in both passes.
[Input(2, 13, 12)]
[Conv(3, 4, Padding = 2, Dilation = 2)] [ReLU]
[Conv(3, 6, Stride = 2, Padding = 1, Groups = 2, Dilation = 3)] [Tanh]
[Dense(5)] [Softmax]
public partial class DilatedNet { }


// Winograd in inference: conv2 (folded BatchNorm, fused ReLU) and conv3 (no padding) run as F(4x4, 3x3) in Forward.
[Input(16, 8, 8)]
[Conv(3, 16, Padding = 1)] [ReLU]
[Conv(3, 32, Padding = 1)] [BatchNorm] [ReLU]
[Conv(3, 40)] [Tanh]
[Dense(5)] [Softmax]
public partial class WinogradNet { }

// Depthwise convolutions (stride 1 and 2, BatchNorm folded in evaluation): the direct kernel in inference, im2col in training.
[Input(4, 11, 21)]
[Conv(3, 4, Padding = 1, Groups = 4)] [ReLU6]
[Conv(3, 4, Stride = 2, Padding = 1, Groups = 4, Bias = false)] [BatchNorm] [ReLU6]
[Conv(1, 6)] [Dense(5)] [Softmax]
public partial class DepthwiseNet { }

// Weight gradients from the padded images (32- and 16-wide output rows) and, under BatchNorm, from the images in place.
[Input(2, 6, 32)]
[Conv(3, 5, Padding = 1)] [Tanh] [MaxPool(2)]
[Conv(3, 4, Padding = 1)] [ReLU] [Dense(4)] [Softmax]
public partial class DirectWeightGradientNet { }

[Input(3, 5, 18)]
[Conv(3, 4)] [BatchNorm] [ReLU] [Dense(3)] [Softmax]
public partial class DirectWeightGradientBatchNormNet { }

// A stem that computes the depthwise convolution and the 1x1 projection after it, a band of rows at a time, where
// 512-bit vectors run (StemDepthwise); the three layers one after the other elsewhere.
[Input(3, 199, 199)]
[Conv(3, 16, Stride = 2, Padding = 1, Bias = false)] [BatchNorm] [ReLU6]
[Conv(3, 16, Padding = 1, Groups = 16, Bias = false)] [BatchNorm] [ReLU6]
[Conv(1, 8, Bias = false)] [BatchNorm] [Dense(5)] [Softmax]
public partial class StemNet { }
