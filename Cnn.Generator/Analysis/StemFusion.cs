using System.Collections.Generic;
using CnnGen.Generator.Model;

namespace CnnGen.Generator.Analysis;

/// <summary>
/// Which stems compute the depthwise convolution after them in inference (<c>StemDepthwise</c>), a band of output rows
/// at a time, so that the stem's output stays in cache instead of going to memory and back: a stride-2 convolution of few
/// input channels that runs the direct stride-2 kernel (<see cref="StrideTwoChoice"/>), its BatchNorm folded and its ReLU
/// or ReLU6 applied as it stores, read only by a 3x3 depthwise convolution at stride 1 or 2 (one filter per channel, a
/// multiple of sixteen channels) with its own BatchNorm folded and ReLU fused: MobileNetV2's features.0 and features.1's
/// depthwise layer, 3 -> 32 channels at 112x112; and the 1x1 projection after that (features.1's 32 -> 16) on each band
/// too, where it runs as one plain product with its BatchNorm folded. The generated code runs the pair where the BatchNorms are folded and
/// the machine has the kernel (AVX-512); elsewhere both layers run as before.
/// <para>Both layers alone against the fused kernel, one thread, warm caches, medians of 21 calls, four rounds on a
/// 2-core Zen 5: 258-306 us against 202-207 in bands of 8 rows, 186-205 in bands of 16, 210-217 in bands of 4.</para>
/// </summary>
internal static class StemFusion
{
    /// <summary>Depthwise output rows per band: 16 (112 rows make 7 bands, 56 per thread make 3 and 4 in a split pass).</summary>
    public const int BandRows = 16;

    /// <summary>Channels of the kernel's block (the AVX-512 lanes): the depthwise channels must be a multiple.</summary>
    private const int BlockChannels = 16;

    public static void Decide(List<LayerSpec> layers)
    {
        for (int k = 0; k < layers.Count; k++)
        {
            var l = layers[k];
            if (l.StrideTwoBlockRows == 0 || l.Op is not ConvOp { Groups: 1, Dilation: 1 } || l.ExpandedBy >= 0) continue;
            // The stem's output in inference is its ReLU's, written only with the BatchNorm folded in.
            if (l.FoldedBatchNorm < 0 || l.FusedRelu < 0 || !l.FusedReluNeedsFold || l.FusedPool >= 0 || l.PoolsInputFor >= 0) continue;
            int depthwise = Fusion.SoleReader(layers, Fusion.PositionOf(layers, l.FusedRelu));
            if (depthwise < 0) continue;
            var d = layers[depthwise];
            if (d.Op is not ConvOp { Kernel: 3, Stride: 1 or 2, Dilation: 1, Groups: var groups, Filters: var filters } || groups != d.Input.Channels
                || filters != groups || groups % BlockChannels != 0 || !d.DirectInference || d.Expansion >= 0) continue;
            // The depthwise layer's output in inference is its ReLU's too (the kernel applies one activation as it stores).
            if (d.FoldedBatchNorm < 0 || d.FusedRelu < 0 || !d.FusedReluNeedsFold) continue;
            int projection = Fusion.SoleReader(layers, Fusion.PositionOf(layers, d.FusedRelu));
            if (projection >= 0 && !Projects(layers, layers[projection])) projection = -1;
            layers[k] = l with { StemDepthwise = d.Index, StemBand = System.Math.Min(BandRows, d.Output.Height), StemProjection = projection >= 0 ? layers[projection].Index : -1 };
            layers[depthwise] = d with { ComputedByStem = l.Index };
            if (projection >= 0) layers[projection] = layers[projection] with { ComputedByStem = l.Index };
        }
    }

    /// <summary>Whether the stem also computes this reader of the depthwise layer's output: a 1x1 convolution that
    /// inference runs as one product per image (no other kernel or fusion of its own), its BatchNorm folded and nothing
    /// applied after it (MobileNetV2's linear bottleneck), whose output the next layer alone reads, and not as a shortcut's
    /// sum or a join, whose kernels can take over a convolution's ranges.</summary>
    private static bool Projects(List<LayerSpec> layers, LayerSpec p)
    {
        if (p.Op is not ConvOp { Kernel: 1, Stride: 1, Padding: 0, Groups: 1, Dilation: 1 } || p.DirectInference || p.FilterLanesInference
            || p.NormalizedInput >= 0 || p.ExpandedBy >= 0 || p.FusedPool >= 0 || p.PoolsInputFor >= 0 || p.StrideTwoBlockRows > 0 || p.Im2ColBlockRows > 0
            || p.FoldedBatchNorm < 0 || p.FusedRelu >= 0) return false;
        int reader = Fusion.SoleReader(layers, Fusion.PositionOf(layers, p.FoldedBatchNorm));
        return reader >= 0 && !layers[reader].Kind.IsJoin();
    }
}
