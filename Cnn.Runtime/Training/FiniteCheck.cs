using System.Globalization;

namespace CnnGen.Training;

/// <summary>Finds what is no longer finite in a network after training: a parameter or state value, named by tensor.</summary>
internal static class FiniteCheck
{
    /// <summary>"conv1.weight holds NaN at index 3", or null when every parameter and state value is finite.</summary>
    public static string? FirstNonFinite(INetwork network)
    {
        var parameters = network.Parameters;
        foreach (var t in network.Tensors)
            if (Find(parameters.Slice(t.Offset, t.Length)) is int i) return Describe(t.Name, parameters[t.Offset + i], i);
        var state = network.State;
        foreach (var t in network.StateTensors)
            if (Find(state.Slice(t.Offset, t.Length)) is int i) return Describe(t.Name, state[t.Offset + i], i);
        return null;
    }

    private static int? Find(ReadOnlySpan<float> values)
    {
        for (int i = 0; i < values.Length; i++)
            if (!float.IsFinite(values[i])) return i;
        return null;
    }

    private static string Describe(string tensor, float value, int index) =>
        string.Create(CultureInfo.InvariantCulture, $"{tensor} holds {(float.IsNaN(value) ? "NaN" : value > 0 ? "+infinity" : "-infinity")} at index {index}");
}
