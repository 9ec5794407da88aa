using System.Collections.Generic;
using CnnGen.Generator.Model;

namespace CnnGen.Generator.Analysis;

/// <summary>
/// Which 1x1 expansions inference computes inside the depthwise convolution after them (<c>ExpandDepthwise</c>), a
/// block of channels at a time, so that the expanded tensor stays in cache instead of going to memory and back: an
/// inverted residual block's <c>1x1 conv, BatchNorm, ReLU or ReLU6, depthwise conv</c>, when the expanded tensor of one
/// image is larger than the caches hold. Microseconds of one image on one thread, thread CPU time, medians of 21,
/// two passes against the fused kernel with blocks of 4 to 64 channels (<c>Cnn.TrainProfile expand</c>, on a loaded
/// 2-core AVX-512 machine):
/// <code>
/// expansion @ map, depthwise stride   two passes   fused, 4 to 64       speed-up
/// 16 -> 96 @112, stride 2             1,504        1,010 - 1,196        1.26 - 1.49x
/// 24 -> 144 @56, stride 1               645          558 - 584          1.10 - 1.16x
/// 24 -> 144 @56, stride 2               582          362 - 437          1.33 - 1.61x
/// 32 -> 192 @28, stride 1               191          180 - 217          0.88 - 1.06x
/// 64 -> 384 @14, stride 1               142          147 - 211          0.67 - 0.97x
/// 160 -> 960 @7, stride 1               206          225 - 321          0.64 - 0.92x
/// </code>
/// In the whole MobileNetV2 pass (one thread, thread CPU time, medians of four alternating runs) this measured 9.65 ->
/// 9.08 ms for one image and 113 -> 125 images/s at batch 32. So: fused where the expanded tensor of one image exceeds <see cref="LargeExpansion"/> values (MobileNetV2's 112x112
/// and 56x56 blocks), in blocks of a multiple of 16 channels (whole row blocks of the product) holding at most
/// <see cref="BlockBudget"/> values. The fusion applies where the BatchNorm is folded (evaluation) and the pass is not
/// splitting one image over threads; otherwise both layers run as before.
/// </summary>
internal static class ExpansionFusion
{
    /// <summary>Expanded values per image (1 MiB of floats) above which the expansion is fused.</summary>
    private const long LargeExpansion = 1L << 18;

    /// <summary>Values of one expanded block: 640 KiB of floats, within a core's second-level cache beside the input.</summary>
    private const long BlockBudget = 160L * 1024;

    private const int ChannelStep = 16;

    public static void Decide(List<LayerSpec> layers)
    {
        for (int k = 0; k < layers.Count; k++)
        {
            var l = layers[k];
            if (l.Op is not ConvOp { Kernel: 1, Stride: 1, Padding: 0, Groups: 1, Dilation: 1 } || l.InputIndex < 0 || l.DirectInference) continue;
            // The expansion's output in inference is its ReLU's, written only with the BatchNorm folded in.
            if (l.FoldedBatchNorm < 0 || l.FusedRelu < 0 || !l.FusedReluNeedsFold) continue;
            int depthwise = Fusion.SoleReader(layers, PositionOf(layers, l.FusedRelu));
            if (depthwise < 0 || layers[depthwise].Op is not ConvOp { Groups: > 1 } || !layers[depthwise].DirectInference) continue;
            if (l.Output.Length <= LargeExpansion) continue;
            layers[k] = l with { ExpandedBy = layers[depthwise].Index };
            layers[depthwise] = layers[depthwise] with { Expansion = l.Index, ExpansionBlock = Block(l.Output) };
        }
    }

    /// <summary>Channels per block: the most (a multiple of 16, at least 16) whose expanded values fit the budget.</summary>
    internal static int Block(Shape expanded)
    {
        long plane = (long)expanded.Height * expanded.Width;
        long channels = BlockBudget / plane / ChannelStep * ChannelStep;
        return (int)System.Math.Min(expanded.Channels, System.Math.Max(ChannelStep, channels));
    }

    /// <summary>Where the layer of that index sits in the list (a layer rejected by a diagnostic has no spec); -1 if absent.</summary>
    private static int PositionOf(List<LayerSpec> layers, int index)
    {
        for (int k = 0; k < layers.Count; k++)
            if (layers[k].Index == index) return k;
        return -1;
    }
}
