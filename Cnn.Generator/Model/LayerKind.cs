namespace CnnGen.Generator.Model;

internal enum LayerKind
{
    Conv,
    MaxPool,
    AvgPool,
    Dense,
    ReLU,
    LeakyReLU,
    ELU,
    Sigmoid,
    Tanh,
    Softmax,
    Maxout,
    Dropout,
    BatchNorm,
    Add,
    Concat,
    ReLU6,
    GlobalAvgPool,
}

internal static class LayerKindExtensions
{
    /// <summary>Prefix of the default layer name (<c>conv1</c>, <c>pool2</c>, ...).</summary>
    public static string DefaultNamePrefix(this LayerKind kind) => kind switch
    {
        LayerKind.Conv => "conv",
        LayerKind.MaxPool or LayerKind.AvgPool or LayerKind.GlobalAvgPool => "pool",
        LayerKind.Dense => "dense",
        LayerKind.ReLU => "relu",
        LayerKind.ReLU6 => "relu6_",
        LayerKind.LeakyReLU => "leakyrelu",
        LayerKind.ELU => "elu",
        LayerKind.Sigmoid => "sigmoid",
        LayerKind.Tanh => "tanh",
        LayerKind.Maxout => "maxout",
        LayerKind.Dropout => "dropout",
        LayerKind.BatchNorm => "bn",
        LayerKind.Add => "add",
        LayerKind.Concat => "concat",
        _ => "softmax",
    };

    /// <summary>Layers that read an earlier layer's output besides their input: Add and Concat.</summary>
    public static bool IsJoin(this LayerKind kind) => kind is LayerKind.Add or LayerKind.Concat;

    public static bool IsPool(this LayerKind kind) => kind is LayerKind.MaxPool or LayerKind.AvgPool;

    public static bool IsActivation(this LayerKind kind) =>
        kind is LayerKind.ReLU or LayerKind.ReLU6 or LayerKind.LeakyReLU or LayerKind.ELU or LayerKind.Sigmoid or LayerKind.Tanh or LayerKind.Softmax;

    public static bool HasParameters(this LayerKind kind) => kind is LayerKind.Conv or LayerKind.Dense or LayerKind.BatchNorm;

    /// <summary>Layers with a weight matrix (convolution, dense): what a BatchNorm normalises and what initialisation scales.</summary>
    public static bool HasWeights(this LayerKind kind) => kind is LayerKind.Conv or LayerKind.Dense;

    /// <summary>True for activations whose slope near zero calls for He initialisation.</summary>
    public static bool IsReLUFamily(this LayerKind kind) => kind is LayerKind.ReLU or LayerKind.ReLU6 or LayerKind.LeakyReLU or LayerKind.ELU;
}
