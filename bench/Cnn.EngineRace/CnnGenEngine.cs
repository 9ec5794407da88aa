using CnnGen.Optimizers;

namespace CnnGen.EngineRace;

/// <summary>The generated network: <c>Forward</c> for inference, with <c>FixedWeights</c> (as deployed: the folds and
/// transforms of the weights prepared once, as the other engines prepare theirs when a model is loaded);
/// <c>ComputeGradients</c> and the runtime's SGD (momentum 0.9) for a training step.</summary>
internal sealed class CnnGenEngine(INetwork network, int threads) : IEngine
{
    private readonly Sgd _optimizer = new(0.01f, momentum: 0.9f);

    public string Description => "CnnGen (generated code)";

    public Action Inference(float[] inputs, float[] logits, int batch)
    {
        network.Threads = threads;
        network.Training = false;
        network.FixedWeights = true;
        return () => network.Forward(inputs, logits, batch);
    }

    public Func<float>? Training(float[] inputs, int[] labels, int batch)
    {
        network.Threads = threads;
        network.Training = true;
        return () =>
        {
            float loss = network.ComputeGradients(inputs, labels, batch);
            _optimizer.Step(network.Parameters, network.Gradients);
            return loss;
        };
    }

    public void Dispose() { }
}
