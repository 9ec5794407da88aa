namespace CnnGen.Optimizers;

/// <summary>Adam with decoupled weight decay, PyTorch's <c>torch.optim.AdamW</c> (weight decay 0.01 by default).</summary>
public sealed class AdamW(float learningRate = 1e-3f, double beta1 = 0.9, double beta2 = 0.999, float epsilon = 1e-8f, float weightDecay = 1e-2f)
    : Adam(learningRate, beta1, beta2, epsilon, weightDecay, decoupled: true)
{
    public override string Name => "AdamW";
}
