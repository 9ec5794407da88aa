using TorchSharp;
using static TorchSharp.torch;

namespace CnnGen.EngineRace.Torch;

/// <summary>A TorchSharp module that runs a plan: layers with parameters are registered under their CnnGen names (a
/// dotted name as nested modules), the outputs that shortcuts, joins and <c>From</c> steps read are kept by name.</summary>
internal sealed class PlanModule : nn.Module<Tensor, Tensor>
{
    private readonly IReadOnlyList<PlanStep> _steps;
    private readonly Dictionary<string, nn.Module<Tensor, Tensor>> _layers = [];
    private readonly HashSet<string> _shortcutSources;
    private readonly Dictionary<string, ModuleGroup> _groups = [];

    public PlanModule(string name, IReadOnlyList<PlanStep> steps) : base(name)
    {
        _steps = steps;
        _shortcutSources = steps.OfType<AddStep>().Select(a => a.Source)
            .Concat(steps.OfType<ConcatStep>().SelectMany(c => c.Sources))
            .Concat(steps.Select(c => c.From).OfType<string>()).ToHashSet();
        foreach (var step in steps)
        {
            nn.Module<Tensor, Tensor>? layer = step switch
            {
                ConvStep c => nn.Conv2d(c.InChannels, c.OutChannels, c.Kernel, stride: c.Stride, padding: c.Padding,
                    groups: c.Groups, bias: c.Bias),
                BatchNormStep b => nn.BatchNorm2d(b.Channels, eps: b.Epsilon),
                DenseStep d => nn.Linear(d.Inputs, d.Units),
                _ => null,
            };
            if (layer is null) continue;
            _layers[step.Name] = layer;
            ModuleGroup.Register(this, _groups, step.Name, layer);
        }
    }

    public override Tensor forward(Tensor input)
    {
        var kept = new Dictionary<string, Tensor>();
        var x = input;
        foreach (var step in _steps)
        {
            if (step.From is { } from) x = kept[from];
            x = step switch
            {
                ConvStep or BatchNormStep => _layers[step.Name].call(x),
                DenseStep => _layers[step.Name].call(x.flatten(1)),
                ReLUStep => nn.functional.relu(x),
                ReLU6Step => nn.functional.relu6(x),
                MaxPoolStep p => nn.functional.max_pool2d(x, p.Size, stride: p.Stride ?? p.Size, padding: p.Padding, ceil_mode: p.CeilMode),
                AvgPoolStep p => nn.functional.avg_pool2d(x, p.Size, stride: p.Stride ?? p.Size),
                ConcatStep c => torch.cat([x, .. c.Sources.Select(source => kept[source])], 1),
                GlobalAvgPoolStep => nn.functional.adaptive_avg_pool2d(x, 1),
                DropoutStep d => nn.functional.dropout(x, d.Rate, training),
                AddStep a => x + kept[a.Source],
                _ => throw new InvalidOperationException($"{step.Name}: no TorchSharp layer for {step.GetType().Name}"),
            };
            if (_shortcutSources.Contains(step.Name)) kept[step.Name] = x;
        }
        return x;
    }
}
