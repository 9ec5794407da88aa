namespace CnnGen;

/// <summary>Base of every layer attribute. Layers run in the order their attributes stand in source.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public abstract class LayerAttribute : Attribute
{
    /// <summary>The layer's name (tensor names start with it); by default the kind and a 1-based index, e.g. <c>conv2</c>.</summary>
    public string? Name { get; set; }

    /// <summary>A frozen layer's parameters never change in training (fine-tuning); <c>Freeze</c> and
    /// <c>Unfreeze</c> change it at run time. Only layers with parameters (Conv, Dense, BatchNorm) can be frozen; a frozen
    /// BatchNorm keeps its weight and bias but, as in PyTorch, still updates its running statistics in training mode.</summary>
    public bool Frozen { get; set; }
}
