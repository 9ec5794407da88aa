namespace CnnGen.EngineRace.Torch;

/// <summary>
/// A plan read off a generated network's own layer list (<see cref="INetwork.Layers"/>: kinds, windows, strides,
/// paddings, joins and the layer each reads), for networks of many branches such as torchvision's GoogLeNet and
/// DenseNet-121, whose plans would otherwise be written out by hand. The weights still go in by PyTorch name
/// (<see cref="WeightCopy"/>) and the race checks the module's logits against PyTorch's, so a plan that read the list
/// wrongly does not pass unnoticed.
/// </summary>
internal static class LayerPlans
{
    public static IReadOnlyList<PlanStep> From(INetwork network)
    {
        var steps = new List<PlanStep>();
        var byName = network.Layers.ToDictionary(l => l.Name);
        string? previous = null;
        foreach (var l in network.Layers)
        {
            // What it reads: an earlier layer, or (null, or the input's own name) the network's input.
            var read = l.Input is { } input && byName.TryGetValue(input, out var layer) ? layer : null;
            int inChannels = read?.OutputChannels ?? network.InputChannels;
            long inLength = read?.OutputLength ?? network.InputLength;
            PlanStep step = l.Kind switch
            {
                "Conv" => new ConvStep(l.Name, inChannels, l.OutputChannels, l.Kernel, l.Padding, l.Stride, l.Groups,
                    Bias: network.Tensors.Any(t => t.Name == l.Name + ".bias")),
                "BatchNorm" => new BatchNormStep(l.Name, l.OutputChannels, l.Epsilon),
                "ReLU" => new ReLUStep(l.Name),
                "ReLU6" => new ReLU6Step(l.Name),
                "MaxPool" => new MaxPoolStep(l.Name, l.Kernel, l.Stride, l.Padding, l.CeilMode),
                "AvgPool" when l.Padding == 0 && !l.CeilMode => new AvgPoolStep(l.Name, l.Kernel, l.Stride),
                "GlobalAvgPool" => new GlobalAvgPoolStep(l.Name),
                "Dropout" => new DropoutStep(l.Name, l.DropoutRate),
                "Add" when l.Sources.Count == 1 => new AddStep(l.Name, l.Sources[0]),
                "Concat" => new ConcatStep(l.Name, l.Sources),
                "Dense" => new DenseStep(l.Name, (int)inLength, l.OutputChannels),
                _ => throw new NotSupportedException($"{network.Name}: no TorchSharp step for layer {l.Name} ({l.Kind})"),
            };
            // A layer that reads anything but the one before it names what it reads.
            steps.Add(read is not null && read.Name != previous ? step with { From = read.Name } : step);
            previous = l.Name;
        }
        return steps;
    }
}
