namespace CnnGen.EngineRace.Torch;

/// <summary>One layer of a network as the TorchSharp module runs it; <see cref="Name"/> is the CnnGen layer name, and
/// layers with parameters register under it, so their tensors get the same PyTorch names as the CnnGen network's. It
/// reads the step before it, or the earlier step <see cref="From"/> (a projection shortcut's or a branch's start).</summary>
internal abstract record PlanStep(string Name)
{
    public string? From { get; init; }
}

/// <summary>A square convolution (PyTorch <c>Conv2d</c>); <see cref="Groups"/> = channels is depthwise.</summary>
internal sealed record ConvStep(string Name, int InChannels, int OutChannels, int Kernel, int Padding,
    int Stride = 1, int Groups = 1, bool Bias = true) : PlanStep(Name);

/// <summary>PyTorch <c>BatchNorm2d</c> (momentum 0.1; eps 1e-5 unless given).</summary>
internal sealed record BatchNormStep(string Name, int Channels, double Epsilon = 1e-5) : PlanStep(Name);

internal sealed record ReLUStep(string Name) : PlanStep(Name);

/// <summary>min(max(x, 0), 6) (PyTorch <c>ReLU6</c>).</summary>
internal sealed record ReLU6Step(string Name) : PlanStep(Name);

/// <summary>A square max pool; the stride defaults to the window; ceil mode rounds the output size up.</summary>
internal sealed record MaxPoolStep(string Name, int Size, int? Stride = null, int Padding = 0, bool CeilMode = false) : PlanStep(Name);

/// <summary>A square average pool without padding; the stride defaults to the window.</summary>
internal sealed record AvgPoolStep(string Name, int Size, int? Stride = null) : PlanStep(Name);

/// <summary>Joins the outputs of the earlier steps <see cref="Sources"/> after its input along the channels
/// (<c>torch.cat([x, a, b, ...], 1)</c>).</summary>
internal sealed record ConcatStep(string Name, IReadOnlyList<string> Sources) : PlanStep(Name);

/// <summary>The mean of each channel over the whole map (PyTorch <c>AdaptiveAvgPool2d(1)</c>).</summary>
internal sealed record GlobalAvgPoolStep(string Name) : PlanStep(Name);

/// <summary>PyTorch <c>Dropout</c>: the identity in evaluation mode.</summary>
internal sealed record DropoutStep(string Name, double Rate) : PlanStep(Name);

/// <summary>Adds the output of the earlier step <see cref="Source"/> (a shortcut).</summary>
internal sealed record AddStep(string Name, string Source) : PlanStep(Name);

/// <summary>Flattens (C, H, W order) and applies PyTorch <c>Linear</c>.</summary>
internal sealed record DenseStep(string Name, int Inputs, int Units) : PlanStep(Name);
