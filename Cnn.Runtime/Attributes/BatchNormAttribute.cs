namespace CnnGen;

/// <summary>
/// Batch normalisation (seed 002), PyTorch's <c>BatchNorm2d</c> after a map (per channel) and <c>BatchNorm1d</c> after
/// a dense layer (per unit). In training mode it normalises by the batch's mean and biased variance and updates running
/// statistics with momentum 0.1 (the running variance with the unbiased one); in evaluation mode it uses the running
/// statistics. Then <c>y = weight * x_hat + bias</c>, with eps 1e-5. Tensors <c>bnN.weight</c>, <c>bnN.bias</c> train;
/// <c>bnN.running_mean</c>, <c>bnN.running_var</c> and <c>bnN.num_batches_tracked</c> are state, saved and loaded with
/// them. Directly after a convolution it is folded into the convolution's weights for inference.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class BatchNormAttribute : LayerAttribute
{
    /// <summary>Weight of the current batch in the running statistics (PyTorch's default).</summary>
    public const float Momentum = 0.1f;

    /// <summary>Added to the variance before its square root (PyTorch's default).</summary>
    public const float Epsilon = 1e-5f;
}
