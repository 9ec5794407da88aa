namespace CnnGen.Generator.Model;

/// <summary>Shape of a tensor flowing between layers, per image: C x H x W (a dense output is C x 1 x 1).</summary>
internal readonly record struct Shape(int Channels, int Height, int Width)
{
    public long Length => (long)Channels * Height * Width;
    public override string ToString() => $"{Channels}x{Height}x{Width}";
}

/// <summary>A checked layer with everything computed at compile time: what it computes (<see cref="Op"/>, a record per
/// kind), where its input comes from (<see cref="InputIndex"/>, and a join's sources in its op), and how inference runs
/// it (the fusion and folding decisions, made once by the analysis; emitters only read them).</summary>
/// <param name="Index">0-based position among the layers.</param>
/// <param name="InputIndex">The layer whose output this layer reads; -1 for the network input.</param>
/// <param name="ParameterOffset">Start of this layer's weight in the parameter buffer (its bias follows the weight).</param>
internal sealed record LayerSpec(
    int Index,
    LayerKind Kind,
    string Name,
    LayerOp Op,
    int InputIndex,
    Shape Input,
    Shape Output,
    bool InputIsFlat,
    int ReceptiveFieldHeight,
    int ReceptiveFieldWidth,
    int EffectiveStride,
    int EffectivePadding,
    long Parameters,
    long Macs,
    int ParameterOffset)
{
    /// <summary>Start of a BatchNorm's running mean in the state buffer (running variance and batch count follow).</summary>
    public int StateOffset { get; init; }

    /// <summary>Declared with <c>Frozen = true</c>.</summary>
    public bool Frozen { get; init; }

    /// <summary>A layer other than the next one reads this layer's output (a join, or a layer declared with <c>From</c>), so
    /// inference must write it: no fusion or folding may skip it.</summary>
    public bool OutputReadElsewhere { get; init; }

    /// <summary>For a convolution: inference uses the direct kernel (no im2col), or Winograd's when <see cref="WinogradInference"/>;
    /// either can apply a ReLU as it stores.</summary>
    public bool DirectInference { get; init; }

    /// <summary>For a depthwise convolution that inference runs directly: 3x3, padding 1, stride 1 or 2, so the runtime's
    /// <c>Depthwise3x3</c> or <c>Depthwise3x3Stride2</c> kernel, which reads the input in place, instead of
    /// <c>DepthwiseConv</c>'s padded copy of each channel (no scratch plane). Same bits.</summary>
    public bool DepthwiseInPlace { get; init; }

    /// <summary>For a direct convolution of 16 filters on narrow rows: inference runs it with the filters in the vector lanes
    /// (<c>DirectFilterVector</c>, <see cref="Analysis.FilterVectorChoice"/>), all images of the call at once; the bits of
    /// the direct kernel.</summary>
    public bool FilterVectorInference { get; init; }

    /// <summary>For a convolution: inference runs it as Winograd F(4x4, 3x3) over the micro-batch's images at once.</summary>
    public bool WinogradInference { get; init; }

    /// <summary>For a Winograd convolution: the fewest images per call that run Winograd; fewer run im2col + GEMM (which
    /// also applies the fused ReLU). 1 when Winograd always runs.</summary>
    public int WinogradFromImages { get; init; } = 1;

    /// <summary>For a convolution that inference runs as im2col + product: output rows per block of columns laid out and
    /// multiplied at once (<see cref="Analysis.Im2ColBlocking"/>); 0 for the whole image's columns and one product.</summary>
    public int Im2ColBlockRows { get; init; }

    /// <summary>For a stride-2 convolution that inference runs directly from its input rows split into even and odd columns
    /// (<c>StrideTwoConv</c>, <see cref="Analysis.StrideTwoChoice"/>): output rows per block; 0 when it does not. Same bits
    /// as im2col + product.</summary>
    public int StrideTwoBlockRows { get; init; }

    /// <summary>For a convolution that inference runs as im2col + product with its BatchNorm folded in: the product runs with
    /// the filters in the vector lanes (<c>FilterLanes</c>, <see cref="Analysis.FilterLanesChoice"/>) from the folded weights
    /// laid out once per fold; the bits of the packed product it replaces.</summary>
    public bool FilterLanesInference { get; init; }

    /// <summary>For a convolution whose inference product has the filters in the vector lanes (<see cref="FilterLanesInference"/>):
    /// the product reads its taps straight from the (padded) input instead of from im2col columns (<c>DirectFilterLanes</c>,
    /// <see cref="Analysis.FilterLanesChoice.ReadsInput"/>); the same bits.</summary>
    public bool FilterLanesFromInput { get; init; }

    /// <summary>For a convolution that inference runs in blocks of output rows (<see cref="Im2ColBlockRows"/>) with its
    /// BatchNorm folded in: each block's product runs with the filters in the vector lanes (<c>Im2ColBlocks.ForwardLanes</c>,
    /// <see cref="Analysis.FilterLanesChoice.PicksBlocks"/>) from the folded weights laid out once per fold; the same bits.</summary>
    public bool Im2ColBlockLanes { get; init; }

    /// <summary>For a convolution: training's forward pass runs the direct kernel instead of im2col + GEMM, with the same
    /// bits, and the backward pass rebuilds the columns of the weight gradient (<see cref="Analysis.TrainingKernels"/>).</summary>
    public bool DirectTraining { get; init; }

    /// <summary>For a convolution: the backward pass computes the input gradient as a full convolution by the direct
    /// kernel instead of the column gradient's product and col2im (<see cref="Analysis.TrainingKernels"/>).</summary>
    public bool DirectInputGradient { get; init; }

    /// <summary>For a convolution: training's forward pass runs Winograd F(4x4, 3x3) over the micro-batch (<c>Winograd3x3</c>)
    /// from the weights transformed once per gradient call, within rounding of im2col + GEMM, and the backward pass
    /// rebuilds the columns of the weight gradient (<see cref="Analysis.TrainingKernels"/>).</summary>
    public bool WinogradTraining { get; init; }

    /// <summary>For a convolution: the backward pass computes the input gradient as the full convolution through Winograd
    /// F(4x4, 3x3) (<c>WinogradInputGradient</c>), from the flipped weights transformed once per gradient call
    /// (<see cref="Analysis.TrainingKernels"/>).</summary>
    public bool WinogradInputGradient { get; init; }

    /// <summary>For a convolution: the backward pass computes the weight gradient through Winograd F(4x4, 3x3)
    /// (<c>WinogradWeightGradient</c>) over the call's images, instead of the direct kernel or rebuilt columns
    /// (<see cref="Analysis.TrainingKernels"/>).</summary>
    public bool WinogradWeightGradient { get; init; }

    /// <summary>For a convolution: the backward pass computes the weight gradient directly from the zero-padded input images
    /// (<c>DirectWeightGradient</c>) instead of rebuilding im2col columns for the column product, over the same groups of
    /// images, with the same bits (<see cref="Analysis.TrainingKernels"/>).</summary>
    public bool DirectWeightGradient { get; init; }

    /// <summary>For a convolution whose following BatchNorm is folded into it for inference: that BatchNorm's index; -1 otherwise.</summary>
    public int FoldedBatchNorm { get; init; } = -1;

    /// <summary>Where the folded weights start in the folded buffer (the folded bias follows); -1 when nothing is folded.</summary>
    public int FoldOffset { get; init; } = -1;

    /// <summary>For a convolution, a shortcut's sum (Add) or a BatchNorm not folded into a convolution: the ReLU whose output it writes in inference (applying it as it stores); -1 for none.
    /// With <see cref="FusedReluNeedsFold"/> only when its BatchNorm is folded in (the ReLU follows that BatchNorm).</summary>
    public int FusedRelu { get; init; } = -1;

    public bool FusedReluNeedsFold { get; init; }

    /// <summary>For a convolution run through Winograd in inference: the 2x2 stride-2 max pool after it (after its fused ReLU,
    /// if any) whose output it writes in inference, each 4x4 tile's four maxima as the tile is stored (<c>pool2x2</c>);
    /// -1 for none (<see cref="Analysis.Fusion"/>).</summary>
    public int FusedPool { get; init; } = -1;

    /// <summary>For a max pool: the convolution that writes its output in inference (see <see cref="FusedPool"/>); -1 when
    /// it runs itself.</summary>
    public int PooledBy { get; init; } = -1;

    /// <summary>For a 1x1 convolution: the 2x2 stride-2 average pool that alone reads it, whose output it writes in
    /// inference by averaging its own input first and multiplying a quarter of the positions (<see cref="Analysis.Fusion"/>);
    /// -1 for none.</summary>
    public int PoolsInputFor { get; init; } = -1;

    /// <summary>For an average pool: the 1x1 convolution that writes its output in inference (see
    /// <see cref="PoolsInputFor"/>); -1 when it runs itself.</summary>
    public int InputPooledBy { get; init; } = -1;

    /// <summary>For a 1x1 convolution: the BatchNorm before it (with the ReLU between them) whose scale and shift and ReLU
    /// it applies to that BatchNorm's input as it reads it in inference (<c>NormReluProduct</c>), so that neither writes
    /// its output (<see cref="Analysis.Fusion"/>); -1 for none.</summary>
    public int NormalizedInput { get; init; } = -1;

    /// <summary>For a BatchNorm: the 1x1 convolution that applies it (see <see cref="NormalizedInput"/>); in inference
    /// this layer then computes its scale and shift only. -1 when it applies them itself.</summary>
    public int NormalizedBy { get; init; } = -1;

    /// <summary>For a max pool: the ReLU right before it whose backward pass its own applies, routing the gradient only to
    /// winners above zero and writing the gradient of the ReLU's input (<c>MaxPoolReluBackward</c>); -1 for none.</summary>
    public int ReluMaskedInBackward { get; init; } = -1;

    /// <summary>For a ReLU: the layer whose backward pass applies this layer's, which then is not run; -1 when it runs
    /// itself. The max pool after it (see <see cref="ReluMaskedInBackward"/>): this layer's output gradient is not kept.
    /// Or the BatchNorm or shortcut's sum before it (see <see cref="ReluBackwardBeforeOwn"/>): that layer's output
    /// gradient is not kept.</summary>
    public int BackwardAppliedBy { get; init; } = -1;

    /// <summary>For a BatchNorm or a shortcut's sum (Add) that applies the ReLU after it as it stores in a gradient pass
    /// (<see cref="GradientPassRelu"/>): that ReLU, whose backward pass this layer's applies first, masking the ReLU's
    /// output gradient in place into its own (<c>BatchNorm.MaskAndAddGradientSums</c>, <c>Activations.ReluBackward</c>);
    /// -1 for none.</summary>
    public int ReluBackwardBeforeOwn { get; init; } = -1;

    /// <summary>For a shortcut's sum (Add) that does the backward pass of the ReLU after it (<see cref="ReluBackwardBeforeOwn"/>):
    /// the later sum whose shortcut reads that ReLU, whose output gradient (the shortcut's share of the ReLU's) this
    /// layer adds as it masks the ReLU's gradient, in one pass (<c>Activations.ReluBackwardAddingShare</c>), instead of the
    /// share being added first on its own; -1 for none.</summary>
    public int ReluBackwardAddsShareOf { get; init; } = -1;

    /// <summary>For the main input of a shortcut's sum (Add) that alone reads it: that sum, whose output gradient buffer
    /// holds this layer's output gradient too (a sum's <c>dx = dy</c>, so its backward copies nothing); -1 when the layer
    /// keeps a gradient of its own.</summary>
    public int GradientBufferOf { get; init; } = -1;

    /// <summary>For a 1x1 expansion: the depthwise convolution after it that computes it in inference, a band of output rows
    /// at a time (<c>ExpandDepthwise</c>), when the BatchNorm is folded (a split pass: each thread its range of rows); -1 for none.</summary>
    public int ExpandedBy { get; init; } = -1;

    /// <summary>For a depthwise convolution: the 1x1 expansion it computes first in inference (see <see cref="ExpandedBy"/>); -1 for none.</summary>
    public int Expansion { get; init; } = -1;

    /// <summary>For a depthwise convolution with an <see cref="Expansion"/>: output rows per band.</summary>
    public int ExpansionBand { get; init; }

    /// <summary>For a depthwise convolution with an <see cref="Expansion"/>: the expansion's input channels.</summary>
    public int ExpansionInputChannels { get; init; }

    /// <summary>For a depthwise convolution with an <see cref="Expansion"/>: the two layers run as one only on machines that
    /// expand straight into the depthwise kernel's channel-last rows (<c>ExpandDepthwise.ChannelLast</c>), else as before.</summary>
    public bool ExpansionChannelLastOnly { get; init; }

    /// <summary>For a stride-2 convolution of few input channels (a stem: <see cref="StrideTwoBlockRows"/>) with its
    /// BatchNorm folded and its ReLU fused: the 3x3 depthwise convolution after it that it computes too in inference, a band
    /// of rows at a time (<c>StemDepthwise</c>), where the BatchNorms are folded and the machine runs that kernel; -1 for
    /// none.</summary>
    public int StemDepthwise { get; init; } = -1;

    /// <summary>For a convolution with a <see cref="StemDepthwise"/>: the depthwise convolution's output rows per band.</summary>
    public int StemBand { get; init; }

    /// <summary>For a convolution with a <see cref="StemDepthwise"/>: the 1x1 convolution after the depthwise one (its
    /// BatchNorm folded, no activation) that it computes too, on each band; -1 for none.</summary>
    public int StemProjection { get; init; } = -1;

    /// <summary>For a depthwise convolution or a 1x1 projection after it: the stem that computes it in inference (see
    /// <see cref="StemDepthwise"/>); -1 for none.</summary>
    public int ComputedByStem { get; init; } = -1;

    /// <summary>For a BatchNorm or ReLU: the convolution (or, for a ReLU, the Add) that writes this layer's output in inference; -1 when it runs itself.</summary>
    public int InferredBy { get; init; } = -1;

    /// <summary>The convolution writes this output only when BatchNorms are folded (<c>ws.Folded</c>), else the layer runs.</summary>
    public bool InferredOnlyWhenFolded { get; init; }

    /// <summary>For a BatchNorm, a shortcut's sum (Add) or a convolution on the direct or Winograd training kernel: the
    /// ReLU, its output's sole reader, that it applies as it stores in a gradient pass, writing that ReLU's output
    /// instead of its own; -1 for none.</summary>
    public int GradientPassRelu { get; init; } = -1;

    /// <summary>For a ReLU: the BatchNorm, sum or convolution that writes this layer's output in a gradient pass (see
    /// <see cref="GradientPassRelu"/>); -1 when it runs itself.</summary>
    public int GradientPassAppliedBy { get; init; } = -1;

    /// <summary>The name as it appears in generated member names (<c>_act_layer1_0_conv1</c>): dots become underscores. The
    /// analysis checks that no two layers get the same one.</summary>
    public string Id => ToId(Name);

    public static string ToId(string name) => name.Replace('.', '_');

    /// <summary>Values per image in one channel: what a BatchNorm averages over besides the batch.</summary>
    public int Spatial => Input.Height * Input.Width;

    /// <summary>For Add and Concat: what is joined to the input.</summary>
    public JoinOp? Join => Op as JoinOp;

    public int WeightLength => Op switch
    {
        ConvOp c => c.Filters * (Input.Channels / c.Groups) * c.Kernel * c.Kernel,
        DenseOp d => d.Units * (int)Input.Length,
        BatchNormOp b => b.Channels,
        _ => 0,
    };

    /// <summary>Values of the learned bias: one per output channel, or none for a Conv or Dense layer without one.</summary>
    public int BiasLength => Op switch
    {
        ConvOp c => c.Bias ? c.Filters : 0,
        DenseOp d => d.Bias ? d.Units : 0,
        BatchNormOp b => b.Channels,
        _ => 0,
    };

    /// <summary>Output channels of a layer with a weight, learned bias or not: the length of the bias its kernels add (zeros
    /// when it learns none) and of the bias a folded BatchNorm gives it.</summary>
    public int BiasSlots => Op switch
    {
        ConvOp c => c.Filters,
        DenseOp d => d.Units,
        BatchNormOp b => b.Channels,
        _ => 0,
    };
}
