using System.Linq;
using System.Collections.Generic;
using CnnGen.Generator.Model;

namespace CnnGen.Generator.Analysis;

/// <summary>
/// Decides, once, how inference runs the checked layers, and records it in them; the emitters only read the decisions:
/// which convolutions use the direct kernel (or Winograd's, <see cref="WinogradChoice"/>), which BatchNorm is folded into the convolution before it (and where its
/// folded copy lives), which ReLU a convolution applies as it stores its output, which 2x2 max pool a Winograd
/// convolution takes as it stores its tiles (<c>FusePools</c>), and which BatchNorm and ReLU a 1x1 convolution applies to
/// its input as it reads it (<c>NormalizeProductInputs</c>). A layer's output that another layer
/// than the next one reads is always written as itself, so nothing is fused or folded across it. Last, which large 1x1
/// expansions the depthwise convolution after them computes (<see cref="ExpansionFusion"/>). Which products of few output
/// positions run with the filters in the vector lanes (<see cref="FilterLanesChoice"/>) is decided once the folds are;
/// which direct convolutions of 16 filters do (<see cref="FilterVectorChoice"/>), with the kernel choice.
/// </summary>
internal static class Fusion
{
    public static void Decide(List<LayerSpec> layers, bool endsWithSoftmax)
    {
        MarkOutputsReadElsewhere(layers);
        for (int k = 0; k < layers.Count; k++)
            if (layers[k].Op is ConvOp conv)
            {
                bool winograd = WinogradChoice.Picks(conv, layers[k].Input, layers[k].Output);
                bool direct = conv.Groups == 1 ? winograd || UsesDirectKernel(conv, layers[k].Output) : IsDepthwise(conv, layers[k].Input);
                int fromImages = winograd ? WinogradChoice.FromImages(conv, layers[k].Input, layers[k].Output) : 1;
                int strideTwoRows = StrideTwoChoice.RowsPerBlock(layers[k]);
                layers[k] = layers[k] with
                {
                    DirectInference = direct,
                    DepthwiseInPlace = direct && conv.Groups > 1 && ReadsInPlace(conv),
                    WinogradInference = winograd,
                    WinogradFromImages = fromImages,
                    // im2col runs in inference unless the direct, Winograd or stride-2 kernel always takes the layer.
                    Im2ColBlockRows = direct && fromImages == 1 || strideTwoRows > 0 ? 0 : Im2ColBlocking.RowsPerBlock(layers[k]),
                    StrideTwoBlockRows = strideTwoRows,
                };
                layers[k] = layers[k] with { FilterVectorInference = FilterVectorChoice.Picks(layers[k]) };
            }
        FoldBatchNorms(layers);
        for (int k = 0; k < layers.Count; k++)
        {
            if (FilterLanesChoice.Picks(layers[k])) layers[k] = layers[k] with { FilterLanesInference = true, FilterLanesFromInput = FilterLanesChoice.ReadsInput(layers[k]) };
            else if (FilterLanesChoice.PicksBlocks(layers[k])) layers[k] = layers[k] with { Im2ColBlockLanes = true };
        }
        FuseRelus(layers);
        FusePools(layers);
        FuseAddRelus(layers);
        PoolInputsFirst(layers);
        NormalizeProductInputs(layers);
        FuseGradientPassRelus(layers);
        FusePoolReluBackwards(layers);
        FuseReluBackwardsIntoWriters(layers);
        ShareSumInputGradients(layers);
        AddShortcutSharesInReluMasks(layers, endsWithSoftmax);
        ExpansionFusion.Decide(layers);
        StemFusion.Decide(layers);
    }

    /// <summary>Direct convolution (no im2col) in inference for stride 1, no dilation and output rows up to 32 wide, except a 1x1 kernel
    /// without padding, which needs no im2col anyway; it gives the same bits as im2col + GEMM.</summary>
    private static bool UsesDirectKernel(ConvOp conv, Shape output) =>
        conv.Stride == 1 && conv.Dilation == 1 && output.Width <= 32 && !(conv.Kernel == 1 && conv.Padding == 0);

    /// <summary>A depthwise convolution (one filter per channel, no dilation) runs the direct depthwise kernel in inference.</summary>
    private static bool IsDepthwise(ConvOp conv, Shape input) =>
        conv.Groups == input.Channels && conv.Groups == conv.Filters && conv.Dilation == 1;

    /// <summary>A direct depthwise convolution of 3x3, padding 1 and stride 1 or 2 reads its input in place
    /// (<c>Depthwise3x3</c>, <c>Depthwise3x3Stride2</c>): measured against the padded-copy kernel on MobileNetV2's layers
    /// (<c>Cnn.TrainProfile depthwise</c>, one thread, thread CPU time), stride 1: 0.14 against 0.24 ms at 32x112x112,
    /// 0.23 against 0.33 at 144x56x56, 0.046 against 0.078 at 384x14x14 and 0.05 against 0.09 at 960x7x7; stride 2:
    /// 0.244 against 0.290 ms at 96x112x112, 0.040 against 0.053 at 192x28x28 and 0.057 against 0.076 at 576x14x14.</summary>
    private static bool ReadsInPlace(ConvOp conv) => conv.Kernel == 3 && (conv.Stride == 1 || conv.Stride == 2) && conv.Padding == 1 && conv.Dilation == 1;

    private static void MarkOutputsReadElsewhere(List<LayerSpec> layers)
    {
        var readElsewhere = new HashSet<int>();
        foreach (var l in layers)
        {
            if (l.InputIndex >= 0 && l.InputIndex != l.Index - 1) readElsewhere.Add(l.InputIndex);
            if (l.Join is { } join)
                foreach (int source in join.Sources) readElsewhere.Add(source);
        }
        for (int k = 0; k < layers.Count; k++)
            if (readElsewhere.Contains(layers[k].Index)) layers[k] = layers[k] with { OutputReadElsewhere = true };
    }

    /// <summary>Where the layer of that index sits in the list (a layer rejected by a diagnostic has no spec); -1 if absent.</summary>
    internal static int PositionOf(List<LayerSpec> layers, int index)
    {
        for (int k = 0; k < layers.Count; k++)
            if (layers[k].Index == index) return k;
        return -1;
    }

    /// <summary>The layer right after <paramref name="k"/> when it reads <paramref name="k"/>'s output and nothing else does.</summary>
    internal static int SoleReader(List<LayerSpec> layers, int k) =>
        k >= 0 && k + 1 < layers.Count && !layers[k].OutputReadElsewhere && layers[k + 1].Index == layers[k].Index + 1
            && layers[k + 1].InputIndex == layers[k].Index ? k + 1 : -1;

    /// <summary>A BatchNorm directly after a convolution is folded into the convolution's weights for inference. Folding
    /// rescales every weight on each evaluation pass (the parameters may have changed), 1 / (output positions) of the
    /// convolution's work; after a dense layer it would cost as much as the layer, so there the BatchNorm runs as a
    /// per-unit scale and shift.</summary>
    private static void FoldBatchNorms(List<LayerSpec> layers)
    {
        int foldOffset = 0;
        for (int k = 0; k < layers.Count; k++)
        {
            int next = SoleReader(layers, k);
            if (layers[k].Kind != LayerKind.Conv || next < 0 || layers[next].Kind != LayerKind.BatchNorm) continue;
            layers[k] = layers[k] with { FoldedBatchNorm = layers[next].Index, FoldOffset = foldOffset };
            layers[next] = layers[next] with { InferredBy = layers[k].Index, InferredOnlyWhenFolded = true };
            foldOffset += layers[k].WeightLength + layers[k].BiasSlots; // a folded bias even where the convolution learns none
        }
    }

    /// <summary>A convolution followed by a ReLU applies it before storing, into the activation's output, in inference;
    /// so does one followed by a ReLU6, except on the direct and Winograd kernels (ReLU only). With a BatchNorm folded in
    /// between, it does so when the fold is in use (evaluation with <c>FoldBatchNorm</c>). Grouped convolutions other
    /// than depthwise ones fuse nothing.</summary>
    private static void FuseRelus(List<LayerSpec> layers)
    {
        for (int k = 0; k < layers.Count; k++)
        {
            if (layers[k].Op is not ConvOp conv || conv.Groups > 1 && !layers[k].DirectInference) continue;
            int next = SoleReader(layers, k);
            if (next < 0) continue;
            bool afterFold = layers[k].FoldedBatchNorm >= 0;
            int relu = afterFold ? SoleReader(layers, next) : next;
            bool relu6Fuses = conv.Groups > 1 || !layers[k].DirectInference;
            if (relu < 0 || !(layers[relu].Kind == LayerKind.ReLU || layers[relu].Kind == LayerKind.ReLU6 && relu6Fuses)) continue;
            layers[k] = layers[k] with { FusedRelu = layers[relu].Index, FusedReluNeedsFold = afterFold };
            layers[relu] = layers[relu] with { InferredBy = layers[k].Index, InferredOnlyWhenFolded = afterFold };
        }
    }

    /// <summary>
    /// A convolution that inference runs through Winograd F(4x4, 3x3), followed (after the ReLU it applies, if any) by a
    /// 2x2 stride-2 max pool without padding that alone reads it, writes the pool's output in inference: each 4x4 tile
    /// holds four whole windows, so the tile's maxima are taken as it is stored and the layer's own output (a quarter
    /// more stores, and the pool's pass over them) is never written. The maxima follow the pool's rule (the first maximum,
    /// or the last NaN, in window order): the same bits as the two layers. Not with a BatchNorm folded in (the fold is
    /// used only in some evaluation passes) nor for a layer that runs Winograd only from several images.
    /// </summary>
    private static void FusePools(List<LayerSpec> layers)
    {
        for (int k = 0; k < layers.Count; k++)
        {
            var conv = layers[k];
            if (!conv.WinogradInference || !conv.DirectInference || conv.WinogradFromImages > 1 || conv.FoldedBatchNorm >= 0 || conv.ExpandedBy >= 0) continue;
            int written = conv.FusedRelu >= 0 ? SoleReader(layers, k) : k;
            if (written < 0 || conv.FusedRelu >= 0 && layers[written].Index != conv.FusedRelu) continue;
            int pool = SoleReader(layers, written);
            if (pool < 0 || layers[pool].Kind != LayerKind.MaxPool || layers[pool].Op is not PoolOp { Size: 2, Stride: 2, Padding: 0 }) continue;
            var map = layers[written].Output;
            if (map.Height % 2 != 0 || map.Width % 2 != 0 || layers[pool].Output.Height * 2 != map.Height || layers[pool].Output.Width * 2 != map.Width) continue;
            layers[k] = conv with { FusedPool = layers[pool].Index };
            layers[pool] = layers[pool] with { PooledBy = conv.Index };
        }
    }

    /// <summary>
    /// In a gradient pass a BatchNorm or a sum followed by a ReLU that alone reads it writes the ReLU's output, applying it
    /// as it stores (the same bits as the ReLU's own pass), and the ReLU's forward method returns at once: one pass over
    /// the batch's maps fewer. Nothing else reads the BatchNorm's or the sum's own output then (a BatchNorm's backward
    /// reads its input, a sum's none), and the ReLU's backward takes its mask from its output: <c>max(x, 0) &gt; 0</c>
    /// exactly where <c>x &gt; 0</c>, NaN and -0 included. A pass that keeps every layer's output
    /// (<c>ws.WritesEveryOutput</c>: <c>Activations</c>) runs both layers.
    /// </summary>
    private static void FuseGradientPassRelus(List<LayerSpec> layers) =>
        ApplyReluInGradientPass(layers, l => l.Kind is LayerKind.BatchNorm or LayerKind.Add);

    /// <summary>Each layer <paramref name="writes"/> picks whose sole reader is a ReLU applies that ReLU as it stores in a
    /// gradient pass (<see cref="LayerSpec.GradientPassRelu"/>, <see cref="LayerSpec.GradientPassAppliedBy"/>).</summary>
    private static void ApplyReluInGradientPass(List<LayerSpec> layers, System.Func<LayerSpec, bool> writes)
    {
        for (int k = 0; k < layers.Count; k++)
        {
            if (!writes(layers[k])) continue;
            int relu = SoleReader(layers, k);
            if (relu < 0 || layers[relu].Kind != LayerKind.ReLU) continue;
            layers[k] = layers[k] with { GradientPassRelu = layers[relu].Index };
            layers[relu] = layers[relu] with { GradientPassAppliedBy = layers[k].Index };
        }
    }

    /// <summary>
    /// Once the training kernels are chosen (<see cref="TrainingKernels"/>): a convolution whose training forward pass runs
    /// the direct or Winograd kernel, followed by a ReLU that alone reads it, applies the ReLU as it stores in a gradient
    /// pass, as a BatchNorm or a sum does (<see cref="FuseGradientPassRelus"/>): its backward reads its input, not its
    /// output, and the ReLU's backward takes its mask from its own output.
    /// </summary>
    public static void FuseTrainingConvolutionRelus(List<LayerSpec> layers) =>
        ApplyReluInGradientPass(layers, l => l.Kind == LayerKind.Conv && (l.DirectTraining || l.WinogradTraining));

    /// <summary>
    /// A ReLU that alone reads the layer before it and is read only by the max pool after it has its backward pass done by
    /// the pool's: the gradient goes only to winners above zero (the pool's output is the winner's value, the ReLU's
    /// output there), straight into the gradient of the ReLU's input, with the bits of the two passes. The ReLU's own
    /// backward and its output gradient (a buffer as large as its output) are left out.
    /// </summary>
    private static void FusePoolReluBackwards(List<LayerSpec> layers)
    {
        for (int k = 1; k < layers.Count; k++)
        {
            if (layers[k].Kind != LayerKind.ReLU || SoleReader(layers, k - 1) != k) continue;
            int pool = SoleReader(layers, k);
            if (pool < 0 || layers[pool].Kind != LayerKind.MaxPool) continue;
            layers[pool] = layers[pool] with { ReluMaskedInBackward = layers[k].Index };
            layers[k] = layers[k] with { BackwardAppliedBy = layers[pool].Index };
        }
    }

    /// <summary>
    /// A BatchNorm or a shortcut's sum that applies its ReLU as it stores in a gradient pass (<see cref="FuseGradientPassRelus"/>)
    /// also does that ReLU's backward, unless a max pool after the ReLU does (<see cref="FusePoolReluBackwards"/>, which
    /// keeps no gradient of the ReLU's output at all): the ReLU's output gradient is masked in place by its output (the
    /// BatchNorm a channel's row at a time, taking the row's gradient sums while it is in cache), with the bits of the two
    /// passes. The ReLU's backward and the layer's own output gradient (a buffer as large as its output) are left out.
    /// </summary>
    private static void FuseReluBackwardsIntoWriters(List<LayerSpec> layers)
    {
        for (int k = 0; k < layers.Count; k++)
        {
            if (layers[k].Kind is not (LayerKind.BatchNorm or LayerKind.Add) || layers[k].GradientPassRelu < 0) continue;
            int relu = SoleReader(layers, k); // the ReLU it applies as it stores
            if (relu < 0 || layers[relu].Index != layers[k].GradientPassRelu || layers[relu].BackwardAppliedBy >= 0) continue;
            layers[k] = layers[k] with { ReluBackwardBeforeOwn = layers[relu].Index };
            layers[relu] = layers[relu] with { BackwardAppliedBy = layers[k].Index };
        }
    }

    /// <summary>
    /// A shortcut's sum passes its output gradient to its main input unchanged (<c>dx = dy</c>): when it alone reads that
    /// input, the input's output gradient is the sum's own buffer (<see cref="LayerSpec.GradientBufferOf"/>), so the sum's
    /// backward copies nothing and the input keeps no gradient buffer. Not when the input is a ReLU whose backward the
    /// layer before it applies: that masks the ReLU's output gradient in place, and the sum's gradient must reach the
    /// shortcut's source unmasked. Every other backward pass only reads its output gradient.
    /// </summary>
    private static void ShareSumInputGradients(List<LayerSpec> layers)
    {
        for (int k = 1; k < layers.Count; k++)
        {
            if (layers[k].Kind != LayerKind.Add || SoleReader(layers, k - 1) != k || layers[k - 1].BackwardAppliedBy >= 0) continue;
            layers[k - 1] = layers[k - 1] with { GradientBufferOf = layers[k].Index };
        }
    }

    /// <summary>
    /// A residual block's output: a sum that does the backward pass of the ReLU after it (<see cref="FuseReluBackwardsIntoWriters"/>),
    /// the ReLU read by the layer right after it and by one later sum's shortcut, and by nothing else. The ReLU's output
    /// gradient is the reader's input gradient plus that sum's output gradient (its share down the shortcut), added once
    /// the reader has run backward, just before the sum masks it: the sum adds the share as it masks
    /// (<see cref="LayerSpec.ReluBackwardAddsShareOf"/>), <c>g = y &gt; 0 ? g + s : 0</c>, the same additions in the same
    /// order, so the same bits, in one pass over the map instead of two. Both readers must reach the output (else the
    /// share is never made), and the reader must be the layer right after the ReLU, so nothing runs backward between
    /// it and the sum.
    /// </summary>
    private static void AddShortcutSharesInReluMasks(List<LayerSpec> layers, bool endsWithSoftmax)
    {
        // Only for a whole network (each layer at its index), as the backward pass's GradientFlow reads it.
        for (int k = 0; k < layers.Count; k++)
            if (layers[k].Index != k) return;
        var live = Graph.ReachingOutput(layers, NetworkSpec.OutputLayerOf(layers, endsWithSoftmax));
        for (int k = 0; k + 2 < layers.Count; k++)
        {
            var sum = layers[k];
            if (sum.Kind != LayerKind.Add || sum.ReluBackwardBeforeOwn < 0 || layers[k + 1].Index != sum.ReluBackwardBeforeOwn) continue;
            int relu = layers[k + 1].Index;
            var readers = layers.Where(l => l.InputIndex == relu).ToList();
            var joins = layers.Where(l => l.Join is { } join && join.Sources.Contains(relu)).ToList();
            if (readers.Count != 1 || readers[0].Index != layers[k + 2].Index) continue;
            if (joins.Count != 1 || joins[0].Kind != LayerKind.Add || joins[0].InputIndex == relu || joins[0].Join!.Sources.Count(s => s == relu) != 1) continue;
            if (!live.Contains(readers[0].Index) || !live.Contains(joins[0].Index)) continue; // (then the ReLU reaches it too)
            layers[k] = sum with { ReluBackwardAddsShareOf = joins[0].Index };
        }
    }

    /// <summary>
    /// A 1x1 convolution (stride 1, no padding, no groups, nothing folded or fused into it) whose only reader is a 2x2
    /// average pool of stride 2 without padding (DenseNet's transitions) computes that pool's output in inference by
    /// averaging its input first and multiplying the averaged map: the average of <c>W x + b</c> over a window is
    /// <c>W</c> times the window's average of <c>x</c>, plus <c>b</c>, so it is the same function with a quarter of the
    /// multiply-adds, within rounding of the two layers one after the other (the sums are taken in another order).
    /// </summary>
    private static void PoolInputsFirst(List<LayerSpec> layers)
    {
        for (int k = 0; k < layers.Count; k++)
        {
            var l = layers[k];
            if (l.Op is not ConvOp { Kernel: 1, Stride: 1, Padding: 0, Groups: 1, Dilation: 1 } || l.FusedRelu >= 0 || l.FoldedBatchNorm >= 0
                || l.FusedPool >= 0 || l.ExpandedBy >= 0 || l.InferredBy >= 0 || l.FilterLanesInference) continue;
            int pool = SoleReader(layers, k);
            if (pool < 0 || layers[pool].Kind != LayerKind.AvgPool || layers[pool].Op is not PoolOp { Size: 2, Stride: 2, Padding: 0, CeilMode: false }
                || layers[pool].InferredBy >= 0 || layers[pool].PooledBy >= 0) continue;
            layers[k] = l with { PoolsInputFor = layers[pool].Index };
            layers[pool] = layers[pool] with { InputPooledBy = l.Index };
        }
    }

    /// <summary>
    /// A BatchNorm that no convolution takes in, whose ReLU it applies (<see cref="FuseAddRelus"/>), read only by a 1x1
    /// convolution (DenseNet's <c>norm1, relu1, conv1</c> before each 3x3 layer): in inference the convolution
    /// normalises and rectifies the BatchNorm's input as it reads it, a block of positions at a time
    /// (<c>NormReluProduct</c>), with the bits of the three layers; the BatchNorm only computes its scale and shift and
    /// the normalised map is never written; a convolution that averages its input first (<see cref="PoolInputsFirst"/>,
    /// DenseNet's transitions) normalises it as the average reads it (<c>AveragePool2x2.ForwardNormalized</c>). Such a
    /// convolution is then no expansion the depthwise layer after it computes (<see cref="ExpansionFusion"/>, decided
    /// after this). DenseNet-121, one image (<c>Cnn.Latency --model densenet121 --split --fixed --layers</c>, 4 runs of
    /// each build alternating, medians): on two threads the pass 18,281 -> 16,571 us, its BatchNorms 2,513 -> 157 us
    /// and its convolutions 14,573 -> 15,363 (the BatchNorm's pass, split by channels, wrote lines the other core had
    /// read, and its convolution read them back split by rows); on one thread 25,797 -> 25,496 us (the normalising
    /// moves into the convolutions: BatchNorms 1,365 -> 152, convolutions 23,407 -> 24,328).
    /// </summary>
    private static void NormalizeProductInputs(List<LayerSpec> layers)
    {
        for (int k = 0; k < layers.Count; k++)
        {
            var norm = layers[k];
            if (norm.Kind != LayerKind.BatchNorm || norm.InferredBy >= 0 || norm.FusedRelu < 0 || norm.Spatial <= 1 || norm.InputIndex < 0) continue;
            int relu = SoleReader(layers, k);
            int conv = relu < 0 || layers[relu].Index != norm.FusedRelu ? -1 : SoleReader(layers, relu);
            if (conv < 0 || layers[conv].Op is not ConvOp { Kernel: 1, Stride: 1, Padding: 0, Groups: 1, Dilation: 1 }
                || layers[conv].DirectInference) continue;
            layers[k] = norm with { NormalizedBy = layers[conv].Index };
            layers[conv] = layers[conv] with { NormalizedInput = norm.Index };
        }
    }

    /// <summary>A shortcut's sum (Add), or a BatchNorm that no convolution takes in (a pre-activation one, as DenseNet's
    /// before each convolution), whose only reader is the ReLU right after it computes and applies the ReLU in one pass in
    /// inference, into the ReLU's output (its own output is then never written), with the bits of the two passes.</summary>
    private static void FuseAddRelus(List<LayerSpec> layers)
    {
        for (int k = 0; k < layers.Count; k++)
        {
            if (layers[k].Kind != LayerKind.Add && !(layers[k].Kind == LayerKind.BatchNorm && layers[k].InferredBy < 0)) continue;
            int relu = SoleReader(layers, k);
            if (relu < 0 || layers[relu].Kind != LayerKind.ReLU || layers[relu].InferredBy >= 0) continue;
            layers[k] = layers[k] with { FusedRelu = layers[relu].Index };
            layers[relu] = layers[relu] with { InferredBy = layers[k].Index };
        }
    }
}
