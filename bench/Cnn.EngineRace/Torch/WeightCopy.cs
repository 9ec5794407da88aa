using TorchSharp;
using static TorchSharp.torch;

namespace CnnGen.EngineRace.Torch;

/// <summary>Copies a CnnGen network's parameters and BatchNorm state into a TorchSharp module by PyTorch name.
/// The two must hold exactly the same tensors with the same shapes; otherwise the error names the first difference.</summary>
internal static class WeightCopy
{
    public static void Into(nn.Module module, INetwork network)
    {
        float[] parameters = network.Parameters.ToArray(), state = network.State.ToArray();
        var sources = network.Tensors.Select(t => (Info: t, Buffer: parameters))
            .Concat(network.StateTensors.Select(t => (Info: t, Buffer: state)))
            .ToDictionary(s => s.Info.Name);
        var targets = module.state_dict();
        foreach (var name in sources.Keys.Where(n => !targets.ContainsKey(n)))
            throw new InvalidOperationException($"{name} of {network.Name} has no tensor in the TorchSharp module");
        using var _ = torch.no_grad();
        foreach (var (name, target) in targets)
        {
            if (!sources.TryGetValue(name, out var source))
                throw new InvalidOperationException($"{name} of the TorchSharp module is not in {network.Name}");
            long[] shape = source.Info.Shape.Select(d => (long)d).ToArray();
            if (!target.shape.SequenceEqual(shape))
                throw new InvalidOperationException($"{name}: TorchSharp shape [{string.Join(", ", target.shape)}], {network.Name} has {source.Info.ShapeText}");
            var values = source.Buffer.AsSpan(source.Info.Offset, source.Info.Length).ToArray();
            using var copy = torch.tensor(values, shape).to_type(target.dtype);
            target.copy_(copy);
        }
    }
}
