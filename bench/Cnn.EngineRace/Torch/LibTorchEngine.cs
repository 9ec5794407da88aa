using TorchSharp;
using static TorchSharp.torch;

namespace CnnGen.EngineRace.Torch;

/// <summary>LibTorch through TorchSharp, eager: the plan's module with the CnnGen network's weights. Inference in
/// evaluation mode under <c>torch.inference_mode</c>; a training step is forward, cross-entropy, backward and SGD with
/// momentum 0.9. Every call's temporaries are disposed at its end.</summary>
internal sealed class LibTorchEngine : IEngine
{
    private readonly PlanModule _module;
    private readonly long[] _imageShape;
    private readonly List<IDisposable> _owned = [];

    public LibTorchEngine(INetwork weights, IReadOnlyList<PlanStep> plan, int threads)
    {
        torch.set_num_threads(threads);
        torch.set_num_interop_threads(1);
        _module = new PlanModule(weights.Name, plan);
        WeightCopy.Into(_module, weights);
        _imageShape = [weights.InputChannels, weights.InputHeight, weights.InputWidth];
        Description = $"LibTorch {torch.__version__} (TorchSharp {typeof(torch).Assembly.GetName().Version?.ToString(3)})";
    }

    public string Description { get; }

    public Action Inference(float[] inputs, float[] logits, int batch)
    {
        _module.eval();
        var x = Own(torch.tensor(inputs, [batch, .. _imageShape]));
        return () =>
        {
            using var mode = torch.inference_mode();
            using var scope = torch.NewDisposeScope();
            _module.call(x).data<float>().CopyTo(logits);
        };
    }

    public Func<float>? Training(float[] inputs, int[] labels, int batch)
    {
        _module.train();
        var x = Own(torch.tensor(inputs, [batch, .. _imageShape]));
        var y = Own(torch.tensor(labels.Select(l => (long)l).ToArray()));
        var optimizer = Own(torch.optim.SGD(_module.parameters(), 0.01, momentum: 0.9));
        return () =>
        {
            using var scope = torch.NewDisposeScope();
            optimizer.zero_grad();
            var loss = nn.functional.cross_entropy(_module.call(x), y);
            loss.backward();
            optimizer.step();
            return loss.item<float>();
        };
    }

    private T Own<T>(T value) where T : IDisposable
    {
        _owned.Add(value);
        return value;
    }

    public void Dispose()
    {
        foreach (var value in _owned) value.Dispose();
        _module.Dispose();
    }
}
