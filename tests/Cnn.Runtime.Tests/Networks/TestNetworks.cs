namespace CnnGen.Tests.Networks;

// Small networks with odd sizes, strides, paddings and channel counts, one per layer kind and a few mixes.

[Input(2, 9, 7)]
[Conv(3, 4, Stride = 2, Padding = 1)] [Tanh]
[Dense(5)]
public partial class ConvStridePadNet { }

[Input(3, 8, 8)]
[Conv(1, 5)] [ReLU] [Conv(3, 3, Padding = 2)] [LeakyReLU(0.1f)]
[Dense(4)]
public partial class PointwiseConvNet { }

[Input(2, 11, 10)]
[Conv(3, 3)] [ELU(0.7f)] [MaxPool(3, Stride = 2, Padding = 1)]
[Dense(6)] [Sigmoid] [Dense(3)] [Softmax]
public partial class MaxPoolPadNet { }

[Input(3, 7, 9)]
[Conv(2, 4, Stride = 1)] [ReLU] [AvgPool(3, Stride = 2, Padding = 1)]
[Conv(2, 2)] [Tanh]
[Dense(5)]
public partial class AvgPoolNet { }

[Input(1, 12, 12)]
[Conv(5, 3, Padding = 2)] [ReLU] [MaxPool(2)]
[Conv(3, 4, Stride = 2)] [ReLU] [MaxPool(2)]
[Dense(7)] [ReLU] [Dense(4)] [Softmax]
public partial class TinyLeNet { }

[Input(1, 5, 5)]
[Dense(6)] [LeakyReLU] [Dense(6)] [ELU] [Dense(3)]
public partial class DenseOnlyNet { }

[Input(2, 6, 13)]
[Conv(2, 3, Stride = 2)] [Sigmoid] [MaxPool(2, Stride = 1)]
[Conv(1, 2)] [LeakyReLU(0.3f)] [AvgPool(2, Padding = 1)]
[Dense(4)] [Tanh]
public partial class RectStrideNet { }

[Input(3, 8, 6)]
[AvgPool(2, Stride = 1)] [Conv(3, 4, Padding = 1)] [ELU] [MaxPool(3, Stride = 2, Padding = 1)]
[Dense(5)] [Softmax]
public partial class PoolFirstNet { }

[Input(1, 1, 3)]
[Softmax]
public partial class SoftmaxOnlyNet { }

[Input(2, 7, 6)]
[Conv(3, 6, Padding = 1)] [Maxout(3)] [MaxPool(2)]
[Dense(8)] [Maxout(2)] [Dense(3)] [Softmax]
public partial class MaxoutNet { }

[Input(1, 6, 6)]
[Conv(3, 4)] [ReLU] [Dropout(0.3f)]
[Dense(9)] [Tanh] [Dropout(0.5f)] [Dense(3)]
public partial class DropoutNet { }

// BatchNorm after a direct-path convolution (folded, ReLU fused in inference) and after a dense layer (BatchNorm1d).
[Input(2, 7, 6)]
[Conv(3, 4, Padding = 1)] [BatchNorm] [ReLU] [MaxPool(2)]
[Dense(5)] [BatchNorm] [Tanh] [Dense(3)] [Softmax]
public partial class BatchNormNet { }

// BatchNorm after a stride-2 im2col convolution (folded, no fused ReLU) and after a pool (not folded), ends in logits.
[Input(3, 9, 8)]
[Conv(3, 4, Stride = 2, Padding = 1)] [BatchNorm] [ELU] [AvgPool(2)] [BatchNorm]
[Dense(4)]
public partial class BatchNormPoolNet { }

// Residual blocks (ResNet): an identity shortcut over conv-BatchNorm-ReLU-conv-BatchNorm, and one over a dense layer.
[Input(2, 6, 6)]
[Conv(3, 4, Padding = 1)] [ReLU]
[Conv(3, 4, Padding = 1)] [BatchNorm] [ReLU] [Conv(3, 4, Padding = 1)] [BatchNorm] [Add("relu1")] [ReLU]
[MaxPool(2)] [Dense(5)] [Tanh] [Dense(5)] [Add("tanh1")] [Dense(3)] [Softmax]
public partial class ResidualNet { }

// Shortcut sources whose outputs inference would otherwise skip: a convolution whose ReLU would be fused, and a
// BatchNorm whose ReLU would be fused into the convolution it is folded into.
[Input(1, 8, 8)]
[Conv(3, 3, Padding = 1)] [ReLU] [Conv(3, 3, Padding = 1)] [Add("conv1")]
[Conv(3, 3, Padding = 1)] [BatchNorm] [ReLU] [Conv(3, 3, Padding = 1)] [Add("bn1")] [Dense(2)]
public partial class ShortcutSourceNet { }

// Dense connections (DenseNet): outputs joined along the channels, from a convolution whose ReLU would otherwise be
// fused, from a BatchNorm's ReLU, and a flat one from the layer just before (y = [x, x]).
[Input(2, 6, 5)]
[Conv(3, 3, Padding = 1)] [ReLU]
[Conv(3, 2, Padding = 1)] [Concat("conv1")] [BatchNorm] [ReLU]
[Conv(3, 2, Padding = 1)] [Concat("relu2")] [MaxPool(2)]
[Dense(6)] [Tanh] [Concat("tanh1")] [Dense(3)] [Softmax]
public partial class DenseConnectNet { }

// Weight gradients computed straight from the zero-padded images (DirectWeightGradient): output rows 32 wide, then 16
// wide after the pool (two rows), with more images than one group of the 32-wide layer when the batch is large.
[Input(2, 5, 32)]
[Conv(3, 3, Padding = 1)] [Tanh] [MaxPool(2)]
[Conv(3, 4, Padding = 1)] [Tanh]
[Dense(3)] [Softmax]
public partial class DirectWeightGradientNet { }

// The same path without padding (the images read in place, 16-wide rows of an 18-wide input) under BatchNorm in
// training mode, where a worker's whole chunk is one backward call.
[Input(2, 4, 18)]
[Conv(3, 3)] [BatchNorm] [Tanh]
[Conv(3, 2, Padding = 1)] [Tanh]
[Dense(3)]
public partial class DirectWeightGradientBatchNormNet { }
