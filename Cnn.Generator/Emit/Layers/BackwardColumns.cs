namespace CnnGen.Generator.Emit.Layers;

/// <summary>
/// The columns a convolution's backward pass rebuilds for its weight gradient (in networks with BatchNorm, where forward
/// keeps none while training), or the padded images it computes the weight gradient from directly, the column gradient a convolution unpacks into its input gradient, and the padded output gradient
/// of those whose input gradient the direct kernel computes. Each buffer is shared by every convolution of the network:
/// backward passes run one after the other, so one buffer of each, sized for the largest layer, serves them all.
/// </summary>
internal static class BackwardColumns
{
    /// <summary>The rebuilt columns of a group of images.</summary>
    public const string Field = "_backwardColumns";

    /// <summary>One image's column gradient.</summary>
    public const string GradientField = "_backwardColumnGradient";

    /// <summary>The zero-padded input images of a group, for a convolution whose weight gradient is computed from them
    /// instead of from rebuilt columns.</summary>
    public const string PaddedImagesField = "_backwardPaddedImages";

    /// <summary>One image's output gradient, zero-padded for such a convolution.</summary>
    public const string PaddedGradientField = "_backwardPaddedGradient";

    /// <summary>Floats of columns rebuilt at once: 1 MiB, about one core's second-level cache, so the weight-gradient
    /// product reads the columns the im2col just wrote from there.</summary>
    public const long Budget = 256 * 1024;

    /// <summary>Most images in one weight-gradient call.</summary>
    public const int MaxImages = 64;

    /// <summary>Images whose columns (<paramref name="columnLength"/> floats each) are rebuilt together and summed by one
    /// weight-gradient call: as many as fit the budget, at least one.</summary>
    public static int Images(long columnLength) =>
        (int)System.Math.Max(1, System.Math.Min(MaxImages, Budget / System.Math.Max(1, columnLength)));
}
