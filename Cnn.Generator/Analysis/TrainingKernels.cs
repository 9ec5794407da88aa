using System.Collections.Generic;
using CnnGen.Generator.Model;

namespace CnnGen.Generator.Analysis;

/// <summary>
/// Decides which convolutions training runs with the direct kernel (<c>DirectConv</c>) instead of im2col and a product,
/// on shapes where it measured faster: stride 1, no dilation, groups 1, rows 16 to 32 wide (on 8-wide rows half of each
/// vector is idle and the direct kernel loses).
/// <list type="bullet">
/// <item>Forward (<see cref="LayerSpec.DirectTraining"/>), the same bits as im2col + GEMM; such a layer keeps no columns
/// for backward, which rebuilds them for the weight gradient (as every convolution of a network with BatchNorm does).
/// One thread, microseconds per image over 16 images (thread CPU time, <c>Cnn.TrainProfile inference</c>), direct
/// against im2col + GEMM: 16 -> 16 @32 31.9 / 53.7, 32 -> 32 @32 154 / 206, 16 -> 32 @16 12.3 / 16.2, 32 -> 32 @16 25.2 / 35.1,
/// 64 -> 64 @16 107 / 140; on 8-wide rows 32 -> 64 @8 25.9 / 15.5, 64 -> 64 @8 49.8 / 33.0.</item>
/// <item>Input gradient (<see cref="LayerSpec.DirectInputGradient"/>): the full convolution of the output's gradient with
/// the flipped kernel (<c>DirectConvInputGradient</c>) instead of the column gradient's product and col2im, in every
/// network; its rows are the input's, so the input's width decides. Same products, summed in another order.</item>
/// </list>
/// </summary>
internal static class TrainingKernels
{
    /// <summary>Narrowest rows the direct kernel takes in training.</summary>
    public const int MinimumWidth = 16;

    public static void Decide(List<LayerSpec> layers)
    {
        for (int k = 0; k < layers.Count; k++)
            if (layers[k].Op is ConvOp conv)
                layers[k] = layers[k] with
                {
                    DirectTraining = Picks(conv, layers[k].Output.Width),
                    DirectInputGradient = Picks(conv, layers[k].Input.Width) && conv.Padding <= conv.Kernel - 1,
                };
    }

    /// <summary>Whether the direct kernel computes rows this wide of this convolution's forward pass or input gradient.</summary>
    private static bool Picks(ConvOp conv, int width) =>
        conv.Groups == 1 && conv.Stride == 1 && conv.Dilation == 1 && !(conv.Kernel == 1 && conv.Padding == 0)
        && width >= MinimumWidth && width <= 32;
}
