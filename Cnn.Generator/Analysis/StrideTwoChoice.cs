using CnnGen.Generator.Model;

namespace CnnGen.Generator.Analysis;

/// <summary>
/// Which stride-2 convolutions inference runs directly (<c>StrideTwoConv</c>: each block's input rows split into their
/// even and odd columns once, 3 vectors of 16 outputs x 8 filters in registers, no im2col columns), and in blocks of how
/// many output rows. Taken by the convolutions that would otherwise run im2col in blocks of rows
/// (<see cref="Im2ColBlocking"/>: few input channels, large columns), the stems of the 224x224 networks. Measured
/// (<c>Cnn.TrainProfile stem</c>, one image, one thread, thread CPU time, medians of 5 alternating rounds, load 2):
/// ResNet-18's 7x7 conv1 2,466 us with blocks of 2 rows and the filters in the lanes (2,371 with the packed product in
/// blocks of 4) against 2,245 direct in blocks of 8 (2,563 / 2,423 / 2,213 in blocks of 2 / 4 / 16); MobileNetV2's
/// 3x3 stem 276 us in blocks of 4 against 277 direct in blocks of 8 (313 / 299 / 272 in blocks of 2 / 4 / 16).
/// </summary>
internal static class StrideTwoChoice
{
    /// <summary>Output rows per block: the kernel's per-block work (splitting its input rows, kernel - 2 of them again
    /// in the next block, and a last group of three vectors that may repeat one) paid for 8 rows at a time, and 112 rows make 14 blocks, 7 for each of two threads.</summary>
    public const int BlockRows = 8;

    /// <summary>Largest kernel the runtime's kernel takes (<c>StrideTwoConv.MaxKernel</c>).</summary>
    private const int MaxKernel = 11;

    /// <summary>Output rows per block for a convolution that inference runs with the direct stride-2 kernel, or 0.</summary>
    public static int RowsPerBlock(LayerSpec l)
    {
        if (l.Op is not ConvOp { Groups: 1, Stride: 2, Dilation: 1 } c || c.Kernel < 3 || c.Kernel > MaxKernel || c.Padding >= c.Kernel) return 0;
        if (Im2ColBlocking.RowsPerBlock(l) == 0) return 0;
        int rows = System.Math.Min(BlockRows, l.Output.Height);
        // The block's split rows live in the layer's column buffer (C*K*K x OH*OW values), always far larger.
        long split = (long)l.Input.Channels * (2L * (rows - 1) + c.Kernel) * (l.Input.Width + 2L * c.Padding);
        long columns = (long)l.Input.Channels * c.Kernel * c.Kernel * l.Output.Height * l.Output.Width;
        return split <= columns ? rows : 0;
    }
}
