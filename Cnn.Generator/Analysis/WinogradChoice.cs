using CnnGen.Generator.Model;

namespace CnnGen.Generator.Analysis;

/// <summary>
/// Which 3x3 convolutions inference runs as Winograd F(4x4, 3x3) (<c>Winograd3x3</c>) instead of direct convolution or
/// im2col + GEMM: only shapes where it measured faster. Thread CPU time per image, one thread, padding 1, with ReLU fused
/// (<c>Cnn.TrainProfile inference</c>, median of 9, on a loaded 2-core AVX-512 machine; one image / 16 images per call):
/// <code>
/// shape (channels -> filters @ output size)   today                      Winograd  speed-up
/// 32 -> 32 @32, 16 -> 16 @32                  direct 111 / 29 us         169 / 55  0.66x / 0.53x   direct
/// 16 -> 32 @16, 32 -> 32 @16, 64 -> 64 @16     direct 21 / 28 / 99 us     25 / 28 / 112 0.84-1.05x  direct
/// 32 -> 64 @8, 64 -> 64 @8                    direct 25 / 53 us          11 / 19   2.00-2.75x      Winograd
/// 64 -> 128 @8, 128 -> 128 @8                 direct 98 / 231 us         58 / 82   1.69-2.83x      Winograd
/// 64 -> 64 @56                                im2col+GEMM 2,195 us       962       1.58-2.28x      Winograd
/// 128 -> 128 @28                              direct 1,577 us            826       1.91x           Winograd
/// 256 -> 256 @14, 512 -> 512 @7               direct 1,480 / 3,204 us    1,261 / 2,636  1.17-3.96x  Winograd
/// </code>
/// The transforms cost per tile in proportion to channels + filters, the products in proportion to channels x filters,
/// and direct convolution holds whole rows in registers, which pays on wide maps and not on narrow ones: so Winograd wins
/// on maps of at most 8 with at least 32 channels and filters, on any map with at least 128 of each, and on maps wider
/// than 32 (where today's kernel is im2col + GEMM) with at least 64; it loses on 16- and 32-wide maps below 128 channels.
/// </summary>
internal static class WinogradChoice
{
    public static bool Picks(ConvOp conv, Shape input, Shape output)
    {
        if (conv.Kernel != 3 || conv.Stride != 1 || conv.Dilation != 1 || conv.Groups != 1) return false;
        int narrow = System.Math.Min(input.Channels, conv.Filters);
        return (output.Width <= 8 && output.Height <= 8 && narrow >= 32) || narrow >= 128 || (output.Width > 32 && narrow >= 64);
    }
}
