namespace CnnGen.TrainProfile;

/// <summary>One 3x3, padding-1, stride-1 convolution of a network: its input (channels x size x size), its filters,
/// how many times the network has it, and whether its input gradient is computed (not for the first layer).</summary>
internal sealed record ConvShape(string Name, int Channels, int Size, int Filters, int Count, bool InputGradient)
{
    public const int Kernel = 3;
    public int Positions => Size * Size;
    public int Depth => Channels * Kernel * Kernel;
    public int InputLength => Channels * Size * Size;
    public int OutputLength => Filters * Positions;
    public int ColumnLength => Depth * Positions;
    /// <summary>Multiply-adds of one image's forward product (the same count for each backward product).</summary>
    public long MultiplyAdds => (long)Filters * Depth * Positions;

    /// <summary>Images one weight-gradient call of the generated backward pass sums: a backward call's images where forward
    /// kept their columns; where the backward pass rebuilds them, as many as fit 256K floats (the generator's rule), at
    /// most 64 and at most a backward call's.</summary>
    public int ImagesPerWeightGradient(int imagesPerBackward, bool rebuildsColumns) =>
        rebuildsColumns ? Math.Min(imagesPerBackward, Math.Clamp(256 * 1024 / ColumnLength, 1, 64)) : imagesPerBackward;
}

/// <summary>The convolutions of the two CIFAR networks (as declared in Networks/), how many images the generated code
/// hands each layer's backward call, and whether that call rebuilds the columns: the VGG passes its micro-batch, whose
/// columns forward kept; the ResNet (BatchNorm in training mode) a worker's whole chunk at once, and its backward pass
/// rebuilds the columns.</summary>
internal sealed record ProfiledNetwork(string Name, ConvShape[] Convolutions, int ImagesPerBackward, bool RebuildsColumns)
{
    public static readonly ProfiledNetwork Vgg = new("cifar_vgg",
    [
        new("conv1", 3, 32, 32, 1, false),
        new("conv2", 32, 32, 32, 1, true),
        new("conv3", 32, 16, 64, 1, true),
        new("conv4", 64, 16, 64, 1, true),
        new("conv5", 64, 8, 128, 1, true),
        new("conv6", 128, 8, 128, 1, true),
    ], ImagesPerBackward: CnnGen.EngineRace.Networks.CifarVgg.MicroBatch, RebuildsColumns: false);

    public static readonly ProfiledNetwork ResNet = new("cifar_resnet",
    [
        new("conv 3->16 @32", 3, 32, 16, 1, false),
        new("conv 16->16 @32", 16, 32, 16, 4, true),
        new("conv 16->32 @16", 16, 16, 32, 1, true),
        new("conv 32->32 @16", 32, 16, 32, 4, true),
        new("conv 32->64 @8", 32, 8, 64, 1, true),
        new("conv 64->64 @8", 64, 8, 64, 4, true),
    ], ImagesPerBackward: 64, RebuildsColumns: true);

    public static ProfiledNetwork ByName(string name) => name switch
    {
        "cifar_vgg" => Vgg,
        "cifar_resnet" => ResNet,
        _ => throw new ArgumentException($"unknown model '{name}' (cifar_vgg, cifar_resnet)"),
    };
}
