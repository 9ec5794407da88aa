using CnnGen.Generator.Model;

namespace CnnGen.Generator.Analysis;

/// <summary>
/// Which convolutions' inference products run with the filters in the vector lanes (<c>FilterLanes</c>: the weights laid
/// out once per fold as <c>[F / 32][K][32]</c>, 14 positions x 32 filters per step, no column padded) instead of the packed
/// product with the filters in rows (<c>Gemm.MultiplyBiasActivation</c>, whose 8-row blocks pad a 7x7 map's 49 columns to
/// 64). Both give the same bits. Measured with bias and ReLU as stored, one thread, thread CPU time, median over 5 rounds
/// of the median of 11 calls, the two alternating (<c>Cnn.TrainProfile lanes</c>, 2-core AVX-512 machine, 220 GFLOP/s peak),
/// first on a quiet machine, then (the copy-out through 16 x 16 transposes, positions in chunks of at most 256) the medians
/// of 3 runs on a loaded one (times about 1.7x the quiet ones):
/// <code>
/// ResNet-18 layer                m x n x k            rows us   lanes us   speed-up   loaded: rows us   lanes us   speed-up
/// 512 -> 512 3x3 @7              512 x 49 x 4608      1,907     1,302      1.46x              3,193     2,384      1.34x
/// 256 -> 512 3x3 s2 @7           512 x 49 x 2304        794       639      1.24x              1,526     1,255      1.24x
/// 256 -> 512 1x1 s2 @7           512 x 49 x 256          82        73      1.13x                160       122      1.31x
/// 256 -> 256 3x3 @14             256 x 196 x 2304     1,727     1,351      1.28x              2,759     2,219      1.26x   (Winograd at one image: about 1,230)
/// 128 -> 256 3x3 s2 @14          256 x 196 x 1152       738       624      1.18x              1,299     1,094      1.18x
/// 128 -> 256 1x1 s2 @14          256 x 196 x 128         72        87      0.83x                138       125      1.07x
/// 64 -> 128 3x3 s2 @28           128 x 784 x 576                                              1,274     1,203      1.06x
/// 64 -> 128 1x1 s2 @28           128 x 784 x 64                                                 121       125      0.97x
/// </code>
/// So: a convolution whose product inference runs as im2col + product (not the direct or Winograd kernel at every batch
/// size, not in blocks of rows), with at most 784 output positions (a 28x28 map: more were not measured; the kernel runs
/// them in chunks of at most 256, whose sums of a panel live on the stack), filters in whole panels of 32, a depth of at
/// least 128, and its BatchNorm folded in (the laid-out weights are made from the fold, and remade only when folding
/// changed a bit of it). Layers without a fold keep the packed product. A 1x1 convolution, whose input is its columns,
/// takes it on maps of at most 14x14 (<see cref="MaxPointwisePositions"/>).
/// </summary>
internal static class FilterLanesChoice
{
    /// <summary>Filters per panel of the laid-out weights (<c>FilterLanes.PanelFilters</c>).</summary>
    public const int PanelFilters = 32;

    /// <summary>Most output positions per image (measured up to a 28x28 map).</summary>
    public const int MaxPositions = 784;

    /// <summary>The least depth (channels x kernel x kernel): 64 measured 0.97x, 128 1.07x (0.83x before the copy-out
    /// through transposes).</summary>
    public const int MinimumDepth = 128;

    /// <summary>
    /// Most output positions of a 1x1 convolution (no im2col: its input is the columns) that takes the filter-lane product.
    /// MobileNetV2's, with ReLU6 as stored, one thread, medians of 3 alternating runs of 15 x 10 calls (a 2-core Zen 4
    /// machine whose plain FMA loop peaks at 115 GFLOP/s), rows us -> lanes us, the same bits:
    /// <code>
    /// m x k x n           rows    lanes
    /// 960 x 160 x 49      185     143    1.29x
    /// 160 x 960 x 49      186     137    1.35x
    /// 320 x 960 x 49      366     270    1.36x
    /// 1280 x 320 x 49     486     364    1.33x
    /// 160 x 576 x 49      111      80    1.39x
    /// 576 x 96 x 196      221     211    1.05x
    /// 96 x 576 x 196      210     194    1.08x
    /// 384 x 64 x 196      105      97    1.08x
    /// 64 x 384 x 196       95      89    1.07x
    /// 192 x 32 x 784      127     129    0.98x
    /// 32 x 192 x 784      106      95    1.12x
    /// 128 x 256 x 784     473     492    0.96x
    /// </code>
    /// </summary>
    public const int MaxPointwisePositions = 196;

    /// <summary>The least depth of a 1x1 convolution that takes the filter-lane product (64 measured 1.08x at 14x14).</summary>
    public const int MinimumPointwiseDepth = 64;

    public static bool Picks(LayerSpec l)
    {
        if (l.Op is not ConvOp { Groups: 1 } conv || l.FoldedBatchNorm < 0 || l.Im2ColBlockRows > 0 || l.StrideTwoBlockRows > 0) return false;
        if (l.DirectInference && l.WinogradFromImages == 1) return false; // im2col never runs in inference
        int positions = l.Output.Height * l.Output.Width;
        long depth = (long)l.Input.Channels * conv.Kernel * conv.Kernel;
        if (conv is { Kernel: 1, Stride: 1, Padding: 0 }) // its input is its columns
            return conv.Filters % PanelFilters == 0 && positions <= MaxPointwisePositions && depth >= MinimumPointwiseDepth;
        return conv.Filters % PanelFilters == 0 && positions <= MaxPositions && depth >= MinimumDepth;
    }

    /// <summary>Positions of a run along an output row of the kernel that reads the input directly
    /// (<c>DirectFilterLanes.RunLength</c>): output rows must be whole runs.</summary>
    public const int RunLength = 7;

    /// <summary>Largest kernel the direct kernel takes (<c>DirectFilterLanes.MaxKernel</c>).</summary>
    private const int MaxDirectKernel = 11;

    /// <summary>Panels of filters up to which a convolution whose columns are smaller than its input (1x1, stride 2) still
    /// reads the input directly: every panel reads the input's rows again, twice the columns' values, where the columns
    /// are laid out once.</summary>
    public const int MaxPanelsOverSparseInput = 8;

    /// <summary>
    /// Whether a convolution that <see cref="Picks"/> takes reads its taps straight from the input, padded once into the
    /// layer's column buffer (<c>DirectFilterLanes</c>), instead of from im2col columns: stride 1 or 2, no dilation, output
    /// rows of whole runs of <see cref="RunLength"/> (up to <see cref="MaxBlockPositions"/>), not a 1x1 stride-1 layer
    /// (whose input is its columns), and a padded input no larger than the columns. The same bits. Measured against
    /// im2col + the filter-lane product, both in one process, warm, one thread, ReLU as stored (medians of 31 calls, three
    /// rounds):
    /// <code>
    /// ResNet-18 layer                        im2col + lanes us   direct us (with the padding copy)   ratio
    /// 64 -> 128 3x3 s2 @28                   629-633             610-614                             0.97
    /// 128 -> 256 3x3 s2 @14                  607-622             593-603                             0.97-0.98
    /// 256 -> 512 3x3 s2 @7                   611-614             605-611                             0.99-1.00
    /// 512 -> 512 3x3 @7                      1,229-1,255         1,164-1,180                         0.94-0.96
    /// 64 -> 128 1x1 s2 @28                   83-84               73-75                               0.89
    /// 128 -> 256 1x1 s2 @14                  71-72               64-65                               0.90
    /// 256 -> 512 1x1 s2 @7                   69                  72-73                               1.05
    /// </code>
    /// A 1x1 stride-2 layer's columns are a quarter of its input, which every panel reads again directly: it takes the
    /// direct kernel up to <see cref="MaxPanelsOverSparseInput"/> panels.
    /// </summary>
    public static bool ReadsInput(LayerSpec l)
    {
        if (l.Op is not ConvOp { Groups: 1, Dilation: 1 } c || c.Kernel > MaxDirectKernel || c.Stride is not (1 or 2)) return false;
        if (c is { Kernel: 1, Stride: 1, Padding: 0 }) return false;
        if (l.Output.Width % RunLength != 0 || l.Output.Width > MaxBlockPositions) return false;
        if (c.Kernel < c.Stride && c.Filters / PanelFilters > MaxPanelsOverSparseInput) return false;
        long columns = (long)l.Input.Channels * c.Kernel * c.Kernel * l.Output.Height * l.Output.Width;
        return c.Padding == 0 || PaddedLength(l) <= columns; // without padding it reads the input itself
    }

    /// <summary>Values of a convolution's input padded on every side (<c>DirectFilterLanes.PaddedLength</c>), which the
    /// layer's column buffer holds when it <see cref="ReadsInput"/>.</summary>
    public static long PaddedLength(LayerSpec l)
    {
        int padding = ((ConvOp)l.Op).Padding;
        return (long)l.Input.Channels * (l.Input.Height + 2L * padding) * (l.Input.Width + 2L * padding);
    }

    /// <summary>Positions of a block of output rows up to which its product runs in one pass over each panel
    /// (<c>FilterLanes.ChunkPositions</c>).</summary>
    public const int MaxBlockPositions = 256;

    /// <summary>
    /// Whether a convolution that inference runs in blocks of output rows (<see cref="Im2ColBlocking"/>) multiplies each
    /// block with the filters in the vector lanes (<c>Im2ColBlocks.ForwardLanes</c>): its BatchNorm folded in, filters in
    /// whole panels of 32, a block of at most <see cref="MaxBlockPositions"/> positions. ResNet-18's 7x7 stride-2 stem
    /// (64 filters, blocks of 2 rows = 224 positions, depth 147) measured 3,308 -> 2,773 us (0.84x; blocks of 4, 8, 16 rows
    /// in lanes 2,832-3,055; <c>Cnn.TrainProfile stem</c>, thread CPU time, one thread, medians of 3 runs of 7 rounds on a
    /// loaded machine). MobileNetV2's stem (32 filters, depth 27, blocks of 4 rows = 448 positions) measured 364 -> 359 us,
    /// within noise, and is not taken. Both stems now run the direct stride-2 kernel (<see cref="StrideTwoChoice"/>), so
    /// this takes stride-1 convolutions in blocks.
    /// </summary>
    public static bool PicksBlocks(LayerSpec l) =>
        l.Op is ConvOp { Groups: 1 } conv && l.Im2ColBlockRows > 0 && l.FoldedBatchNorm >= 0
        && conv.Filters % PanelFilters == 0 && (long)l.Im2ColBlockRows * l.Output.Width <= MaxBlockPositions;
}
