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
/// <item>Weight gradient (<see cref="LayerSpec.DirectWeightGradient"/>): from the zero-padded input images
/// (<c>DirectWeightGradient</c>, the wide weight gradient's 3 x 8 register block reading its chunks of 16 from the padded
/// rows) instead of im2col columns rebuilt for the column product; the same bits. Output rows of 16 or 32 (whole chunks
/// of 16 per row). Batch of 64, one thread, ms (thread CPU time, <c>Cnn.TrainProfile wgrad</c>), im2col + product against
/// direct: 32 -> 32 @32 24.5 / 13.9, 16 -> 16 @32 7.56 / 4.66, 3 -> 32 @32 2.14 / 1.57, 16 -> 32 @16 2.06 / 1.66,
/// 32 -> 32 @16 3.75 / 3.40, 32 -> 64 @16 7.39 / 6.63, 64 -> 64 @16 15.0 / 15.3. Whole training steps (<c>Cnn.TrainProfile
/// step</c>, images per CPU second, one thread, medians of 10 alternating rounds on a busy machine): CIFAR ResNet 338 -> 370,
/// CIFAR VGG 324 -> 344.</item>
/// <item>Winograd F(4x4, 3x3) (<see cref="LayerSpec.WinogradTraining"/>, <see cref="LayerSpec.WinogradInputGradient"/>,
/// <see cref="LayerSpec.WinogradWeightGradient"/>): the forward pass, the input gradient and the weight gradient of the
/// 3x3 stride-1 layers with padding 1 that inference runs so at one image per call (<see cref="WinogradChoice"/>), a
/// quarter of the multiplications, within rounding of the direct kernels; such a layer takes no direct kernel. Forward
/// and input gradient, whole training steps of batch 64, one thread (<c>Cnn.TrainProfile step --threads 1 --repeats 6</c>,
/// images per second, two alternating pairs): CIFAR VGG 382 / 325 -> 492 / 441, CIFAR ResNet 354 / 315 -> 426 / 415.
/// Weight gradient of 64 images, one thread, ms, Winograd (per-point sums over the worker's chunk) against today's kernel,
/// one image per call / 64: 32 -> 32 @32 7.4 / 9.1 against 14.6 / 24.1 (direct); 64 -> 64 @16 7.2 / 7.5 against 15.0 /
/// 19.0 (direct); 128 -> 128 @8 13.8 / 8.6 against 22.3 / 23.3 (the product over kept columns); 64 -> 128 @8 8.5 / 4.5
/// against 11.3 / 9.0.</item>
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
            {
                bool winograd = PicksWinograd(layers[k], conv);
                bool winogradWeightGradient = winograd || PicksWinogradWeightGradient(layers[k], conv);
                layers[k] = layers[k] with
                {
                    WinogradTraining = winograd,
                    WinogradInputGradient = winograd,
                    WinogradWeightGradient = winogradWeightGradient,
                    DirectTraining = !winograd && Picks(conv, layers[k].Output.Width),
                    DirectInputGradient = !winograd && Picks(conv, layers[k].Input.Width) && conv.Padding <= conv.Kernel - 1,
                    DirectWeightGradient = !winogradWeightGradient && PicksWeightGradient(conv, layers[k].Output.Width),
                };
            }
    }

    /// <summary>Largest per-point sums (36 x channels x filters floats per worker) of a weight gradient through Winograd.</summary>
    private const long MaximumWeightGradientSumsBytes = 16L << 20;

    /// <summary>Whether the weight gradient of a layer that does not run Winograd forward runs it anyway: a 3x3 stride-1
    /// layer with padding 1 and at least 16 channels and filters, whose sums stay within 16 MiB (16 -> 16 @32, which
    /// inference keeps direct: 64 images, one thread, 3.4 ms through Winograd against 5.0 for the direct kernel).</summary>
    private static bool PicksWinogradWeightGradient(LayerSpec l, ConvOp conv) =>
        conv is { Kernel: 3, Stride: 1, Dilation: 1, Groups: 1, Padding: 1 } && System.Math.Min(l.Input.Channels, conv.Filters) >= 16
        && 36L * l.Input.Channels * conv.Filters * sizeof(float) <= MaximumWeightGradientSumsBytes;

    /// <summary>Whether training runs this convolution's forward pass and input gradient through Winograd F(4x4, 3x3): the
    /// 3x3 stride-1 layers inference runs so at one image per call (<see cref="WinogradChoice"/>), with padding 1 (the input
    /// gradient's tiles are then the forward pass's).</summary>
    private static bool PicksWinograd(LayerSpec l, ConvOp conv) =>
        l.WinogradInference && l.WinogradFromImages == 1 && conv.Padding == 1;

    /// <summary>Whether the direct kernel computes rows this wide of this convolution's forward pass or input gradient.</summary>
    private static bool Picks(ConvOp conv, int width) => DirectShape(conv) && width >= MinimumWidth && width <= 32;

    /// <summary>Whether the weight gradient is computed from the padded images: output rows of 16 or 32.</summary>
    private static bool PicksWeightGradient(ConvOp conv, int outWidth) => DirectShape(conv) && (outWidth == 16 || outWidth == 32);

    /// <summary>The convolutions the direct training kernels take: stride 1, no dilation, groups 1, and not a 1x1 kernel
    /// without padding (its input already is the column matrix).</summary>
    private static bool DirectShape(ConvOp conv) =>
        conv.Groups == 1 && conv.Stride == 1 && conv.Dilation == 1 && !(conv.Kernel == 1 && conv.Padding == 0);
}
