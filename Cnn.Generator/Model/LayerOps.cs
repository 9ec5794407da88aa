namespace CnnGen.Generator.Model;

/// <summary>What one kind of layer computes, with a field per meaning (a convolution's filters are not a dense layer's
/// units, a LeakyReLU's slope is not a dropout rate). Records, so a layer stays value-equal for the incremental cache.</summary>
internal abstract record LayerOp;

/// <summary>A square convolution: <c>Filters</c> output channels, a <c>Kernel</c> x <c>Kernel</c> window, and a learned
/// bias per filter unless <c>Bias</c> is false; with <c>Groups</c> above 1 each filter sees only its group's channels.</summary>
internal sealed record ConvOp(int Kernel, int Filters, int Stride, int Padding, bool Bias = true, int Groups = 1, int Dilation = 1) : LayerOp
{
    /// <summary>Input pixels the kernel spans along each side: <c>Dilation * (Kernel - 1) + 1</c>.</summary>
    public int Span => Dilation * (Kernel - 1) + 1;
}

/// <summary>Max or average pooling over <c>Size</c> x <c>Size</c> windows; with <c>CeilMode</c> the output size rounds up.</summary>
internal sealed record PoolOp(int Size, int Stride, int Padding, bool CeilMode = false) : LayerOp;

/// <summary>A fully connected layer with <c>Units</c> outputs, and a learned bias per unit unless <c>Bias</c> is false.</summary>
internal sealed record DenseOp(int Units, bool Bias = true) : LayerOp;

/// <summary>Batch normalisation of <c>Channels</c> channels (or units after a dense layer), with PyTorch's eps and momentum.</summary>
internal sealed record BatchNormOp(int Channels, float Epsilon = BatchNormOp.DefaultEpsilon, float Momentum = BatchNormOp.DefaultMomentum) : LayerOp
{
    public const float DefaultEpsilon = 1e-5f;
    public const float DefaultMomentum = 0.1f;
}

/// <summary>The maximum over groups of <c>Pieces</c> consecutive channels.</summary>
internal sealed record MaxoutOp(int Pieces) : LayerOp;

/// <summary>Inverted dropout with drop probability <c>Rate</c>.</summary>
internal sealed record DropoutOp(float Rate) : LayerOp;

/// <summary><c>x &gt; 0 ? x : Slope * x</c>.</summary>
internal sealed record LeakyReluOp(float Slope) : LayerOp;

/// <summary><c>x &gt; 0 ? x : Alpha * (e^x - 1)</c>.</summary>
internal sealed record EluOp(float Alpha) : LayerOp;

/// <summary>An activation without arguments (ReLU, Sigmoid, Tanh, Softmax).</summary>
internal sealed record PlainOp : LayerOp
{
    public static readonly PlainOp Instance = new();
}

/// <summary>Add or Concat: joins the layer's input with the outputs of <c>Sources</c> (indices into the layers), in order.</summary>
internal sealed record JoinOp(EquatableArray<int> Sources, EquatableArray<string> SourceNames) : LayerOp;
