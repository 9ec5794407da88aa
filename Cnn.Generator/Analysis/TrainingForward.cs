using System.Collections.Generic;
using CnnGen.Generator.Model;

namespace CnnGen.Generator.Analysis;

/// <summary>
/// Decides which convolutions a training forward pass runs with the direct kernel (<c>DirectConv</c>) instead of
/// im2col + GEMM. Both give the same bits, so the choice moves only time. It applies where the backward pass rebuilds
/// the columns it needs (networks with BatchNorm: their columns are not kept from forward to backward), so the forward
/// pass's columns serve nothing but its own product, and only to shapes where the direct kernel measured faster than
/// im2col + GEMM: stride 1, no dilation, groups 1, output rows 16 to 32 wide. One thread, microseconds per image over 16
/// images (thread CPU time, <c>Cnn.TrainProfile inference</c>), direct against im2col + GEMM: 16 -> 16 @32 31.9 / 53.7,
/// 32 -> 32 @32 154 / 206, 16 -> 32 @16 12.3 / 16.2, 32 -> 32 @16 25.2 / 35.1, 64 -> 64 @16 107 / 140; on 8-wide rows, half
/// of each vector is idle and the direct kernel loses: 32 -> 64 @8 25.9 / 15.5, 64 -> 64 @8 49.8 / 33.0.
/// </summary>
internal static class TrainingForward
{
    /// <summary>Narrowest output rows the direct kernel takes in training.</summary>
    public const int MinimumWidth = 16;

    public static void Decide(List<LayerSpec> layers)
    {
        bool rebuildsColumns = false;
        foreach (var l in layers) rebuildsColumns |= l.Kind == LayerKind.BatchNorm;
        if (!rebuildsColumns) return;
        for (int k = 0; k < layers.Count; k++)
            if (layers[k].Op is ConvOp conv && Picks(conv, layers[k].Output))
                layers[k] = layers[k] with { DirectTraining = true };
    }

    /// <summary>Whether the direct kernel runs this convolution's training forward pass (given a network that rebuilds columns).</summary>
    public static bool Picks(ConvOp conv, Shape output) =>
        conv.Groups == 1 && conv.Stride == 1 && conv.Dilation == 1 && !(conv.Kernel == 1 && conv.Padding == 0)
        && output.Width >= MinimumWidth && output.Width <= 32;
}
