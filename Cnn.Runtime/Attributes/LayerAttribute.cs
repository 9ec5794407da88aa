namespace CnnGen;

/// <summary>Base of every layer attribute. Layers run in the order their attributes stand in source; each reads the output
/// of the layer before it, or of the one named by <see cref="From"/>.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public abstract class LayerAttribute : Attribute
{
    /// <summary>The layer's name (tensor names start with it); by default the kind and a 1-based index, e.g. <c>conv2</c>.</summary>
    public string? Name { get; set; }

    /// <summary>The earlier layer whose output this layer reads (by name); by default (null) the layer declared just before
    /// it, or the network input for the first layer. Branches of a graph (an inception module, a ResNet shortcut with its
    /// own convolution) start this way.</summary>
    public string? From { get; set; }

    /// <summary>A frozen layer's parameters never change in training (fine-tuning); <c>Freeze</c> and
    /// <c>Unfreeze</c> change it at run time. Only layers with parameters (Conv, Dense, BatchNorm) can be frozen; a frozen
    /// BatchNorm keeps its weight and bias but, as in PyTorch, still updates its running statistics in training mode.</summary>
    public bool Frozen { get; set; }
}
