namespace CnnGen.Tests.Concurrency;

// Networks whose layers are large enough for the generator to split one image over the threads, one of each path:
// im2col on rows wider than 32, depthwise, pointwise, stride 2 (each product with more than one range of 32 filters),
// direct on rows of 17 to 32 and of at most 16, BatchNorm folded (with and without a ReLU fused after it), a shortcut,
// a concatenation and a dense layer.

[Input(3, 40, 40)]
[Conv(3, 48, Padding = 1)] [BatchNorm] [ReLU]
[Conv(3, 48, Padding = 1, Groups = 48)] [BatchNorm] [ReLU6]
[Conv(1, 72)]
[Conv(3, 40, Stride = 2, Padding = 1)] [BatchNorm] [ReLU]
[Conv(3, 40, Padding = 1)] [BatchNorm] [ReLU]
[Conv(3, 40, Padding = 1)] [BatchNorm] [Add("relu2")] [ReLU]
[MaxPool(2)]
[Conv(3, 40, Padding = 1)] [ReLU] [Concat("pool1")]
[Dense(300)] [ReLU] [Dense(10)] [Softmax]
public partial class SplitImageNet { }

// Odd filter counts that leave a short last block in every range, a dilated im2col convolution, grouped (not
// depthwise) channels and logits without a softmax.
[Input(5, 34, 34)]
[Conv(3, 45, Padding = 2, Dilation = 2)] [Tanh]
[Conv(3, 27, Padding = 1, Groups = 3)] [ReLU]
[Conv(3, 37, Padding = 1, Stride = 2)] [ReLU]
[Conv(5, 11, Padding = 2)] [ReLU]
[Dense(257)]
public partial class SplitOddNet { }

// A Winograd layer split by tiles (a map wider than 32 with 64 channels and filters: 81 tiles of 4x4), with a fused
// ReLU, then direct convolutions on 9x9 and 7x7 maps (a folded BatchNorm; no padding) and a dense layer.
[Input(64, 36, 36)]
[Conv(3, 64, Padding = 1)] [ReLU]
[MaxPool(4)] [Conv(3, 48, Padding = 1, Bias = false)] [BatchNorm] [ReLU]
[Conv(3, 40)] [Tanh]
[Dense(10)]
public partial class SplitWinogradNet { }

// Layers without weights large enough (32,768 values per image and up) to be split by ranges of values or channels: a
// ReLU6 after a pointwise convolution, a 3x3 max pool with padding (by channels), two shortcut sums each with the ReLU
// it feeds (one fused pass in inference), an average pool, a join, a 2x2 max pool, a LeakyReLU and a global average
// pool. No layer runs as Winograd (the second block convolution is 5x5 for that), so inference and the unfused pass
// give the same bits when nothing is folded.
[Input(8, 64, 64)]
[Conv(1, 16)] [ReLU6]
[MaxPool(3, Stride = 2, Padding = 1)]
[Conv(3, 32, Padding = 1)] [BatchNorm] [ReLU(Name = "block_in")]
[Conv(5, 32, Padding = 2)] [BatchNorm] [Add("block_in")] [ReLU(Name = "block_out")]
[AvgPool(3, Stride = 1, Padding = 1)] [Concat("block_out")]
[MaxPool(2)] [Conv(1, 128)] [LeakyReLU(0.1f, Name = "wide")]
[Conv(1, 128)] [Add("wide")] [ReLU]
[GlobalAvgPool] [Dense(10)]
public partial class SplitElementwiseNet { }

// Winograd layers on 8x8 and 6x6 maps (4 tiles per image) split by ranges of 32 filters: 64 filters with a fused ReLU,
// 96 with a folded BatchNorm and a fused ReLU, 64 without padding; then a dense layer.
[Input(32, 8, 8)]
[Conv(3, 64, Padding = 1)] [ReLU]
[Conv(3, 96, Padding = 1, Bias = false)] [BatchNorm] [ReLU]
[Conv(3, 64)]
[Dense(10)]
public partial class SplitWinogradFiltersNet { }

// Winograd layers of few tiles and one panel of 32 filters, split by their 36 points, then by tiles: DenseNet-121's 3x3
// layers at 7x7 (128 -> 32, 4 tiles, the last row and column of tiles cut by the edge; a folded BatchNorm and a fused
// ReLU), then 96 -> 32 without a ReLU.
[Input(128, 7, 7)]
[Conv(3, 32, Padding = 1, Bias = false)] [BatchNorm] [ReLU]
[Conv(1, 96)] [ReLU]
[Conv(3, 32, Padding = 1)]
[Dense(10)]
public partial class SplitWinogradPointsNet { }

// Winograd layers of few tiles whose filters are not whole panels of 32: GoogLeNet's inception 4a 3x3 (96 -> 208 at 14x14,
// a folded BatchNorm, a fused ReLU and the max pool after it), copied channel-last first, split by ranges of panels of 32
// filters, the last range ending with the panel of 16; then 64 -> 48 at 7x7, fewer than 64 filters (its transformed
// weights keep their rows), split by ranges of 16 filters that read them in place, each range laying out its own input.
[Input(96, 14, 14)]
[Conv(3, 208, Padding = 1, Bias = false)] [BatchNorm] [ReLU] [MaxPool(2)]
[Conv(1, 64)] [ReLU]
[Conv(3, 48, Padding = 1)] [ReLU]
[Dense(10)]
public partial class SplitWinogradNarrowPanelNet { }

// 1x1 products of fewer than 256 positions split by ranges of 8 filters: GoogLeNet's reductions at 14x14, here 120 -> 20
// (ranges of 8, 8 and 4 filters, a folded BatchNorm and a fused ReLU), then 20 -> 96 (12 blocks: ranges of 3 blocks on two
// threads, of 2 on three).
[Input(120, 14, 14)]
[Conv(1, 20, Bias = false)] [BatchNorm] [ReLU]
[Conv(1, 96)] [ReLU]
[Dense(10)]
public partial class SplitFilterRowsNet { }

// Direct convolutions split by ranges of output rows (their rows make more blocks than their filters): 16 filters on
// 31-wide rows (a folded BatchNorm and a fused ReLU), 12 filters from 16 channels, and 48 filters on a 15 x 15 map, whose
// odd last row is a block of its own (rows of at most 16 are computed in pairs).
[Input(3, 31, 31)]
[Conv(3, 16, Padding = 1)] [BatchNorm] [ReLU]
[Conv(3, 12, Padding = 1)] [ReLU]
[MaxPool(2)] [Conv(3, 48, Padding = 1)] [Tanh]
[Dense(10)]
public partial class SplitRowsNet { }

// Winograd layers on a 16 x 16 map (16 tiles) with small transformed weights, split by tiles: 16 -> 32 with a folded
// BatchNorm and a fused ReLU, 32 -> 32 with a folded BatchNorm before a shortcut, 32 -> 64 with a fused ReLU.
[Input(16, 16, 16)]
[Conv(3, 32, Padding = 1)] [BatchNorm] [ReLU]
[Conv(3, 32, Padding = 1, Bias = false)] [BatchNorm] [Add("relu1")] [ReLU]
[Conv(3, 64, Padding = 1)] [ReLU]
[Dense(10)]
public partial class SplitSixteenTilesNet { }

// Depthwise layers that read their input in place, split by channels: 3x3 stride 1 (with a ReLU6 fused) and stride 2
// (with a BatchNorm folded in and a ReLU6 after it: 64 x 24 x 24 x 9 = 331,776 multiply-adds), then a pointwise product
// of 576 positions split by columns.
[Input(64, 48, 48)]
[Conv(3, 64, Padding = 1, Groups = 64)] [ReLU6]
[Conv(3, 64, Stride = 2, Padding = 1, Groups = 64, Bias = false)] [BatchNorm] [ReLU6]
[Conv(1, 40)] [ReLU]
[GlobalAvgPool] [Dense(10)]
public partial class SplitDepthwiseNet { }

// Stems run in blocks of output rows, split by ranges of blocks, each thread laying out its blocks' columns in a scratch
// of its own: a 7x7 stride-2 convolution (147 x 2,500 columns, 1.4 MiB) with a folded BatchNorm and a fused ReLU,
// multiplied with the filters in the vector lanes when folded, 25 blocks of 2 rows of 50.
[Input(3, 100, 100)]
[Conv(7, 32, Stride = 2, Padding = 3, Bias = false)] [BatchNorm] [ReLU]
[MaxPool(2)]
[Dense(10)]
public partial class SplitStemNet { }

// A 3x3 stride-1 convolution on 3 channels (27 x 10,000 columns, 1.1 MB), 24 filters: blocks of 2 rows of 100 through
// the matrix product, a ReLU fused.
[Input(3, 100, 100)]
[Conv(3, 24, Padding = 1)] [ReLU]
[MaxPool(4)]
[Dense(10)]
public partial class SplitBlocksNet { }

// Shortcut sums computed by the ranges of the convolution before them in a split pass of one image: Winograd layers on
// an 8x8 map split by filters, one with a folded BatchNorm before its sum and the ReLU after it, one summing its own
// output (no BatchNorm, no ReLU); then a direct 3-channel convolution split by rows (after a 1x1 to 3 channels) whose
// sum reads two earlier outputs.
[Input(32, 8, 8)]
[Conv(3, 64, Padding = 1)] [BatchNorm] [ReLU]
[Conv(3, 64, Padding = 1, Bias = false)] [BatchNorm] [Add("relu1")] [ReLU]
[Conv(3, 64, Padding = 1)] [Add("relu2")]
[Conv(1, 3)]
[Conv(7, 64, Padding = 3)] [Add("add1", "add2")] [ReLU]
[Dense(10)]
public partial class SplitSumsNet { }

// Pools computed by the ranges that computed the shortcut's sum before them, in a split pass of one image: a 2x2 max
// pool after a direct layer split by rows (32 wide, so its ranges are cut at even rows for the pool), after a 16x16
// Winograd layer split by rows of tiles, and an average over each whole 8x8 plane after a Winograd layer split by filters.
[Input(16, 32, 32)]
[Conv(3, 16, Padding = 1)] [BatchNorm] [ReLU]
[Conv(3, 16, Padding = 1)] [BatchNorm] [Add("relu1")] [ReLU]
[MaxPool(2)]
[Conv(3, 32, Padding = 1)] [BatchNorm] [ReLU]
[Conv(3, 32, Padding = 1)] [BatchNorm] [Add("relu3")] [ReLU]
[MaxPool(2)]
[Conv(3, 64, Padding = 1)] [BatchNorm] [ReLU]
[Conv(3, 64, Padding = 1)] [BatchNorm] [Add("relu5")] [ReLU]
[AvgPool(8)]
[Dense(10)]
public partial class SplitPoolsNet { }

// Pools of any window after Winograd layers split by filters, whose ranges pool whole planes: a 3x3 max pool at stride
// 1 with padding, and a global average pool after a sum whose source is that pool's output.
[Input(64, 8, 8)]
[Conv(3, 64, Padding = 1)] [ReLU]
[Conv(3, 64, Padding = 1)] [Add("relu1")] [ReLU]
[MaxPool(3, Stride = 1, Padding = 1)]
[Conv(3, 64, Padding = 1)] [Add("pool1")] [ReLU]
[GlobalAvgPool] [Dense(10)]
public partial class SplitChannelPoolsNet { }

// Bands of rows (one image's split pass runs consecutive direct convolutions split by rows as one job, each thread
// computing again the rows the next layers read beyond its own): conv1 to conv5 with their BatchNorms folded, a 5x5
// layer among them and two shortcut sums, the last one's ranges also pooling.
[Input(3, 32, 32)]
[Conv(3, 16, Padding = 1)] [BatchNorm] [ReLU]
[Conv(3, 16, Padding = 1)] [BatchNorm] [ReLU] [Conv(3, 16, Padding = 1)] [BatchNorm] [Add("relu1")] [ReLU]
[Conv(5, 16, Padding = 2)] [BatchNorm] [ReLU] [Conv(3, 16, Padding = 1)] [BatchNorm] [Add("relu3")] [ReLU]
[MaxPool(2)]
[Dense(10)]
public partial class SplitBandsNet { }

// A band without BatchNorm: conv2 and conv3 only, since the sum after conv3 reads relu1, which a thread's own copy in
// a band of conv1 to conv3 would hold only in part.
[Input(8, 28, 28)]
[Conv(3, 16, Padding = 1)] [ReLU] [Conv(3, 16, Padding = 1)] [ReLU] [Conv(3, 16, Padding = 1)] [ReLU] [Add("relu1")]
[Dense(10)]
public partial class SplitBandEndNet { }

// BatchNorms no convolution takes in, split by ranges of channels (DenseNet's normalisations of its joined maps): one
// after a ReLU with the ReLU after it fused (24 x 40 x 40 values), one after a join read by a convolution with no ReLU
// between, and one after a join with its ReLU fused; then a DenseNet transition, a 1x1 convolution whose 2x2 average pool
// averages its input first, split by rows of the averaged map. The joins themselves are split by values.
[Input(8, 40, 40)]
[Conv(3, 24, Padding = 1, Name = "stem")] [ReLU(Name = "stem_relu")]
[BatchNorm] [ReLU] [Conv(1, 32, Bias = false)] [BatchNorm] [ReLU] [Conv(3, 16, Padding = 1, Bias = false, Name = "grow1")]
[Concat("grow1", From = "stem_relu", Name = "cat1")]
[BatchNorm] [Conv(3, 16, Padding = 1, Name = "grow2")]
[Concat("grow2", From = "cat1", Name = "cat2")]
[BatchNorm] [ReLU] [Conv(1, 32, Bias = false)] [AvgPool(2)]
[GlobalAvgPool] [Dense(10)]
public partial class SplitNormsNet { }
