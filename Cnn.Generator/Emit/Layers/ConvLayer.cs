using System.Collections.Generic;
using CnnGen.Generator.Analysis;
using CnnGen.Generator.Model;

namespace CnnGen.Generator.Emit.Layers;

/// <summary>
/// Convolution as im2col + one matrix product per image (seed 001):
/// forward <c>out[F, P] = weight[F, K] * col[K, P] + bias</c> with <c>K = C*k*k</c>, <c>P = OH*OW</c>;
/// backward <c>dweight += dout * col^T</c>, <c>dbias += row sums of dout</c>, <c>dinp = col2im(weight^T * dout)</c>
/// (col2im of that product is seed 001's full convolution of dout with the kernel rotated 180 degrees).
/// Training either keeps every image's columns for the backward pass (<see cref="Instance"/>: the micro-batch, sized by
/// the cache budget with the columns counted, bounds them) or keeps none (<see cref="RebuildingColumns"/>, for networks
/// with BatchNorm, whose backward call is a worker's whole chunk, and for layers whose training forward runs the direct
/// kernel): the backward pass then rebuilds them, a group of
/// images at a time, into a buffer every convolution of the network shares (im2col costs little next to the products),
/// or, for stride-1 layers with output rows 16 or 32 wide, computes the weight gradient from the zero-padded images
/// without columns (<see cref="LayerSpec.DirectWeightGradient"/>), in the same groups and with the same bits.
/// </summary>
internal sealed class ConvLayer : LayerEmitter
{
    /// <summary>Keeps the columns of every image of a micro-batch from forward to backward.</summary>
    public static readonly ConvLayer Instance = new(rebuildsColumns: false);

    /// <summary>Keeps no columns between the passes: backward rebuilds them.</summary>
    public static readonly ConvLayer RebuildingColumns = new(rebuildsColumns: true);

    private readonly bool _rebuildsColumns;

    private ConvLayer(bool rebuildsColumns) => _rebuildsColumns = rebuildsColumns;

    private static ConvOp Op(LayerSpec l) => (ConvOp)l.Op;

    /// <summary>A 1x1 kernel with stride 1 and no padding needs no im2col: the input already is the matrix.</summary>
    private static bool IsPointwise(LayerSpec l) => Op(l) is { Kernel: 1, Stride: 1, Padding: 0 };

    private static long ColLength(LayerSpec l) => (long)l.Input.Channels * Op(l).Kernel * Op(l).Kernel * l.Output.Height * l.Output.Width;

    public override IEnumerable<Scratch> Buffers(LayerSpec l, bool needInputGradient)
    {
        var c = Op(l);
        if (!IsPointwise(l)) yield return new Scratch("_col_" + l.Id, "float", ColLength(l), PerBatch: false, BackwardOnly: false, PerBatchWhenTraining: !_rebuildsColumns);
        int padding = Op(l).Padding;
        if (l.WinogradInference)
            foreach (var buffer in WinogradConv.Buffers(l)) yield return buffer;
        if ((l.DirectInference && !l.WinogradInference || DirectInTraining(l)) && padding > 0)
            yield return new Scratch("_pad_" + l.Id, "float", (long)l.Input.Channels * (l.Input.Height + 2 * padding) * (l.Input.Width + 2 * padding), PerBatch: false, BackwardOnly: false);
        if (l.FilterVectorInference)
            yield return new Scratch(FilterVectorCache(l), "float", FilterVectorCacheLength(l), PerBatch: false, BackwardOnly: false);
        if (l.PoolsInputFor >= 0)
            yield return new Scratch(PooledInput(l), "float", (long)l.Input.Channels * (l.Input.Height / 2) * (l.Input.Width / 2), PerBatch: true, BackwardOnly: false);
        if (IsPointwise(l)) yield break;
        if (l.WinogradWeightGradient)
        {
            // A layer whose forward pass is not Winograd's has no channel-last copy of its images yet.
            // It copies a group of images at a time (WinogradConv.WeightGradientImages).
            int group = WinogradConv.WeightGradientImages(l);
            if (!l.WinogradInference)
                yield return new Scratch(WinogradConv.Padded(l), "float", WinogradConv.PaddedLength(l), PerBatch: true, BackwardOnly: true, LeftOutOfMicroBatch: true,
                    MostValues: group * WinogradConv.PaddedLength(l));
            yield return new Scratch(WinogradGradientTiles(l), "float", WinogradGradientTilesLength(l), PerBatch: true, BackwardOnly: true, LeftOutOfMicroBatch: true,
                MostValues: group * WinogradGradientTilesLength(l));
            yield return new Scratch(WinogradWeightGradients.Sums(l), "float", WinogradWeightGradients.SumsLength(l), PerBatch: false, BackwardOnly: true);
            yield return new Scratch(WinogradWeightGradients.Pending(l), "float", WinogradWeightGradients.PendingLength(l), PerBatch: false, BackwardOnly: true);
        }
        // Shared by every convolution (the backward passes run one after the other): sized for the largest.
        else if (DirectWeightGradientIn(l))
        {
            if (padding > 0)
                yield return new Scratch(BackwardColumns.PaddedImagesField, "float", BackwardColumns.Images(ColLength(l)) * PaddedImageLength(l), PerBatch: false, BackwardOnly: true);
        }
        else if (_rebuildsColumns)
            yield return new Scratch(BackwardColumns.Field, "float", BackwardColumns.Images(ColLength(l)) * ColLength(l), PerBatch: false, BackwardOnly: true);
        if (needInputGradient && l.WinogradInputGradient)
            yield return new Scratch(WinogradGradientPadded(l), "float", WinogradGradientPaddedLength(l), PerBatch: true, BackwardOnly: true, LeftOutOfMicroBatch: true);
        else if (needInputGradient && l.DirectInputGradient)
        {
            // Shared by every such convolution, like the column gradient: sized for the largest.
            if (c.Padding < c.Kernel - 1)
                yield return new Scratch(BackwardColumns.PaddedGradientField, "float", PaddedGradientLength(l), PerBatch: false, BackwardOnly: true);
        }
        else if (needInputGradient) yield return new Scratch(BackwardColumns.GradientField, "float", ColLength(l), PerBatch: false, BackwardOnly: true);
    }

    private static string Pack(LayerSpec l, string x) => Pack(l, Op(l), x);

    private static string Pack(LayerSpec l, ConvOp c, string x) =>
        $"{Kernels}.Im2Col.Pack({x}, col, channels: {l.Input.Channels}, height: {l.Input.Height}, width: {l.Input.Width}, " +
        $"kernel: {c.Kernel}, stride: {c.Stride}, padding: {c.Padding}, outHeight: {l.Output.Height}, outWidth: {l.Output.Width}{DilationArgument(c)});";

    /// <summary>The im2col kernels' dilation argument, written only for a dilated convolution.</summary>
    internal static string DilationArgument(ConvOp c) => c.Dilation == 1 ? "" : $", dilation: {c.Dilation}";

    public override void Forward(SourceWriter w, LayerSpec l, NetworkSpec network)
    {
        var c = Op(l);
        int inLen = (int)l.Input.Length, outLen = (int)l.Output.Length, positions = l.Output.Height * l.Output.Width;
        int k = l.Input.Channels * c.Kernel * c.Kernel;
        var folded = l.FoldedBatchNorm >= 0 ? network.Layers[l.FoldedBatchNorm] : null;
        var fusedRelu = l.FusedRelu >= 0 ? network.Layers[l.FusedRelu] : null;
        var sum = SumInRanges.Sum(network, l); // a shortcut's sum this layer's ranges compute in a split pass, or null
        OpenForward(w, l);
        if (l.ExpandedBy >= 0) ExpansionInference.EmitSkip(w, l, network);
        if (l.ComputedByStem >= 0) StemInference.EmitSkip(w, l, network);
        w.Line($"var weight = {Weight(l)}; // [{c.Filters}, {l.Input.Channels}, {c.Kernel}, {c.Kernel}] = [{c.Filters}, {k}]");
        w.Line($"var bias = {Bias(l)};");
        if (folded is not null) EmitFold(w, l, folded);
        if (l.StemDepthwise >= 0) StemInference.EmitForward(w, l, network);
        if (l.PoolsInputFor >= 0) EmitPoolFirst(w, network, l);
        if (l.DirectInference)
        {
            bool relu = fusedRelu is not null && !l.FusedReluNeedsFold;
            bool reluAfterFold = fusedRelu is not null && l.FusedReluNeedsFold;
            if (l.WinogradFromImages > 1)
            {
                w.Line($"// Fewer than {l.WinogradFromImages} images run im2col + GEMM below: Winograd's transformed weights ({36L * l.Input.Channels * c.Filters * 4 >> 20} MiB) need more tiles to pay for reading them.");
                w.Open($"if (!ws.KeepForBackward && batch >= {l.WinogradFromImages})");
            }
            else w.Open("if (!ws.KeepForBackward)");
            w.Line(l.FusedPool >= 0
                ? $"// Inference: {(relu ? $"{fusedRelu!.Name} applied and " : "")}{network.Layers[l.FusedPool].Name} taken as the tiles are stored, each 4x4 tile's four 2x2 maxima into {network.Layers[l.FusedPool].Name}'s output " +
                  $"(this layer's own output{(relu ? $" and {fusedRelu!.Name}'s are" : " is")} not written); the bits of the layers one after the other."
                : relu
                ? $"// Inference: direct convolution with {fusedRelu!.Name} fused (written to its output); same result as the im2col path below."
                : reluAfterFold
                ? $"// Inference: direct convolution; with {folded!.Name} folded in, {fusedRelu!.Name} is fused too (written to its output)."
                : "// Inference: direct convolution, same result as the im2col path below.");
            string target = "outp", reluArg = "";
            if (l.FusedPool >= 0)
            {
                w.Line($"var pooled = new global::System.Span<float>(ws._act_{network.Layers[l.FusedPool].Id});");
                target = "pooled";
                reluArg = relu ? ", relu: true, pool2x2: true" : ", pool2x2: true";
            }
            else if (relu)
            {
                w.Line($"var fused = new global::System.Span<float>(ws._act_{fusedRelu!.Id});");
                target = "fused";
                reluArg = ", relu: true";
            }
            else if (reluAfterFold)
            {
                w.Line($"var fused = ws.Folded ? new global::System.Span<float>(ws._act_{fusedRelu!.Id}) : outp;");
                target = "fused";
                reluArg = ", relu: ws.Folded";
            }
            if (l.WinogradInference)
            {
                if (ImageSplit.Worth(l) && ImageSplit.SplitsPoints(l)) WinogradConv.EmitPointSplit(w, l, target);
                else if (ImageSplit.Worth(l) && (ImageSplit.SplitsTiles(l) || ImageSplit.SplitsFilters(l))) WinogradConv.EmitSplit(w, l, target, sum);
                WinogradConv.EmitForward(w, l, target, reluArg);
            }
            else
            {
                if (ImageSplit.Worth(l)) EmitDirectSplit(w, network, l, target, sum);
                if (l.FilterVectorInference)
                {
                    w.Line($"// The 16 filters in the vector lanes (rows of {l.Output.Width} would leave {16 - l.Output.Width} of 16 lanes idle), every image in one call; the weights laid out in this workspace's cache, again only when a bit of them changed.");
                    w.Line(FilterVectorForward(l, target, reluArg));
                }
                else
                {
                    w.Line("for (int b = 0; b < batch; b++)");
                    w.Line("    " + DirectForward(l, target, reluArg));
                }
            }
            w.Line("return;");
            w.Close();
        }
        string activation = FusedActivationOfProduct(w, l, folded, fusedRelu);
        if (l.NormalizedInput >= 0 && l.PoolsInputFor < 0) NormReluInference.EmitForward(w, network, l, activation);
        var gradientRelu = l.GradientPassRelu >= 0 ? network.Layers[l.GradientPassRelu] : null;
        if (DirectInTraining(l)) EmitDirectTraining(w, l, gradientRelu);
        if (WinogradInTraining(l)) EmitWinogradTraining(w, l, gradientRelu);
        bool split = ImageSplit.Worth(l) && (!l.DirectInference || l.WinogradFromImages > 1);
        if (split) EmitIm2ColSplit(w, l);
        w.Open("for (int b = 0; b < batch; b++)");
        w.Line($"var x = inp.Slice(b * {inLen}, {inLen});");
        w.Line($"var y = outp.Slice(b * {outLen}, {outLen});");
        if (!IsPointwise(l) && _rebuildsColumns)
            w.Line($"var col = new global::System.Span<float>(ws._col_{l.Id}, 0, {ColLength(l)}); // [{k}, {positions}]");
        else if (!IsPointwise(l))
            w.Line($"var col = new global::System.Span<float>(ws._col_{l.Id}, ws.KeepForBackward ? b * {ColLength(l)} : 0, {ColLength(l)}); // [{k}, {positions}], kept for backward while training");
        if (l.StrideTwoBlockRows > 0) EmitStrideTwo(w, l, activation);
        if (l.Im2ColBlockRows > 0) EmitBlocks(w, l, l.Im2ColBlockRows, activation);
        if (l.FilterLanesInference) FilterLanesConv.EmitImage(w, l, IsPointwise(l) ? null : Pack(l, "x"), activation);
        if (!IsPointwise(l)) w.Line(Pack(l, "x"));
        w.Line($"{Kernels}.Gemm.MultiplyBiasActivation(weight, {(IsPointwise(l) ? "x" : "col")}, y, bias, m: {c.Filters}, n: {positions}, k: {k}{activation}); // + bias{(activation.Length > 0 ? ", then the fused activation" : "")} as it stores");
        w.Close();
        w.Close();
        if (l.PoolsInputFor >= 0 && ImageSplit.Worth(l)) EmitPoolFirstRanges(w, network, l);
        if (l.NormalizedInput >= 0 && l.PoolsInputFor < 0 && ImageSplit.Worth(l))
            NormReluInference.EmitRange(w, network, l, fusedRelu is null ? $"{Kernels}.FusedActivation.None" : ActivationExpression(l, fusedRelu));
        string rangeRelu = (fusedRelu is null ? "" : l.FusedReluNeedsFold ? ", relu: ws.Folded" : ", relu: true") + (l.FusedPool >= 0 ? ", pool2x2: true" : "");
        if (ImageSplit.Worth(l) && ImageSplit.SplitsPoints(l)) WinogradConv.EmitPointRangeMethods(w, l, rangeRelu);
        else if (ImageSplit.Worth(l) && (ImageSplit.SplitsTiles(l) || ImageSplit.SplitsFilters(l))) WinogradConv.EmitRangeMethod(w, l, rangeRelu, network, sum);
        else if (ImageSplit.Worth(l) && l.DirectInference && !l.WinogradInference) EmitDirectRange(w, l, rangeRelu, network, sum);
        if (RowBand.StartedBy(network, l) is { } band) RowBand.EmitRange(w, network, band);
        if (l.StemDepthwise >= 0) StemInference.EmitRangeMethod(w, l, network);
        if (split && BlockRows(l) > 0) EmitBlocksRange(w, l, fusedRelu);
        else if (split)
        {
            if (!IsPointwise(l)) EmitPackChannels(w, l);
            if (ImageSplit.SplitsColumns(l)) EmitGemmColumns(w, l, folded, fusedRelu);
            else EmitGemmFilters(w, l, folded, fusedRelu);
            if (l.FilterLanesInference)
                FilterLanesConv.EmitRangeMethod(w, l, fusedRelu is null ? $"{Kernels}.FusedActivation.None" : ActivationExpression(l, fusedRelu));
        }
    }

    private static string PooledInput(LayerSpec l) => "_pooledInput_" + l.Id;

    /// <summary>Inference of a 1x1 convolution that writes the 2x2 average pool after it (<see cref="LayerSpec.PoolsInputFor"/>):
    /// the input's average first, then the product on a quarter of the positions, into the pool's output.</summary>
    private static void EmitPoolFirst(SourceWriter w, NetworkSpec network, LayerSpec l)
    {
        var pool = network.Layers[l.PoolsInputFor];
        int channels = l.Input.Channels, filters = Op(l).Filters, positions = pool.Output.Height * pool.Output.Width;
        long pooledLength = (long)channels * positions, outLength = (long)filters * positions;
        w.Open("if (!ws.KeepForBackward)");
        w.Line($"// Inference: {pool.Name}'s 2x2 average taken of this layer's input first, then the product on its {positions} positions, into {pool.Name}'s output");
        w.Line("// (the average of W x + b is W times the average of x, plus b: a quarter of the multiply-adds, within rounding of the two layers). This layer's own output is not written.");
        w.Line($"var pooled = new global::System.Span<float>(ws._act_{pool.Id});");
        string input = "inp";
        if (l.NormalizedInput >= 0)
        {
            var norm = network.Layers[l.NormalizedInput];
            w.Line($"// {norm.Name}'s scale and shift and {network.Layers[norm.FusedRelu].Name} applied to {norm.Name}'s input as the average reads it: neither writes its output; the bits of the layers.");
            w.Line($"var normInput = new global::System.ReadOnlySpan<float>({NormReluInference.NormInput(network, l)});");
            input = "normInput";
        }
        if (ImageSplit.Worth(l))
        {
            ImageSplit.OpenWhenSplitting(w);
            w.Line($"// Fewer images than threads: the threads average ranges of each image's {channels} channels (as the layer before split them, so each");
            w.Line(PoolFirstByFilters(pool)
                ? $"// reads what its own core wrote), then multiply ranges of the {filters} filters (blocks of {ImageSplit.ProductFilterBlock(positions)}; {positions} positions are too few rows to share)."
                : $"// reads what its own core wrote), then multiply ranges of the {pool.Output.Height} averaged rows (blocks of {PoolFirstRowBlock(pool)}).");
            w.Open("for (int b = 0; b < batch; b++)");
            w.Line($"var image = new global::System.Span<float>(ws.{PooledInput(l)}, 0, {pooledLength}); // the images run one after the other");
            w.Line(ImageSplit.Run(AverageMethod(l), $"{input}.Slice(b * {l.Input.Length}, {l.Input.Length})", "image", "default", "default", "1", channels, "1"));
            w.Line(PoolFirstByFilters(pool)
                ? ImageSplit.Run(PoolFirstFiltersMethod(l), "image", $"pooled.Slice(b * {outLength}, {outLength})", "weight", "bias", "1", filters,
                    ImageSplit.ProductFilterBlock(positions).ToString(System.Globalization.CultureInfo.InvariantCulture))
                : ImageSplit.Run(PoolFirstMethod(l), "image", $"pooled.Slice(b * {outLength}, {outLength})", "weight", "bias", "1", pool.Output.Height,
                    PoolFirstRowBlock(pool).ToString(System.Globalization.CultureInfo.InvariantCulture)));
            w.Close();
            w.Line("return;");
            w.Close();
        }
        w.Line($"var averaged = new global::System.Span<float>(ws.{PooledInput(l)}, 0, batch * {pooledLength});");
        w.Line(l.NormalizedInput >= 0
            ? $"{Kernels}.AveragePool2x2.ForwardNormalized(normInput, averaged, planes: batch * {channels}, height: {l.Input.Height}, width: {l.Input.Width}, " +
              $"outHeight: {pool.Output.Height}, outWidth: {pool.Output.Width}, {NormReluInference.Scale(network, l)}, {NormReluInference.Shift(network, l)}, channels: {channels});"
            : $"{Kernels}.AveragePool2x2.Forward(inp, averaged, planes: batch * {channels}, height: {l.Input.Height}, width: {l.Input.Width}, outHeight: {pool.Output.Height}, outWidth: {pool.Output.Width});");
        w.Line("for (int b = 0; b < batch; b++)");
        w.Line($"    {Kernels}.Gemm.MultiplyBiasActivation(weight, averaged.Slice(b * {pooledLength}, {pooledLength}), pooled.Slice(b * {outLength}, {outLength}), bias, m: {filters}, n: {positions}, k: {channels});");
        w.Line("return;");
        w.Close();
    }

    private static string AverageMethod(LayerSpec l) => "AverageFirstChannels_" + l.Id;

    private static string PoolFirstMethod(LayerSpec l) => "AverageFirstRows_" + l.Id;

    private static string PoolFirstFiltersMethod(LayerSpec l) => "AverageFirstFilters_" + l.Id;

    /// <summary>Whether a split transition shares out its product by filters: its averaged map splits as any product of
    /// that many positions does (<see cref="ImageSplit.SplitsColumns(int, int)"/>; DenseNet-121's last transition has
    /// 7 x 7, by rows two blocks of uneven size, 5 and 2).</summary>
    private static bool PoolFirstByFilters(LayerSpec pool) => !ImageSplit.SplitsColumns(pool.Output.Height, pool.Output.Width);

    /// <summary>Averaged rows per block of a split transition: a product's block of rows (<see cref="ImageSplit.ProductRowBlock(int)"/>).</summary>
    private static int PoolFirstRowBlock(LayerSpec pool) => ImageSplit.ProductRowBlock(pool.Output.Width);

    /// <summary>The range methods of a split transition (<see cref="EmitPoolFirst"/>), for one image: the 2x2 averages of
    /// channels <c>[start, end)</c>, then the product's columns of averaged rows <c>[start, end)</c>, every filter (or its
    /// filters <c>[start, end)</c>, every column); the operations of the whole layer, value by value.</summary>
    private static void EmitPoolFirstRanges(SourceWriter w, NetworkSpec network, LayerSpec l)
    {
        var pool = network.Layers[l.PoolsInputFor];
        int channels = l.Input.Channels, filters = Op(l).Filters, outWidth = pool.Output.Width, positions = pool.Output.Height * outWidth;
        long planeIn = (long)l.Input.Height * l.Input.Width;
        w.Line();
        ImageSplit.OpenRange(w, AverageMethod(l), $"The 2x2 averages of channels [start, end) of one image of {l.Name}'s input" +
            (l.NormalizedInput >= 0 ? $", normalised and rectified as they are read ({network.Layers[l.NormalizedInput].Name})." : "."));
        string planes = $"inp.Slice(start * {planeIn}, (end - start) * {planeIn}), outp.Slice(start * {positions}, (end - start) * {positions}), " +
                        $"planes: end - start, height: {l.Input.Height}, width: {l.Input.Width}, outHeight: {pool.Output.Height}, outWidth: {outWidth}";
        w.Line(l.NormalizedInput >= 0
            ? $"{Kernels}.AveragePool2x2.ForwardNormalized({planes}, new global::System.ReadOnlySpan<float>({NormReluInference.Scale(network, l)}, start, end - start), " +
              $"new global::System.ReadOnlySpan<float>({NormReluInference.Shift(network, l)}, start, end - start), channels: end - start);"
            : $"{Kernels}.AveragePool2x2.Forward({planes});");
        w.Close();
        w.Line();
        if (PoolFirstByFilters(pool))
        {
            ImageSplit.OpenRange(w, PoolFirstFiltersMethod(l), $"{pool.Name}'s output for filters [start, end) of one image: their rows of {l.Name}'s weights times the averaged map.");
            w.Line($"{Kernels}.Gemm.MultiplyBiasActivation(weight.Slice(start * {channels}, (end - start) * {channels}), inp, outp.Slice(start * {positions}, (end - start) * {positions}), " +
                   $"bias.Slice(start, end - start), m: end - start, n: {positions}, k: {channels});");
            w.Close();
        }
        else EmitColumnsRange(w, PoolFirstMethod(l), $"{pool.Name}'s output at averaged rows [start, end) of one image, every filter: {l.Name}'s product of those columns.",
            filters, positions, channels, outWidth, "");
    }

    /// <summary>Whether training's forward pass runs this layer with the direct kernel: chosen by the analysis
    /// (<see cref="Analysis.TrainingKernels"/>); such a layer is emitted with <see cref="RebuildingColumns"/>.</summary>
    private bool DirectInTraining(LayerSpec l) => l.DirectTraining && _rebuildsColumns;

    /// <summary>Training's forward pass by the direct kernel: the backward pass rebuilds the columns it needs, so none are
    /// laid out here; the same bits as im2col + GEMM. A gradient pass applies <paramref name="relu"/> (when given) as it
    /// stores, into the ReLU's output.</summary>
    private static void EmitDirectTraining(SourceWriter w, LayerSpec l, LayerSpec? relu)
    {
        // A pass that keeps its outputs for backward never folds BatchNorm.
        w.Open("if (ws.KeepForBackward)");
        w.Line("// Training: direct convolution, the same bits as im2col + GEMM below; the backward pass rebuilds the columns it needs.");
        string target = GradientPassTarget(w, relu);
        w.Line("for (int b = 0; b < batch; b++)");
        w.Line("    " + DirectForward(l, target, relu is null ? "" : ", relu: !ws.WritesEveryOutput"));
        w.Line("return;");
        w.Close();
    }

    /// <summary>Where a training forward pass stores: this layer's output, or in a gradient pass that applies
    /// <paramref name="relu"/> as it stores, that ReLU's (the unfused pass of <c>Activations</c> writes every output).</summary>
    private static string GradientPassTarget(SourceWriter w, LayerSpec? relu)
    {
        if (relu is null) return "outp";
        w.Line($"// A gradient pass applies {relu.Name} as the values are stored, into its output (the bits of its own pass); this layer's own output is not written.");
        w.Line($"var stored = ws.WritesEveryOutput ? outp : new global::System.Span<float>(ws._act_{relu.Id});");
        return "stored";
    }

    /// <summary>Whether training's forward pass runs this layer through Winograd (<see cref="Analysis.TrainingKernels"/>);
    /// such a layer is emitted with <see cref="RebuildingColumns"/>.</summary>
    private bool WinogradInTraining(LayerSpec l) => l.WinogradTraining && _rebuildsColumns;

    /// <summary>Training's forward pass through Winograd F(4x4, 3x3) over the micro-batch, from the raw weights transformed
    /// once per gradient call (<see cref="TrainingWeights"/>); the backward pass rebuilds the columns it needs.</summary>
    private static void EmitWinogradTraining(SourceWriter w, LayerSpec l, LayerSpec? relu)
    {
        var c = Op(l);
        int inLen = (int)l.Input.Length, outLen = (int)l.Output.Length;
        w.Open("if (ws.KeepForBackward)");
        w.Line("// Training: Winograd F(4x4, 3x3) over the micro-batch from the weights PrepareTrainingWeights transformed for this call, " +
               "within rounding of im2col + GEMM below; the backward pass rebuilds the columns it needs.");
        string target = GradientPassTarget(w, relu);
        w.Line($"{Kernels}.Winograd3x3.Forward(inp.Slice(0, batch * {inLen}), batch, {TrainingWeights.Forward(l)}, bias, {target}.Slice(0, batch * {outLen}), " +
               $"ws._winogradPadded_{l.Id}, ws._winogradScratch_{l.Id}, channels: {l.Input.Channels}, height: {l.Input.Height}, width: {l.Input.Width}, " +
               $"filters: {c.Filters}, padding: {c.Padding}, outHeight: {l.Output.Height}, outWidth: {l.Output.Width}{(relu is null ? "" : ", relu: !ws.WritesEveryOutput")});");
        w.Line("return;");
        w.Close();
    }

    /// <summary>One image's <c>DirectConv.Forward</c> call (inside a loop over <c>b</c>), writing <paramref name="target"/>.</summary>
    private static string DirectForward(LayerSpec l, string target, string reluArg)
    {
        var c = Op(l);
        int inLen = (int)l.Input.Length, outLen = (int)l.Output.Length;
        return $"{Kernels}.DirectConv.Forward(inp.Slice(b * {inLen}, {inLen}), weight, bias, {target}.Slice(b * {outLen}, {outLen}), " +
               $"{(c.Padding > 0 ? $"ws._pad_{l.Id}" : "default")}, channels: {l.Input.Channels}, height: {l.Input.Height}, width: {l.Input.Width}, " +
               $"filters: {c.Filters}, kernel: {c.Kernel}, padding: {c.Padding}, outHeight: {l.Output.Height}, outWidth: {l.Output.Width}{reluArg});";
    }

    private static string FilterVectorCache(LayerSpec l) => "_filterVector_" + l.Id;

    private static long FilterVectorCacheLength(LayerSpec l) => 2L * FilterVectorChoice.Filters * l.Input.Channels * Op(l).Kernel * Op(l).Kernel + 1;

    /// <summary>All images of the call through <c>DirectFilterVector</c> (<see cref="LayerSpec.FilterVectorInference"/>).</summary>
    private static string FilterVectorForward(LayerSpec l, string target, string reluArg)
    {
        var c = Op(l);
        int inLen = (int)l.Input.Length, outLen = (int)l.Output.Length;
        return $"{Kernels}.DirectFilterVector.Forward(inp.Slice(0, batch * {inLen}), batch, weight, bias, {target}.Slice(0, batch * {outLen}), " +
               $"{(c.Padding > 0 ? $"ws._pad_{l.Id}" : "default")}, new global::System.Span<float>(ws.{FilterVectorCache(l)}, 0, {FilterVectorCacheLength(l)}), " +
               $"channels: {l.Input.Channels}, height: {l.Input.Height}, width: {l.Input.Width}, kernel: {c.Kernel}, padding: {c.Padding}, " +
               $"outHeight: {l.Output.Height}, outWidth: {l.Output.Width}{reluArg});";
    }

    /// <summary>The shape, block and activation arguments of <c>StrideTwoConv</c>'s calls.</summary>
    private static string StrideTwoArguments(LayerSpec l, string activation)
    {
        var c = Op(l);
        return $"channels: {l.Input.Channels}, height: {l.Input.Height}, width: {l.Input.Width}, filters: {c.Filters}, kernel: {c.Kernel}, " +
               $"padding: {c.Padding}, outHeight: {l.Output.Height}, outWidth: {l.Output.Width}, rowsPerBlock: {l.StrideTwoBlockRows}, {activation}";
    }

    /// <summary>Inference of a stride-2 convolution with few input channels (<see cref="Analysis.StrideTwoChoice"/>):
    /// directly, in blocks of output rows, from each block's input rows split into even and odd columns in the column
    /// buffer; the same bits as im2col + product.</summary>
    private static void EmitStrideTwo(SourceWriter w, LayerSpec l, string activation)
    {
        var c = Op(l);
        w.Open("if (!ws.KeepForBackward)");
        w.Line($"// Inference: direct stride-2 convolution, {l.StrideTwoBlockRows} output rows at a time from their {2 * (l.StrideTwoBlockRows - 1) + c.Kernel} input rows " +
               "split into even and odd columns (so 16 neighbouring outputs read 16 neighbouring values); no columns. The same bits as im2col + product below.");
        w.Line($"{Kernels}.StrideTwoConv.Forward(x, weight, bias, y, col, " +
               StrideTwoArguments(l, activation.Length > 0 ? "activation" : $"{Kernels}.FusedActivation.None") + ");");
        w.Line("continue;");
        w.Close();
    }

    /// <summary>Inference of a convolution with large columns: im2col and the product in blocks of output rows
    /// (<see cref="Analysis.Im2ColBlocking"/>), the same bits as the whole image's columns and one product.</summary>
    private static void EmitBlocks(SourceWriter w, LayerSpec l, int rows, string activation)
    {
        var c = Op(l);
        int k = l.Input.Channels * c.Kernel * c.Kernel;
        w.Open("if (!ws.KeepForBackward)");
        string blockArguments = $"channels: {l.Input.Channels}, height: {l.Input.Height}, width: {l.Input.Width}, " +
               $"filters: {c.Filters}, kernel: {c.Kernel}, stride: {c.Stride}, padding: {c.Padding}, outHeight: {l.Output.Height}, outWidth: {l.Output.Width}, " +
               $"rowsPerBlock: {rows}, {(activation.Length > 0 ? "activation" : $"{Kernels}.FusedActivation.None")}{DilationArgument(c)});";
        if (l.Im2ColBlockLanes)
        {
            w.Open($"if ({FilterLanesConv.Applies(l)})");
            w.Line($"// Each block's product with the filters in the vector lanes, from the folded weights laid out by PrepareFilterLanes " +
                   $"([{c.Filters / FilterLanesChoice.PanelFilters}][{k}][{FilterLanesChoice.PanelFilters}]): {rows * l.Output.Width} positions a block, none padded; the same bits.");
            w.Line($"{Kernels}.Im2ColBlocks.ForwardLanes(x, {FilterLanesConv.Panels(l)}, bias, y, col, " + blockArguments);
            w.Line("continue;");
            w.Close();
        }
        w.Line($"// Inference: im2col and the product {rows} output rows at a time ([{k}, {rows * l.Output.Width}] columns, " +
               $"{4L * k * rows * l.Output.Width / 1024} KiB, still in cache for their product); the same bits as the whole image's below.");
        w.Line($"{Kernels}.Im2ColBlocks.Forward(x, weight, bias, y, col, " + blockArguments);
        w.Line("continue;");
        w.Close();
    }

    /// <summary>The kernel's name of a fused ReLU or ReLU6.</summary>

    /// <summary>The activation an im2col or 1x1 product applies as it stores its output, as an expression: in inference
    /// (with the BatchNorm folded, when one sits in between) the fused ReLU or ReLU6, else none.</summary>
    private static string ActivationExpression(LayerSpec l, LayerSpec fusedRelu) =>
        $"{(l.FusedReluNeedsFold ? "ws.Folded" : "!ws.KeepForBackward")} ? {FusedActivationKind(fusedRelu)} : {Kernels}.FusedActivation.None";

    /// <summary>For a product with a fused activation, declares <c>activation</c> and points <c>outp</c> at the
    /// activation's output when it applies; returns the argument to pass (empty without a fused activation).</summary>
    private static string FusedActivationOfProduct(SourceWriter w, LayerSpec l, LayerSpec? folded, LayerSpec? fusedRelu)
    {
        if (fusedRelu is null || l.DirectInference && l.WinogradFromImages == 1) return "";
        w.Line(l.FusedReluNeedsFold
            ? $"// With {folded!.Name} folded in, {fusedRelu.Name} is applied as the product is stored, into its output."
            : $"// In inference, {fusedRelu.Name} is applied as the product is stored, into its output.");
        w.Line($"var activation = {ActivationExpression(l, fusedRelu)};");
        w.Line($"if (activation != {Kernels}.FusedActivation.None) outp = ws._act_{fusedRelu.Id};");
        return ", activation";
    }

    /// <summary>The range method of a convolution run in blocks of rows, when an image is split over threads: blocks
    /// [start, end), each laid out and multiplied at once (<c>Im2ColBlocks.ForwardBlocks</c>).</summary>
    private static void EmitBlocksRange(SourceWriter w, LayerSpec l, LayerSpec? fusedRelu)
    {
        var c = Op(l);
        string activation = fusedRelu is null ? $"{Kernels}.FusedActivation.None" : ActivationExpression(l, fusedRelu);
        w.Line();
        if (l.StrideTwoBlockRows > 0)
        {
            ImageSplit.OpenRange(w, BlocksMethod(l), $"Blocks [start, end) of {l.StrideTwoBlockRows} output rows of one image: their input rows split into even and odd columns " +
                "in this thread's scratch, then the direct convolution" + (fusedRelu is null ? "." : $", then {fusedRelu.Name}."));
            w.Line($"{Kernels}.StrideTwoConv.ForwardBlocks(inp, weight, bias, outp, " + StrideTwoArguments(l, activation) + ", firstBlock: start, endBlock: end);");
            w.Close();
            return;
        }
        int rows = l.Im2ColBlockRows;
        ImageSplit.OpenRange(w, BlocksMethod(l), $"Blocks [start, end) of {rows} output rows of one image: their columns in this thread's scratch, then the product" +
            (l.Im2ColBlockLanes ? " (with the filters in the vector lanes, weight then holding the laid-out panels, when the folded weights are laid out)" : "") +
            (fusedRelu is null ? "." : $", then {fusedRelu.Name}."));
        string lanes = l.Im2ColBlockLanes ? FilterLanesConv.Applies(l) : "false";
        w.Line($"{Kernels}.Im2ColBlocks.ForwardBlocks(inp, weight, bias, outp, lanes: {lanes}, channels: {l.Input.Channels}, height: {l.Input.Height}, width: {l.Input.Width}, " +
               $"filters: {c.Filters}, kernel: {c.Kernel}, stride: {c.Stride}, padding: {c.Padding}, outHeight: {l.Output.Height}, outWidth: {l.Output.Width}, " +
               $"rowsPerBlock: {rows}, {activation}, firstBlock: start, endBlock: end{DilationArgument(c)});");
        w.Close();
    }

    /// <summary>Output rows per block of a convolution that inference runs in blocks of rows, by im2col or by the direct
    /// stride-2 kernel; 0 for neither.</summary>
    private static int BlockRows(LayerSpec l) => l.StrideTwoBlockRows > 0 ? l.StrideTwoBlockRows : l.Im2ColBlockRows;

    private static int BlockCount(LayerSpec l) => (l.Output.Height + BlockRows(l) - 1) / BlockRows(l);

    private static string BlocksMethod(LayerSpec l) => "ForwardBlocks_" + l.Id;
    private static string FiltersMethod(LayerSpec l) => "ForwardFilters_" + l.Id;
    private static string PackMethod(LayerSpec l) => "PackChannels_" + l.Id;
    internal static string RowsMethod(LayerSpec l) => "ForwardRows_" + l.Id;
    private static string ColumnsMethod(LayerSpec l) => "ForwardColumns_" + l.Id;

    /// <summary>Inference over the threads: per image, each thread's rows (each padding the rows of the input they read)
    /// or the padded copy on this thread, then each thread's filters.</summary>
    private static void EmitDirectSplit(SourceWriter w, NetworkSpec network, LayerSpec l, string target, LayerSpec? sum)
    {
        var c = Op(l);
        int inLen = (int)l.Input.Length, outLen = (int)l.Output.Length;
        bool rows = ImageSplit.DirectSplitsRows(l);
        ImageSplit.OpenWhenSplitting(w);
        if (RowBand.StartedBy(network, l) is { } band) RowBand.EmitRun(w, network, band);
        else if (RowBand.ContinuedBy(network, l) is { } startedEarlier) RowBand.EmitReturn(w, startedEarlier);
        w.Line(rows
            ? $"// Fewer images than threads: each thread computes a range of this image's output rows, blocks of {SumInRanges.PooledRowBlock(network, l) ?? ImageSplit.DirectRowBlock(l.Output.Width)} (every filter: " +
              $"{l.Output.Height} rows share out more evenly than {c.Filters} filters in blocks of {ImageSplit.DirectFilterBlock})."
            : "// Fewer images than threads: each thread computes a range of this image's filters.");
        w.Open("for (int b = 0; b < batch; b++)");
        string input = $"inp.Slice(b * {inLen}, {inLen})";
        if (c.Padding > 0 && !rows)
        {
            w.Line($"{Kernels}.DirectConv.Pad({input}, ws._pad_{l.Id}, channels: {l.Input.Channels}, height: {l.Input.Height}, width: {l.Input.Width}, padding: {c.Padding});");
            input = $"ws._pad_{l.Id}";
        }
        if (sum is not null) w.Line($"// With {SumInRanges.Condition(l, sum)}, the ranges also compute {sum.Name} as they store.");
        w.Line(rows
            ? ImageSplit.RunDelegate(SumInRanges.Delegate(l, sum, RowsMethod(l)), input, $"{target}.Slice(b * {outLen}, {outLen})", "weight", "bias", "1", l.Output.Height,
                SumInRanges.RowBlock(network, l, $"{Kernels}.DirectConv.RowBlock({l.Output.Width})"))
            : ImageSplit.RunDelegate(SumInRanges.Delegate(l, sum, FiltersMethod(l)), input, $"{target}.Slice(b * {outLen}, {outLen})", "weight", "bias", "1", c.Filters,
                $"{Kernels}.DirectConv.FilterBlock({l.Output.Width})"));
        w.Close();
        w.Line("return;");
        w.Close();
    }

    private static void EmitDirectRange(SourceWriter w, LayerSpec l, string reluArg, NetworkSpec network, LayerSpec? sum)
    {
        var c = Op(l);
        if (sum is not null) SumInRanges.EmitRange(w, network, l, sum, ImageSplit.DirectSplitsRows(l) ? RowsMethod(l) : FiltersMethod(l));
        w.Line();
        if (ImageSplit.DirectSplitsRows(l))
        {
            ImageSplit.OpenRange(w, RowsMethod(l), c.Padding > 0
                ? "Output rows [start, end) of every filter of one image, from the rows of the padded input they read, copied on this thread into its own buffer."
                : "Output rows [start, end) of every filter of one image.");
            w.Line($"{Kernels}.DirectConv.ForwardImageRows(inp, weight, bias, outp, channels: {l.Input.Channels}, height: {l.Input.Height}, width: {l.Input.Width}, " +
                   $"filters: {c.Filters}, kernel: {c.Kernel}, padding: {c.Padding}, outHeight: {l.Output.Height}, outWidth: {l.Output.Width}, firstRow: start, endRow: end{reluArg});");
            w.Close();
            return;
        }
        ImageSplit.OpenRange(w, FiltersMethod(l), "Filters [start, end) of one image, from its padded copy.");
        w.Line($"{Kernels}.DirectConv.ForwardFilters(inp, weight, bias, outp, channels: {l.Input.Channels}, height: {l.Input.Height}, width: {l.Input.Width}, " +
               $"kernel: {c.Kernel}, padding: {c.Padding}, outHeight: {l.Output.Height}, outWidth: {l.Output.Width}, firstFilter: start, endFilter: end{reluArg});");
        w.Close();
    }

    /// <summary>Inference over the threads: per image, each thread lays out a range of input channels as columns, then
    /// (once all are laid out) multiplies a range of filters' weights by them.</summary>
    private static void EmitIm2ColSplit(SourceWriter w, LayerSpec l)
    {
        int inLen = (int)l.Input.Length, outLen = (int)l.Output.Length;
        ImageSplit.OpenWhenSplitting(w);
        w.Line(BlockRows(l) > 0
            ? $"// Fewer images than threads: each thread computes a range of this image's {BlockCount(l)} blocks of {BlockRows(l)} output rows."
            : ImageSplit.SplitsColumns(l)
            ? $"// Fewer images than threads: each thread computes a range of this image's {l.Output.Height * l.Output.Width} output positions, in whole rows (blocks of {ImageSplit.ProductRowBlock(l)})."
            : ImageSplit.FilterLanesSplitsRows(l)
            ? $"// Fewer images than threads: each thread computes a range of this image's {l.Output.Height} output rows (every filter) when the filter-lane product applies, else of its filters."
            : "// Fewer images than threads: each thread computes a range of this image's filters.");
        w.Open("for (int b = 0; b < batch; b++)");
        w.Line($"var x = inp.Slice(b * {inLen}, {inLen});");
        string output = $"outp.Slice(b * {outLen}, {outLen})";
        if (BlockRows(l) > 0)
        {
            // Each thread lays out the columns (or the split rows) of its own blocks of rows, in its own scratch, and multiplies them at once.
            string weight = l.Im2ColBlockLanes ? $"{FilterLanesConv.Applies(l)} ? {FilterLanesConv.Panels(l)} : weight" : "weight";
            w.Line(ImageSplit.Run(BlocksMethod(l), "x", output, weight, "bias", "1", BlockCount(l), "1"));
        }
        else EmitProductSplit(w, l, output);
        w.Close();
        w.Line("return;");
        w.Close();
    }

    /// <summary>Inside the split pass's loop over images: the columns laid out by ranges of input channels (none for a 1x1
    /// convolution), then the product by ranges of positions or of filters (with the filters in the lanes when that applies).</summary>
    private static void EmitProductSplit(SourceWriter w, LayerSpec l, string output)
    {
        if (l.FilterLanesFromInput)
        {
            FilterLanesConv.EmitSplitFromInput(w, l, output);
            w.Open("else");
            EmitColumnsSplit(w, l, output, lanes: false);
            w.Close();
            return;
        }
        EmitColumnsSplit(w, l, output, l.FilterLanesInference);
    }

    /// <summary>The columns laid out by ranges of input channels, then the product (with the filters in the lanes when
    /// <paramref name="lanes"/> and that applies).</summary>
    private static void EmitColumnsSplit(SourceWriter w, LayerSpec l, string output, bool lanes)
    {
        var c = Op(l);
        string columns = "x";
        if (!IsPointwise(l))
        {
            w.Line($"var col = new global::System.Span<float>(ws._col_{l.Id}, 0, {ColLength(l)});");
            w.Line(ImageSplit.Run(PackMethod(l), "x", "col", "default", "default", "1", l.Input.Channels, "1"));
            columns = "col";
        }
        string gemm = ImageSplit.SplitsColumns(l)
            ? ImageSplit.Run(ColumnsMethod(l), columns, output, "weight", "bias", "1", l.Output.Height,
                ImageSplit.ProductRowBlock(l).ToString(System.Globalization.CultureInfo.InvariantCulture))
            : ImageSplit.Run(FiltersMethod(l), columns, output, "weight", "bias", "1", c.Filters,
                ImageSplit.ProductFilterBlock(l.Output.Height * l.Output.Width).ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (lanes)
        {
            bool rows = ImageSplit.FilterLanesSplitsRows(l);
            w.Line($"if ({FilterLanesConv.Applies(l)}) // each range: " +
                   (rows ? "its rows, every filter," : $"its panels of {FilterLanesChoice.PanelFilters} filters") + " with the filters in the vector lanes");
            w.Line("    " + ImageSplit.Run(FilterLanesConv.SplitMethod(l), columns, output, "weight", "bias", "1", rows ? l.Output.Height : c.Filters,
                (rows ? 1 : FilterLanesChoice.PanelFilters).ToString(System.Globalization.CultureInfo.InvariantCulture)));
            w.Line("else");
            w.Line("    " + gemm);
        }
        else w.Line(gemm);
    }

    private static void EmitPackChannels(SourceWriter w, LayerSpec l)
    {
        var c = Op(l);
        int plane = l.Input.Height * l.Input.Width;
        long rows = (long)c.Kernel * c.Kernel * l.Output.Height * l.Output.Width;
        w.Line();
        ImageSplit.OpenRange(w, PackMethod(l), "The im2col rows of input channels [start, end) of one image.");
        w.Line($"{Kernels}.Im2Col.Pack(inp.Slice(start * {plane}, (end - start) * {plane}), outp.Slice(start * {rows}, (end - start) * {rows}), " +
               $"channels: end - start, height: {l.Input.Height}, width: {l.Input.Width}, kernel: {c.Kernel}, stride: {c.Stride}, padding: {c.Padding}, " +
               $"outHeight: {l.Output.Height}, outWidth: {l.Output.Width}{DilationArgument(c)});");
        w.Close();
    }

    private static void EmitGemmFilters(SourceWriter w, LayerSpec l, LayerSpec? folded, LayerSpec? fusedRelu)
    {
        int positions = l.Output.Height * l.Output.Width, k = l.Input.Channels * Op(l).Kernel * Op(l).Kernel;
        w.Line();
        ImageSplit.OpenRange(w, FiltersMethod(l), $"Filters [start, end) of one image: their rows of weight [F, {k}] times the columns, plus their biases" +
            (fusedRelu is null ? "." : $", then {fusedRelu.Name}{(folded is null ? "" : $" when {folded.Name} is folded in")}."));
        w.Line($"var y = outp.Slice(start * {positions}, (end - start) * {positions});");
        w.Line($"{Kernels}.Gemm.MultiplyBiasActivation(weight.Slice(start * {k}, (end - start) * {k}), inp, y, bias.Slice(start, end - start), m: end - start, n: {positions}, k: {k}" +
               (fusedRelu is null ? ");" : $", {ActivationExpression(l, fusedRelu)});"));
        w.Close();
    }

    private static void EmitGemmColumns(SourceWriter w, LayerSpec l, LayerSpec? folded, LayerSpec? fusedRelu)
    {
        int positions = l.Output.Height * l.Output.Width, k = l.Input.Channels * Op(l).Kernel * Op(l).Kernel;
        w.Line();
        EmitColumnsRange(w, ColumnsMethod(l), $"Output rows [start, end) of one image, every filter: weight [{Op(l).Filters}, {k}] times those rows' columns, plus the biases" +
            (fusedRelu is null ? "." : $", then {fusedRelu.Name}{(folded is null ? "" : $" when {folded.Name} is folded in")}."),
            Op(l).Filters, positions, k, l.Output.Width, fusedRelu is null ? "" : $", activation: {ActivationExpression(l, fusedRelu)}");
    }

    /// <summary>The range method of a product split by columns: output rows <c>[start, end)</c> of rows of
    /// <paramref name="width"/> positions, every filter (<paramref name="activation"/>: the call's trailing argument, or
    /// empty).</summary>
    private static void EmitColumnsRange(SourceWriter w, string method, string summary, int filters, int positions, int k, int width, string activation)
    {
        ImageSplit.OpenRange(w, method, summary);
        w.Line($"{Kernels}.Gemm.MultiplyBiasActivationColumns(weight, inp, outp, bias, m: {filters}, n: {positions}, k: {k}, firstColumn: start * {width}, endColumn: end * {width}{activation});");
        w.Close();
    }

    public override void Backward(SourceWriter w, LayerSpec l, bool needInputGradient, NetworkSpec network)
    {
        var c = Op(l);
        int inLen = (int)l.Input.Length, outLen = (int)l.Output.Length, positions = l.Output.Height * l.Output.Width;
        int k = l.Input.Channels * c.Kernel * c.Kernel;
        OpenBackward(w, l);
        bool gradientCopyFirst = needInputGradient && ReadsInputGradientCopy(l);
        if (gradientCopyFirst)
        {
            // Before the weight gradient: the input gradient's channel-last copy of dy is the one the weight gradient reads.
            w.Open("if (!dinp.IsEmpty)");
            EmitWinogradInputGradient(w, l);
            w.Close();
        }
        w.Open($"if (!_frozen[{l.Index}])");
        if (IsPointwise(l))
        {
            w.Line($"// dweight[f, k] += sum over images and positions of dy[f, p] * x[k, p] (the input is the column matrix)");
            w.Line($"{Kernels}.Gemm.AccumulateTransposedB(dout, {outLen}, inp, {inLen}, {DWeight(l)}, m: {c.Filters}, n: {k}, k: {positions}, count: batch);");
        }
        else if (l.WinogradWeightGradient) EmitWinogradWeightGradient(w, l, inputLaidOut: WinogradInTraining(l), gradientLaidOut: gradientCopyFirst);
        else if (DirectWeightGradientIn(l)) EmitWeightGradientFromPaddedImages(w, l, c, inLen, outLen);
        else if (_rebuildsColumns) EmitWeightGradientFromRebuiltColumns(w, l, c, inLen, outLen, positions, k);
        else
        {
            w.Line($"// dweight[f, k] += sum over images and positions of dy[f, p] * col[k, p] (columns kept by forward)");
            w.Line($"{Kernels}.Gemm.AccumulateTransposedB(dout, {outLen}, ws._col_{l.Id}, {ColLength(l)}, {DWeight(l)}, m: {c.Filters}, n: {k}, k: {positions}, count: batch);");
        }
        if (c.Bias)
        {
            w.Line($"// dbias[f] += sum over images and positions of dy[f, p] (a product with a row of ones)");
            w.Line($"{Kernels}.Gemm.AccumulateTransposedB(dout, {outLen}, {Kernels}.Ones.Get({positions}), 0, {DBias(l)}, m: {c.Filters}, n: 1, k: {positions}, count: batch);");
        }
        w.Close();
        if (needInputGradient && !gradientCopyFirst)
        {
            ReturnWithoutInputGradient(w);
            if (l.WinogradInputGradient)
            {
                EmitWinogradInputGradient(w, l);
                w.Close();
                return;
            }
            if (l.DirectInputGradient)
            {
                EmitDirectInputGradient(w, l);
                w.Close();
                return;
            }
            w.Line($"// dinp = col2im(weight^T * dy): seed 001's full convolution of dy with the kernel rotated 180 degrees");
            w.Line($"var weight = {Weight(l)};");
            if (!IsPointwise(l)) w.Line($"var dcol = new global::System.Span<float>(ws.{BackwardColumns.GradientField}, 0, {ColLength(l)});");
            w.Open("for (int b = 0; b < batch; b++)");
            w.Line($"var dy = dout.Slice(b * {outLen}, {outLen});");
            w.Line($"var dx = dinp.Slice(b * {inLen}, {inLen});");
            if (IsPointwise(l))
                w.Line($"{Kernels}.Gemm.Multiply(weight, dy, dx, m: {k}, n: {positions}, k: {c.Filters}, transposeA: true);");
            else
            {
                w.Line($"{Kernels}.Gemm.Multiply(weight, dy, dcol, m: {k}, n: {positions}, k: {c.Filters}, transposeA: true);");
                w.Line("dx.Clear();");
                w.Line($"{Kernels}.Im2Col.Unpack(dcol, dx, channels: {l.Input.Channels}, height: {l.Input.Height}, width: {l.Input.Width}, " +
                       $"kernel: {c.Kernel}, stride: {c.Stride}, padding: {c.Padding}, outHeight: {l.Output.Height}, outWidth: {l.Output.Width}{DilationArgument(c)});");
            }
            w.Close();
        }
        w.Close();
    }

    /// <summary>One image's output gradient padded by <c>kernel - 1 - padding</c> for the direct input gradient.</summary>
    private static long PaddedGradientLength(LayerSpec l)
    {
        int fullPadding = Op(l).Kernel - 1 - Op(l).Padding;
        return (long)Op(l).Filters * (l.Output.Height + 2 * fullPadding) * (l.Output.Width + 2 * fullPadding);
    }

    /// <summary>dinp as seed 001's full convolution of dy with the kernel rotated 180 degrees, computed by the direct kernel
    /// from the network's flipped weights (<see cref="TrainingWeights"/>, made once per gradient call), one image at a
    /// time over dy padded by <c>kernel - 1 - padding</c>.</summary>
    private static void EmitDirectInputGradient(SourceWriter w, LayerSpec l)
    {
        var c = Op(l);
        int inLen = (int)l.Input.Length, outLen = (int)l.Output.Length, fullPadding = c.Kernel - 1 - c.Padding;
        w.Line($"// dinp = seed 001's full convolution of dy with the kernel rotated 180 degrees (channels and filters swapped), by the direct kernel over dy padded by {fullPadding}");
        w.Line("for (int b = 0; b < batch; b++)");
        w.Line($"    {Kernels}.DirectConvInputGradient.Image(dout.Slice(b * {outLen}, {outLen}), {TrainingWeights.Flipped(l)}, dinp.Slice(b * {inLen}, {inLen}), " +
               $"{(fullPadding > 0 ? $"ws.{BackwardColumns.PaddedGradientField}" : "default")}, channels: {l.Input.Channels}, height: {l.Input.Height}, width: {l.Input.Width}, " +
               $"filters: {c.Filters}, kernel: {c.Kernel}, padding: {c.Padding}, outHeight: {l.Output.Height}, outWidth: {l.Output.Width});");
    }

    /// <summary>The workspace buffer of the channel-last padded output gradients of a Winograd input gradient.</summary>
    private static string WinogradGradientPadded(LayerSpec l) => "_winogradGradientPadded_" + l.Id;

    /// <summary>One image's output gradient channel-last with the full convolution's zero padding, in whole 4x4 tiles.</summary>
    private static long WinogradGradientPaddedLength(LayerSpec l) =>
        (long)(WinogradConv.TiledSide(l.Input.Height) + 2) * (WinogradConv.TiledSide(l.Input.Width) + 2) * Op(l).Filters;

    /// <summary>dinp as the full convolution of dy through Winograd F(4x4, 3x3) over the whole call's images, from the
    /// flipped weights transformed once per gradient call (<see cref="TrainingWeights"/>).</summary>
    private static void EmitWinogradInputGradient(SourceWriter w, LayerSpec l)
    {
        var c = Op(l);
        int inLen = (int)l.Input.Length, outLen = (int)l.Output.Length;
        w.Line($"// dinp = seed 001's full convolution of dy with the kernel rotated 180 degrees (channels and filters swapped), " +
               $"through Winograd F(4x4, 3x3) over dy padded by {2 - c.Padding}: within rounding of the column gradient and col2im");
        w.Line($"{Kernels}.WinogradInputGradient.Images(dout.Slice(0, batch * {outLen}), batch, {TrainingWeights.InputGradient(l)}, dinp.Slice(0, batch * {inLen}), " +
               $"ws.{WinogradGradientPadded(l)}, ws._winogradScratch_{l.Id}, channels: {l.Input.Channels}, height: {l.Input.Height}, width: {l.Input.Width}, " +
               $"filters: {c.Filters}, padding: {c.Padding}, outHeight: {l.Output.Height}, outWidth: {l.Output.Width});");
    }

    /// <summary>The workspace buffer of the channel-last output gradients, in whole 4x4 tiles, of a Winograd weight gradient.</summary>
    private static string WinogradGradientTiles(LayerSpec l) => "_winogradGradientTiles_" + l.Id;

    /// <summary>One image's output gradient channel-last in whole 4x4 tiles.</summary>
    private static long WinogradGradientTilesLength(LayerSpec l) =>
        (long)WinogradConv.TiledSide(l.Output.Height) * WinogradConv.TiledSide(l.Output.Width) * Op(l).Filters;

    /// <summary>Whether the backward pass runs the Winograd input gradient before the weight gradient, which then reads the
    /// input gradient's channel-last copy of dy instead of making its own: both through Winograd, and a padding of 0 or 1,
    /// whose full convolution's padding (2 or 1) leaves dy's whole 4x4 tiles inside that copy (the runtime's
    /// <c>WinogradWeightGradient.ReadsInputGradientCopy</c>; padding 2 does only for some sizes, and keeps its own copy).</summary>
    private static bool ReadsInputGradientCopy(LayerSpec l) =>
        l.WinogradWeightGradient && l.WinogradInputGradient && Op(l).Padding <= 1;

    /// <summary>The weight gradient through Winograd F(4x4, 3x3) (<see cref="LayerSpec.WinogradWeightGradient"/>): this call's
    /// tiles added to the worker's per-point sums, which <see cref="WinogradWeightGradients"/> turns into dweight once per chunk.
    /// <paramref name="inputLaidOut"/>: training's forward pass ran through Winograd and left the micro-batch's images
    /// channel-last in the layer's padded buffer, which this reads; <paramref name="gradientLaidOut"/>: the input gradient
    /// ran first (when there is one) and left dy channel-last, which this reads.</summary>
    private static void EmitWinogradWeightGradient(SourceWriter w, LayerSpec l, bool inputLaidOut, bool gradientLaidOut)
    {
        var c = Op(l);
        int inLen = (int)l.Input.Length, outLen = (int)l.Output.Length;
        w.Line("// dweight[f, c] += G^T [sum over tiles of (A dy[f] A^T) .* (B^T x[c] B)] G, Winograd F(4x4, 3x3)'s weight gradient, within rounding of " +
               "the sum over positions: this call's tiles added to the per-point sums (a block of them at a time, filled across calls), transformed back at the end of the worker's chunk (AddWinogradSums)");
        if (inputLaidOut || gradientLaidOut)
            w.Line("// It reads " + (inputLaidOut && gradientLaidOut ? "x channel-last as the forward pass copied it, and dy as the input gradient copied it (when there was one)"
                                   : inputLaidOut ? "x channel-last as the forward pass copied it" : "dy channel-last as the input gradient copied it (when there was one)") + ".");
        string copies = (inputLaidOut ? ", inputLaidOut: true" : "") + (gradientLaidOut ? $", gradientPadded: dinp.IsEmpty ? default : ws.{WinogradGradientPadded(l)}" : "");
        w.Line($"{Kernels}.WinogradWeightGradient.AddTiles(inp.Slice(0, batch * {inLen}), dout.Slice(0, batch * {outLen}), batch, ws.{WinogradWeightGradients.Sums(l)}, " +
               $"ws.{WinogradWeightGradients.Pending(l)}, ws._winogradPadded_{l.Id}, ws.{WinogradGradientTiles(l)}, channels: {l.Input.Channels}, " +
               $"height: {l.Input.Height}, width: {l.Input.Width}, filters: {c.Filters}, padding: {c.Padding}, outHeight: {l.Output.Height}, outWidth: {l.Output.Width}{copies});");
    }

    /// <summary>Whether the backward pass computes the weight gradient from the padded images (<see cref="Analysis.TrainingKernels"/>):
    /// only where it would otherwise rebuild the columns (a layer that keeps them from forward multiplies those).</summary>
    private bool DirectWeightGradientIn(LayerSpec l) => l.DirectWeightGradient && _rebuildsColumns && !IsPointwise(l);

    /// <summary>One image zero-padded by the convolution's padding.</summary>
    private static long PaddedImageLength(LayerSpec l) =>
        (long)l.Input.Channels * (l.Input.Height + 2 * Op(l).Padding) * (l.Input.Width + 2 * Op(l).Padding);

    /// <summary>dweight += the weight gradient straight from the zero-padded images, in the groups of images whose columns
    /// <see cref="EmitWeightGradientFromRebuiltColumns"/> would rebuild, so the same bits (each group's lane sums folded once).</summary>
    private static void EmitWeightGradientFromPaddedImages(SourceWriter w, LayerSpec l, ConvOp c, int inLen, int outLen)
    {
        int images = BackwardColumns.Images(ColLength(l));
        w.Line($"// dweight[f, (c, ky, kx)] += sum over images and positions of dy[f, p] * x[c, oy + ky - {c.Padding}, ox + kx - {c.Padding}]: " +
               $"directly from the {(c.Padding > 0 ? "zero-padded " : "")}images, {images} at a time (the same bits as im2col + the column product)");
        w.Open($"for (int first = 0; first < batch; first += {images})");
        w.Line($"int count = global::System.Math.Min({images}, batch - first);");
        w.Line($"{Kernels}.DirectWeightGradient.Accumulate(inp.Slice(first * {inLen}, count * {inLen}), dout.Slice(first * {outLen}, count * {outLen}), {DWeight(l)}, " +
               $"{(c.Padding > 0 ? $"ws.{BackwardColumns.PaddedImagesField}" : "default")}, count: count, channels: {l.Input.Channels}, height: {l.Input.Height}, width: {l.Input.Width}, " +
               $"filters: {c.Filters}, kernel: {c.Kernel}, padding: {c.Padding}, outHeight: {l.Output.Height}, outWidth: {l.Output.Width});");
        w.Close();
    }

    /// <summary>dweight += dy x col^T over the batch, rebuilding the columns of <see cref="BackwardColumns.Images"/> images at
    /// a time (forward kept none) and handing each group to one weight-gradient call.</summary>
    private static void EmitWeightGradientFromRebuiltColumns(SourceWriter w, LayerSpec l, ConvOp c, int inLen, int outLen, int positions, int k)
    {
        long colLength = ColLength(l);
        int images = BackwardColumns.Images(colLength);
        w.Line($"// dweight[f, k] += sum over images and positions of dy[f, p] * col[k, p]: the columns rebuilt {images} image(s) at a time");
        w.Open($"for (int first = 0; first < batch; first += {images})");
        w.Line($"int count = global::System.Math.Min({images}, batch - first);");
        w.Open("for (int b = 0; b < count; b++)");
        w.Line($"var col = new global::System.Span<float>(ws.{BackwardColumns.Field}, b * {colLength}, {colLength}); // [{k}, {positions}]");
        w.Line(Pack(l, c, $"inp.Slice((first + b) * {inLen}, {inLen})"));
        w.Close();
        w.Line($"{Kernels}.Gemm.AccumulateTransposedB(dout.Slice(first * {outLen}), {outLen}, ws.{BackwardColumns.Field}, {colLength}, {DWeight(l)}, m: {c.Filters}, n: {k}, k: {positions}, count: count);");
        w.Close();
    }
}
