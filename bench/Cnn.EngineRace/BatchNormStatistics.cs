namespace CnnGen.EngineRace;

/// <summary>Running statistics that describe real activations, so that evaluation mode neither is the identity nor
/// drifts through a deep network: one training-mode pass from the fresh state (mean 0, variance 1), then each
/// BatchNorm's momentum update undone, leaving the batch's own mean and (unbiased) variance as the running values.</summary>
internal static class BatchNormStatistics
{
    public static void FromOneBatch(INetwork network, float[] images, int count)
    {
        var momentum = network.Layers.Where(l => l.Kind == "BatchNorm").ToDictionary(l => l.Name, l => l.Momentum);
        network.Training = true;
        network.Threads = 2;
        network.ComputeGradients(images, RaceData.Labels(count, network.OutputLength), count);
        network.Training = false;
        network.Threads = 1;
        var state = network.State;
        foreach (var tensor in network.StateTensors)
        {
            int dot = tensor.Name.LastIndexOf('.');
            string layer = tensor.Name[..dot], kind = tensor.Name[(dot + 1)..];
            if (kind is not ("running_mean" or "running_var")) continue;
            float m = momentum[layer], fresh = kind == "running_var" ? 1 : 0;
            // stored = (1 - m) * fresh + m * batch
            foreach (ref float value in state.Slice(tensor.Offset, tensor.Length)) value = (value - (1 - m) * fresh) / m;
        }
    }
}
