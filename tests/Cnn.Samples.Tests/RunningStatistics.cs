namespace CnnGen.Samples.Tests;

/// <summary>BatchNorm running statistics away from 0 and 1 but of a sensible size, so that an exporter that ignored
/// them shows, and the signal still reaches the output (a large running mean would silence every ReLU behind it).</summary>
internal static class RunningStatistics
{
    public static void Randomize(INetwork network, Random random)
    {
        var state = network.State;
        foreach (var t in network.StateTensors)
        {
            var values = state.Slice(t.Offset, t.Length);
            if (t.Name.EndsWith(".running_mean", StringComparison.Ordinal))
                for (int i = 0; i < values.Length; i++) values[i] = (float)(random.NextDouble() - 0.5) * 0.2f;
            else if (t.Name.EndsWith(".running_var", StringComparison.Ordinal))
                for (int i = 0; i < values.Length; i++) values[i] = 0.5f + (float)random.NextDouble();
        }
    }
}
