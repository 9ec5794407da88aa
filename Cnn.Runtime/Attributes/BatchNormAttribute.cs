namespace CnnGen;

/// <summary>
/// Batch normalisation (seed 002), PyTorch's <c>BatchNorm2d</c> after a map (per channel) and <c>BatchNorm1d</c> after
/// a dense layer (per unit). In training mode it normalises by the batch's mean and biased variance and updates running
/// statistics with <see cref="Momentum"/>, 0.1 by default (the running variance with the unbiased one); in evaluation mode it uses the running
/// statistics. Then <c>y = weight * x_hat + bias</c>, with <see cref="Epsilon"/>, 1e-5 by default. Tensors <c>bnN.weight</c>, <c>bnN.bias</c> train;
/// <c>bnN.running_mean</c>, <c>bnN.running_var</c> and <c>bnN.num_batches_tracked</c> are state, saved and loaded with
/// them. Directly after a convolution it is folded into the convolution's weights for inference.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class BatchNormAttribute : LayerAttribute
{
    /// <summary>PyTorch's default momentum.</summary>
    public const float DefaultMomentum = 0.1f;

    /// <summary>PyTorch's default epsilon.</summary>
    public const float DefaultEpsilon = 1e-5f;

    /// <summary>Weight of the current batch in the running statistics, from 0 to 1 (PyTorch's <c>momentum</c>).</summary>
    public float Momentum { get; set; } = DefaultMomentum;

    /// <summary>Added to the variance before its square root, above 0 (PyTorch's <c>eps</c>; GoogLeNet uses 0.001).</summary>
    public float Epsilon { get; set; } = DefaultEpsilon;
}
