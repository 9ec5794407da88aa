namespace CnnGen.Tests.CrossCheck;

// The networks of tools/pytorch_crosscheck.py, attribute for attribute (`--print-cs` prints them); each fixture
// records these attributes and its layer shapes, which the tests compare with the generated classes.

[Input(1, 28, 28)]
[Conv(5, 6, Padding = 2)] [ReLU] [MaxPool(2)]
[Conv(5, 16)] [ReLU] [MaxPool(2)]
[Dense(120)] [ReLU] [Dense(84)] [ReLU] [Dense(10)] [Softmax]
public partial class LeNet5 { }

// Stride-2 padded conv, LeakyReLU, overlapping padded max pool, 1x1 conv, ELU, Tanh; ends in logits.
[Input(3, 13, 11)]
[Conv(3, 5, Stride = 2, Padding = 1)] [LeakyReLU(0.1f)]
[MaxPool(3, Stride = 1, Padding = 1)]
[Conv(1, 4)] [ELU(0.5f)]
[Dense(7)] [Tanh] [Dense(5)]
public partial class CrossNetA { }

// Rectangular input, even kernel with padding, Tanh, padded average pool, stride-2 conv, Sigmoid, Softmax.
[Input(2, 10, 15)]
[Conv(4, 6, Padding = 2)] [Tanh]
[AvgPool(3, Stride = 2, Padding = 1)]
[Conv(2, 3, Stride = 2)] [Sigmoid]
[Dense(4)] [Softmax]
public partial class CrossNetB { }

// 1x1 conv first, padded stride-2 conv, ELU, overlapping unpadded max pool, average pool, LeakyReLU, Softmax.
[Input(4, 9, 9)]
[Conv(1, 6)] [ReLU]
[Conv(3, 5, Stride = 2, Padding = 2)] [ELU(1.3f)]
[MaxPool(2, Stride = 1)] [AvgPool(2)]
[Dense(9)] [LeakyReLU(0.2f)] [Dense(6)] [Softmax]
public partial class CrossNetC { }

// Pool before any parameter, stride-3 conv that leaves input unread, 1x1 conv, ends in Sigmoid (no Softmax).
[Input(1, 7, 40)]
[MaxPool(3, Stride = 2, Padding = 1)]
[Conv(3, 7, Stride = 3, Padding = 1)] [ReLU]
[Conv(1, 18)] [Tanh]
[Dense(3)] [Sigmoid]
public partial class CrossNetD { }

// BatchNorm after each Conv and Dense layer (all folded in evaluation), stride-2 padded conv, Dropout after the
// hidden dense layer's activation; Softmax. Evaluation mode only (Dropout).
[Input(3, 12, 12)]
[Conv(3, 6, Padding = 1)] [BatchNorm] [ReLU] [MaxPool(2)]
[Conv(3, 8, Stride = 2, Padding = 1)] [BatchNorm] [ReLU]
[Dense(10)] [BatchNorm] [ReLU] [Dropout(0.3f)]
[Dense(5)] [Softmax]
public partial class CrossNetE { }

// Non-square maps; BatchNorm after a max pool, after an average pool and after a dense layer's activation (none
// folded), one after a conv (folded); ends in logits. Evaluation and training mode.
[Input(2, 11, 7)]
[Conv(3, 6, Padding = 1)] [ReLU] [MaxPool(2)] [BatchNorm]
[Conv(2, 5)] [BatchNorm] [ELU(0.7f)]
[AvgPool(2, Stride = 1)] [BatchNorm]
[Dense(8)] [Tanh] [BatchNorm] [Dense(4)]
public partial class CrossNetF { }

// A BatchNorm right after the first layer, a stride-2 padded conv, and one right after a dense layer (both folded
// in evaluation); Softmax. Evaluation and training mode.
[Input(3, 6, 5)]
[Conv(3, 4, Stride = 2, Padding = 1)] [BatchNorm] [LeakyReLU(0.1f)]
[Dense(6)] [BatchNorm] [ReLU] [Dense(3)] [Softmax]
public partial class CrossNetG { }

// Residual (ResNet): conv-BatchNorm-ReLU, a block conv-BatchNorm-ReLU-conv-BatchNorm whose output is added to the
// first ReLU's, ReLU, max pool; a conv to another width, the same block again on non-square maps; a dense head and
// Softmax. Every BatchNorm follows a conv (folded in evaluation). Evaluation and training mode.
[Input(3, 9, 7)]
[Conv(3, 4, Padding = 1)] [BatchNorm] [ReLU]
[Conv(3, 4, Padding = 1)] [BatchNorm] [ReLU] [Conv(3, 4, Padding = 1)] [BatchNorm] [Add("relu1")] [ReLU]
[MaxPool(2)]
[Conv(3, 6, Padding = 1)] [BatchNorm] [ReLU]
[Conv(3, 6, Padding = 1)] [BatchNorm] [ReLU] [Conv(3, 6, Padding = 1)] [BatchNorm] [Add("relu4")] [ReLU]
[Dense(8)] [ReLU] [Dense(4)] [Softmax]
public partial class CrossNetH { }

// Shortcuts without BatchNorm on non-square maps: a conv directly followed by a ReLU (which inference must then not
// fuse into it) as the source of two Adds; a source directly before its Add (y = 2x); an Add as a source; a
// shortcut over a dense layer (flat); ends in logits.
[Input(2, 7, 5)]
[Conv(3, 3, Padding = 1)] [ReLU]
[Conv(3, 3, Padding = 1)] [Add("conv1")]
[LeakyReLU(0.1f)] [Add("leakyrelu1")]
[Conv(1, 3)] [Add("conv1")] [Sigmoid] [Add("add1")]
[Conv(2, 4, Stride = 2, Padding = 1)] [ELU(0.5f)]
[Dense(6)] [Tanh] [Dense(6)] [Add("tanh1")]
[Dense(5)]
public partial class CrossNetI { }

// Dense connections (DenseNet) with BatchNorm on non-square maps: conv-BatchNorm-ReLU, a conv joined with the first
// ReLU's output, BatchNorm, ReLU, a conv joined with that ReLU's; a 1x1 "transition" conv and average pool; a conv
// directly followed by a ReLU (which inference must then not fuse into it) as a source; a conv-BatchNorm-ReLU whose
// BatchNorm (folded in evaluation, its ReLU then not fused) is a source; a BatchNorm joined with itself (the source
// directly before the Concat, y = [x, x]); a flat Concat after a dense layer; Softmax. Evaluation and training mode.
[Input(3, 8, 6)]
[Conv(3, 4, Padding = 1)] [BatchNorm] [ReLU]
[Conv(3, 3, Padding = 1)] [Concat("relu1")] [BatchNorm] [ReLU]
[Conv(3, 3, Padding = 1)] [Concat("relu2")]
[Conv(1, 5)] [AvgPool(2)]
[Conv(3, 4, Padding = 1)] [ReLU]
[Conv(3, 3, Padding = 1)] [BatchNorm] [ReLU] [Concat("conv5")]
[Concat("bn3")] [BatchNorm] [Concat("bn4")]
[Dense(6)] [BatchNorm] [Tanh] [Dense(4)] [Concat("tanh1")]
[Dense(3)] [Softmax]
public partial class CrossNetJ { }

// 3x3 padding-1 convolutions of 16 to 32 channels on maps of at most 16x16, which training runs through Winograd
// F(4x4, 3x3) (forward and input gradient), on maps whose tiles the edges cut (10x9, then 5x4): with BatchNorm, a
// shortcut over two of them, filters not a multiple of 32 (16, 20) and whole panels of 32; ends in logits.
// Evaluation and training mode.
[Input(3, 10, 9)]
[Conv(3, 16, Padding = 1)] [BatchNorm] [ReLU]
[Conv(3, 16, Padding = 1)] [BatchNorm] [ReLU]
[Conv(3, 16, Padding = 1)] [BatchNorm] [Add("relu1")] [ReLU]
[Conv(3, 20, Padding = 1)] [ReLU]
[MaxPool(2)]
[Conv(3, 32, Padding = 1)] [ReLU]
[Conv(3, 32, Padding = 1)] [BatchNorm] [ReLU]
[Dense(5)]
public partial class CrossNetK { }

// The same kind of layers on a map of 4x4 whole or cut tiles (14x13), where the weight gradient runs through Winograd
// too; ends in logits. Evaluation and training mode.
[Input(3, 14, 13)]
[Conv(3, 16, Padding = 1)] [BatchNorm] [ReLU]
[Conv(3, 16, Padding = 1)] [BatchNorm] [ReLU]
[Conv(3, 20, Padding = 1)] [ReLU]
[MaxPool(2)]
[Dense(4)]
public partial class CrossNetL { }
