using TorchSharp;
using static TorchSharp.torch;

namespace CnnGen.EngineRace.Torch;

/// <summary>A TorchSharp module that runs a plan: layers with parameters are registered under their CnnGen names, the
/// outputs that shortcuts read are kept by name.</summary>
internal sealed class PlanModule : nn.Module<Tensor, Tensor>
{
    private readonly IReadOnlyList<PlanStep> _steps;
    private readonly Dictionary<string, nn.Module<Tensor, Tensor>> _layers = [];
    private readonly HashSet<string> _shortcutSources;

    public PlanModule(string name, IReadOnlyList<PlanStep> steps) : base(name)
    {
        _steps = steps;
        _shortcutSources = steps.OfType<AddStep>().Select(a => a.Source).ToHashSet();
        foreach (var step in steps)
        {
            nn.Module<Tensor, Tensor>? layer = step switch
            {
                ConvStep c => nn.Conv2d(c.InChannels, c.OutChannels, c.Kernel, padding: c.Padding),
                BatchNormStep b => nn.BatchNorm2d(b.Channels),
                DenseStep d => nn.Linear(d.Inputs, d.Units),
                _ => null,
            };
            if (layer is null) continue;
            _layers[step.Name] = layer;
            register_module(step.Name, layer);
        }
    }

    public override Tensor forward(Tensor input)
    {
        var kept = new Dictionary<string, Tensor>();
        var x = input;
        foreach (var step in _steps)
        {
            x = step switch
            {
                ConvStep or BatchNormStep => _layers[step.Name].call(x),
                DenseStep => _layers[step.Name].call(x.flatten(1)),
                ReLUStep => nn.functional.relu(x),
                MaxPoolStep p => nn.functional.max_pool2d(x, p.Size),
                AvgPoolStep p => nn.functional.avg_pool2d(x, p.Size),
                AddStep a => x + kept[a.Source],
                _ => throw new InvalidOperationException($"{step.Name}: no TorchSharp layer for {step.GetType().Name}"),
            };
            if (_shortcutSources.Contains(step.Name)) kept[step.Name] = x;
        }
        return x;
    }
}
