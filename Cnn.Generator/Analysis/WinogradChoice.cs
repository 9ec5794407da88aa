using CnnGen.Generator.Model;

namespace CnnGen.Generator.Analysis;

/// <summary>
/// Which 3x3 convolutions inference runs as Winograd F(4x4, 3x3) (<c>Winograd3x3</c>) instead of direct convolution or
/// im2col + GEMM: only shapes where it measured faster. Microseconds per image in thread CPU time, one thread, padding 1,
/// ReLU fused, for one image / 16 images per call (<c>Cnn.TrainProfile inference</c>, median of 5-9, on a loaded 2-core
/// AVX-512 machine). The rows from 32 -> 32 @32 to 64 -> 64 @16 were measured again (median of 7, three runs, the middle
/// one shown) after the channel-last copy and the output scatter moved to register transposes, which made the transforms
/// of few channels about 1.5x cheaper; the others are from before:
/// <code>
/// channels -> filters @ output   today                  today us/img     Winograd us/img  speed-up        choice
/// 32 -> 32 @32                   direct                 155.8 / 169.5    114.1 / 122.7    1.37x / 1.38x   Winograd
/// 16 -> 16 @32                   direct                  38.9 / 38.7      65.7 / 47.1     0.59x / 0.82x   direct
/// 16 -> 32 @16                   direct                  17.2 / 17.7      13.8 / 11.0     1.25x / 1.61x   Winograd
/// 32 -> 32 @16                   direct                  35.5 / 37.4      21.9 / 21.4     1.62x / 1.75x   Winograd
/// 32 -> 64 @16                   direct                 951.4 / 873.8     45.6 / 44.8    20.9x / 19.5x    Winograd
/// 64 -> 64 @16                   direct                 138.4 / 143.7     77.1 / 71.3     1.80x / 2.02x   Winograd
/// 32 -> 64 @8                    direct                  24.7 / 25.6      11.4 / 12.8     2.16x / 2.00x   Winograd
/// 64 -> 64 @8                    direct                  53.1 / 53.6      19.3 / 24.1     2.75x / 2.23x   Winograd
/// 64 -> 128 @8                   direct                  97.7 / 109.0     57.9 / 48.3     1.69x / 2.25x   Winograd
/// 128 -> 128 @8                  direct                 231.3 / 214.6     81.7 / 76.4     2.83x / 2.81x   Winograd
/// 64 -> 64 @56                   im2col + GEMM        2,195 / 1,963      962 / 1,245     2.28x / 1.58x   Winograd
/// 128 -> 128 @28                 direct               1,577 / 1,700      826 / 877       1.91x / 1.94x   Winograd
/// 256 -> 256 @14                 direct               1,467 / 1,528    1,233 / 995       1.19x / 1.54x   Winograd
/// 512 -> 512 @7                  direct               3,505 / 3,453    3,019 / 970       1.16x / 3.56x   Winograd
/// </code>
/// The transforms cost per tile in proportion to channels + filters, the products to channels x filters, and direct
/// convolution, which holds whole rows in registers, runs at 60-85% of peak on 16- and 32-wide maps with few channels
/// but 30-45% on 8-wide ones. Maps wider than 32 have no direct kernel, and their im2col + GEMM writes and reads a column
/// matrix nine times the input (14 MB for DenseNet-121's 128 -> 32 @56), so Winograd wins there with as few as 16
/// channels and filters; measured later the same way (one image, median of 5-7, two runs):
/// <code>
/// channels -> filters @ output   today                  today us/img     Winograd us/img  speed-up
/// 128 -> 32 @56 (DenseNet-121)   im2col + GEMM          2,049            602              3.40x
/// 32 -> 32 @56                   im2col + GEMM            491 / 488      151 / 152        3.25x / 3.21x
/// 16 -> 32 @56                   im2col + GEMM            235 / 248      102 / 95         2.31x / 2.62x
/// 32 -> 16 @56                   im2col + GEMM            305 / 291      164 / 157        1.87x / 1.86x
/// 16 -> 16 @56                   im2col + GEMM            147 / 153       94 / 96         1.57x / 1.60x
/// 16 -> 32 @28 (GoogLeNet)       direct                    41.1            24.7            1.66x
/// 128 -> 32 @28 (DenseNet-121)   direct                   338              139              2.44x
/// 16 -> 16 @16                   direct                    7.9 / 7.9       9.7 / 11.0      0.82x / 0.72x
/// </code>
/// So: Winograd on any map with at least 128 channels and filters, on maps wider than 32 with at least 16, on maps of at
/// most 32x32 with at least 32, or with 16 against 32 or more, and on maps of at most 16x16 with at least 16; direct
/// convolution on 32-wide maps with 16 channels and 16 filters (whose transforms cost more than the product saves).
/// </summary>
internal static class WinogradChoice
{
    /// <summary>Tiles per call below which a layer with large transformed weights runs im2col + GEMM instead.</summary>
    private const int MinimumTiles = 8;

    /// <summary>Transformed weights (36 values per channel and filter) from which a call needs enough tiles to pay for reading them.</summary>
    private const long LargeTransformBytes = 4L << 20;

    /// <summary>
    /// The fewest images per call for which a Winograd layer runs Winograd: its products read the transformed weights,
    /// four times the size of the weights, once per call, so with large weights and few tiles they are bound by memory.
    /// Measured for ResNet-18's 512 -> 512 @7 (4 tiles per image, 37.7 MB transformed), in microseconds per image:
    /// Winograd 2,914 / 1,904 / 1,224 for 1 / 2 / 4 images per call, im2col + GEMM 1,907 / 1,983 / 1,968; 256 -> 256 @14
    /// (16 tiles, 9.4 MB) and every smaller layer stayed faster with Winograd at one image. In a whole network, though, a
    /// layer's transformed weights are no longer in cache when its next image comes (GoogLeNet's sum to more than the
    /// cache), so they are read from memory every pass: GoogLeNet's 160 -> 320 @7 (7.4 MB) and 192 -> 384 @7 (10.6 MB) took
    /// 346 / 284 and 615 / 388 us per image on one / two threads with Winograd, 259 / 141 and 360 / 187 us with im2col +
    /// GEMM (<c>Cnn.Latency --layers</c>, median of 4 runs alternating), and its 14x14 layers (16 tiles, up to 7.4 MB)
    /// stayed faster with Winograd on one thread (422-703 against 496-984 us) and about even on two. So: layers with more
    /// than 4 MiB of transformed weights run Winograd from 8 tiles per call on. 1 for every other layer.
    /// </summary>
    public static int FromImages(ConvOp conv, Shape input, Shape output)
    {
        long transformBytes = 36L * input.Channels * conv.Filters * sizeof(float);
        int tiles = ((output.Height + 3) / 4) * ((output.Width + 3) / 4);
        return transformBytes > LargeTransformBytes ? System.Math.Max(1, (MinimumTiles + tiles - 1) / tiles) : 1;
    }

    public static bool Picks(ConvOp conv, Shape input, Shape output)
    {
        if (conv.Kernel != 3 || conv.Stride != 1 || conv.Dilation != 1 || conv.Groups != 1) return false;
        int narrow = System.Math.Min(input.Channels, conv.Filters), wide = System.Math.Max(input.Channels, conv.Filters);
        return narrow >= 128 || (output.Width > 32 && narrow >= 16)
            || (output.Width <= 32 && output.Height <= 32 && (narrow >= 32 || narrow >= 16 && wide >= 32))
            || (output.Width <= 16 && output.Height <= 16 && narrow >= 16);
    }
}
