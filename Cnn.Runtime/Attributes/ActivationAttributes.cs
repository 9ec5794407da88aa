namespace CnnGen;

/// <summary><c>max(0, x)</c>.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class ReLUAttribute : LayerAttribute { }

/// <summary><c>x</c> for positive x, else <c>slope * x</c>.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class LeakyReLUAttribute(float slope = 0.01f) : LayerAttribute
{
    public float Slope { get; } = slope;
}

/// <summary><c>x</c> for positive x, else <c>alpha * (exp(x) - 1)</c>.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class ELUAttribute(float alpha = 1f) : LayerAttribute
{
    public float Alpha { get; } = alpha;
}

/// <summary><c>1 / (1 + exp(-x))</c>.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class SigmoidAttribute : LayerAttribute { }

/// <summary><c>tanh(x)</c>.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class TanhAttribute : LayerAttribute { }

/// <summary>Class probabilities that sum to 1; last layer only. Training uses the fused softmax cross-entropy.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class SoftmaxAttribute : LayerAttribute { }

/// <summary>Maxout (seed 002): the maximum over consecutive groups of <paramref name="pieces"/> channels (or units);
/// output channel j is the largest of input channels <c>j*pieces .. j*pieces + pieces - 1</c>.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class MaxoutAttribute(int pieces) : LayerAttribute
{
    public int Pieces { get; } = pieces;
}

/// <summary>Inverted dropout (seed 003): while the network is in training mode each value is zeroed with probability
/// <paramref name="rate"/> and the rest scaled by <c>1 / (1 - rate)</c>; in evaluation mode the layer passes values through.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class DropoutAttribute(float rate) : LayerAttribute
{
    public float Rate { get; } = rate;
}
