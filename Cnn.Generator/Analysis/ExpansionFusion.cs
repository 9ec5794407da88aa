using System.Collections.Generic;
using CnnGen.Generator.Model;

namespace CnnGen.Generator.Analysis;

/// <summary>
/// Which 1x1 expansions inference computes inside the depthwise convolution after them (<c>ExpandDepthwise</c>), a
/// band of output rows at a time, so that the expanded tensor stays in cache instead of going to memory and back: an
/// inverted residual block's <c>1x1 conv, BatchNorm, ReLU or ReLU6, depthwise conv</c>, when the expanded tensor of one
/// image is larger than the caches hold. Microseconds of one image on one thread, thread CPU time, medians of 21, the
/// two passes against the fused kernel with bands of 2 to 12 output rows (<c>Cnn.TrainProfile expand</c>, variants
/// alternating, on a 2-core AVX-512 machine at a load average of 15 to 25, so single figures move by tens of percent):
/// <code>
/// expansion @ map, depthwise stride   two passes   bands of 2   4     8     12    best speed-up
/// 16 -> 96 @112, stride 2             999          881          686   629   632   1.59x
/// 24 -> 144 @56, stride 1             606          1,078        822   670   598   1.01x
/// 24 -> 144 @56, stride 2             547          579          431   435   430   1.27x
/// 32 -> 192 @28, stride 1             195          439          314   213   226   0.92x
/// 64 -> 384 @14, stride 1             144          323          234   163   167   0.88x
/// 160 -> 960 @7, stride 1             188          492          303   200   201   0.94x
/// </code>
/// A band's input rows overlap the next band's by the kernel's height less the stride, and those rows are expanded
/// again: small bands and stride 1 pay most. In MobileNetV2's pass (<c>Cnn.Latency --layers</c>) features.2's
/// expansion + depthwise took 539 + 552 and 558 + 579 us as two layers and 849 and 800 us fused in bands of 8 rows; the
/// 56x56 blocks did not gain there: features.3 took 549-566 us fused a block of 48 channels at a time and 605-609 in
/// bands of 20 rows against 563-601 as two layers, features.4 380-414 in channel blocks and 421-429 in bands of 8
/// against 375-393. So: fused where the expanded tensor of one image exceeds <see cref="LargeExpansion"/> values
/// (MobileNetV2's 112x112 block, features.2), in bands whose expanded input rows hold at most
/// <see cref="BandBudget"/> values, a multiple of the depthwise kernel's four rows. The fusion applies where the
/// BatchNorm is folded (evaluation); otherwise both layers run as before. A pass that splits one image over threads
/// gives each thread a range of the output rows, in bands of at most the same size: MobileNetV2's features.2 on two
/// threads (<c>Cnn.Latency --model mobilenetv2 --split --fixed --layers --threads 2</c>, 5 runs of each build
/// alternating) 329-352 us against 367-383 as two split layers in the runs not slowed by the machine.
/// <para>Smaller expansions on maps of at least 28 columns before a 3x3 depthwise convolution at stride 1 or 2, expanded
/// channels a multiple of eight, are fused too, but only where the machine expands straight into the depthwise kernel's
/// channel-last rows (<c>ExpandDepthwise.ChannelLast</c>, checked by the generated code: AVX-512 with expanded channels a
/// multiple of sixteen, AVX2 a multiple of eight); elsewhere the two layers run as before.</para>
/// </summary>
internal static class ExpansionFusion
{
    /// <summary>Expanded values per image (4 MiB of floats) above which the expansion is fused.</summary>
    private const long LargeExpansion = 1L << 20;

    /// <summary>Expanded values of one band, every channel: 768 KiB of floats, within a core's second-level cache.</summary>
    private const long BandBudget = 192L * 1024;

    /// <summary>Rows the depthwise kernel computes together: a band is a multiple of them when it can be.</summary>
    private const int KernelRows = 4;

    public static void Decide(List<LayerSpec> layers)
    {
        for (int k = 0; k < layers.Count; k++)
        {
            var l = layers[k];
            // An expansion that normalises its input as it reads it (Fusion.NormalizeProductInputs) reads the
            // BatchNorm's input: the map a band would expand is one inference does not write.
            if (l.Op is not ConvOp { Kernel: 1, Stride: 1, Padding: 0, Groups: 1, Dilation: 1 } || l.InputIndex < 0
                || l.DirectInference || l.NormalizedInput >= 0) continue;
            // The expansion's output in inference is its ReLU's, written only with the BatchNorm folded in.
            if (l.FoldedBatchNorm < 0 || l.FusedRelu < 0 || !l.FusedReluNeedsFold) continue;
            int depthwise = Fusion.SoleReader(layers, Fusion.PositionOf(layers, l.FusedRelu));
            if (depthwise < 0 || layers[depthwise].Op is not ConvOp { Groups: > 1 } || !layers[depthwise].DirectInference) continue;
            bool channelLastOnly = l.Output.Length <= LargeExpansion;
            if (channelLastOnly && !FusesChannelLast(l.Output, (ConvOp)layers[depthwise].Op)) continue;
            layers[k] = l with { ExpandedBy = layers[depthwise].Index };
            layers[depthwise] = layers[depthwise] with { Expansion = l.Index, ExpansionBand = Band(l.Output, (ConvOp)layers[depthwise].Op, layers[depthwise].Output),
                ExpansionInputChannels = l.Input.Channels, ExpansionChannelLastOnly = channelLastOnly };
        }
    }

    /// <summary>A smaller expansion fused where the machine expands channel-last (<c>ExpandDepthwise.ChannelLast</c>: a
    /// 3x3 depthwise convolution at stride 1 or 2, expanded channels a multiple of eight) on maps of at least
    /// <see cref="ChannelLastWidth"/> columns; the generated code checks the machine.</summary>
    private static bool FusesChannelLast(Shape expanded, ConvOp depthwise) =>
        depthwise is { Kernel: 3, Stride: 1 or 2, Dilation: 1 } && expanded.Channels % 8 == 0 && expanded.Width >= ChannelLastWidth;

    /// <summary>The narrowest map whose smaller expansions fuse channel-last: MobileNetV2's 56x56 and 28x28 blocks gained
    /// 1.3-1.5x alone, its 14x14 blocks ran even and its 7x7 blocks slower (<c>ExpandDepthwise.ChannelLast</c>).</summary>
    private const int ChannelLastWidth = 28;

    /// <summary>Output rows per band: the most whose expanded input rows (every channel) fit the budget, a multiple of
    /// the kernel's four rows when that leaves at least four, at least one, at most the output.</summary>
    internal static int Band(Shape expanded, ConvOp depthwise, Shape output)
    {
        long inputRows = BandBudget / ((long)expanded.Channels * expanded.Width);
        long rows = System.Math.Max(1, (inputRows - depthwise.Kernel) / System.Math.Max(1, depthwise.Stride) + 1);
        if (rows >= KernelRows) rows = rows / KernelRows * KernelRows;
        return (int)System.Math.Min(output.Height, rows);
    }
}
