using CnnGen.Generator.Model;

namespace CnnGen.Generator.Analysis;

/// <summary>
/// Which im2col convolutions inference runs in blocks of output rows (<c>Im2ColBlocks</c>: a block's columns laid out,
/// then multiplied while still in cache) instead of the whole image's columns and one product, and how many rows a
/// block holds. Those whose whole-image columns pass 1 MiB and that have few input channels (at most 256 columns per
/// output position), the stems of the 224x224 networks: ResNet-18's 7x7 stride-2 conv1 (147 x 12,544 values, 7.4 MB)
/// measured 2,050 -> 1,711 us with blocks of 2 output rows (4: 1,703, 8: 1,725, 16: 1,741), MobileNetV2's 3x3 stride-2
/// stem (27 x 12,544, 1.4 MB) 227 -> 206-209 us with blocks of 2 or 4 (8: 200, 16: 207; <c>Cnn.TrainProfile stem</c>,
/// thread CPU time, one thread, medians of 7 alternating rounds). A block holds the fewest
/// rows whose columns are whole 32-column panels of the product (2 rows of 112), then as many more such groups as fit
/// 64 KiB of columns; when even the fewest pass 256 KiB, as many single rows as fit 64 KiB. Stride-2 convolutions that
/// qualify (those stems) run the direct stride-2 kernel instead (<see cref="StrideTwoChoice"/>).
/// </summary>
internal static class Im2ColBlocking
{
    /// <summary>Whole-image columns from which the blocks pay: about a second-level cache.</summary>
    private const long MinimumColumnBytes = 1L << 20;

    /// <summary>Columns a block aims at.</summary>
    private const long BlockBytes = 64L << 10;

    /// <summary>Columns a block of whole panels may reach before single rows are used instead.</summary>
    private const long LargestPanelBlockBytes = 256L << 10;

    private const int PanelWidth = 32;

    /// <summary>Columns per output position (<c>C*K*K</c>) up to which the blocks pay: few input channels, one depth block
    /// of the product. ResNet-18's first stride-2 3x3 layer (64 -> 128 @56, 576 per position, 1.8 MB of columns) measured
    /// 829 us whole against 864-923 us in blocks of 1 to 8 rows.</summary>
    private const int MaximumDepth = 256;

    /// <summary>Output rows per block for a convolution whose inference runs im2col with one group, or 0: the whole image.</summary>
    public static int RowsPerBlock(LayerSpec l)
    {
        if (l.Op is not ConvOp { Groups: 1 } c || c.Kernel == 1 && c.Stride == 1 && c.Padding == 0) return 0;
        long depth = (long)l.Input.Channels * c.Kernel * c.Kernel;
        if (depth > MaximumDepth) return 0;
        long rowBytes = 4L * depth * l.Output.Width; // one output row's columns
        if (rowBytes * l.Output.Height < MinimumColumnBytes) return 0;
        int panelRows = 1;
        while (panelRows * l.Output.Width % PanelWidth != 0) panelRows++;
        int rows = panelRows * rowBytes <= LargestPanelBlockBytes
            ? panelRows * (int)System.Math.Max(1, BlockBytes / (panelRows * rowBytes))
            : (int)System.Math.Max(1, BlockBytes / rowBytes);
        return System.Math.Min(rows, l.Output.Height);
    }
}
