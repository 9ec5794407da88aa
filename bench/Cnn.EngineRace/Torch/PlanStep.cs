namespace CnnGen.EngineRace.Torch;

/// <summary>One layer of a network as the TorchSharp module runs it; <see cref="Name"/> is the CnnGen layer name, and
/// layers with parameters register under it, so their tensors get the same PyTorch names as the CnnGen network's.</summary>
internal abstract record PlanStep(string Name);

/// <summary>A square convolution, stride 1 (PyTorch <c>Conv2d</c>).</summary>
internal sealed record ConvStep(string Name, int InChannels, int OutChannels, int Kernel, int Padding) : PlanStep(Name);

/// <summary>PyTorch <c>BatchNorm2d</c> with its defaults (eps 1e-5, momentum 0.1).</summary>
internal sealed record BatchNormStep(string Name, int Channels) : PlanStep(Name);

internal sealed record ReLUStep(string Name) : PlanStep(Name);

internal sealed record MaxPoolStep(string Name, int Size) : PlanStep(Name);

internal sealed record AvgPoolStep(string Name, int Size) : PlanStep(Name);

/// <summary>Adds the output of the earlier step <see cref="Source"/> (the identity shortcut).</summary>
internal sealed record AddStep(string Name, string Source) : PlanStep(Name);

/// <summary>Flattens (C, H, W order) and applies PyTorch <c>Linear</c>.</summary>
internal sealed record DenseStep(string Name, int Inputs, int Units) : PlanStep(Name);
