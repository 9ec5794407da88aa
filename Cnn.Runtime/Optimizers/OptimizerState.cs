namespace CnnGen.Optimizers;

/// <summary>Shared checks and copies for <see cref="IOptimizer.LoadState"/>.</summary>
internal static class OptimizerState
{
    /// <summary>Checks that <paramref name="state"/> holds only known slots, either all of them or none, of one length.</summary>
    public static void Validate(string optimizer, IReadOnlyList<string> slots, IReadOnlyDictionary<string, float[]> state, long stepCount)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentOutOfRangeException.ThrowIfNegative(stepCount);
        int length = -1;
        foreach (var (name, values) in state)
        {
            if (!slots.Contains(name))
                throw new ArgumentException($"{optimizer} has no state slot '{name}' (it keeps: {string.Join(", ", slots)})", nameof(state));
            ArgumentNullException.ThrowIfNull(values, $"state[{name}]");
            if (length >= 0 && values.Length != length)
                throw new ArgumentException($"{optimizer} state slot '{name}' has {values.Length} values, another slot has {length}", nameof(state));
            length = values.Length;
        }
        if (state.Count != 0 && state.Count != slots.Count)
            throw new ArgumentException($"{optimizer} state has slots {string.Join(", ", state.Keys)}; it needs all of {string.Join(", ", slots)}", nameof(state));
    }

    public static float[]? Copy(IReadOnlyDictionary<string, float[]> state, string slot) =>
        state.TryGetValue(slot, out var values) ? (float[])values.Clone() : null;

    public static void CheckLengths(string optimizer, int parameters, int gradients, float[]? buffer)
    {
        if (parameters != gradients)
            throw new ArgumentException($"{optimizer}: {parameters} parameters but {gradients} gradients");
        if (buffer is not null && buffer.Length != parameters)
            throw new ArgumentException($"{optimizer}: state holds {buffer.Length} values but {parameters} parameters were given");
    }

    public static string Text(float value) => value.ToString("R", System.Globalization.CultureInfo.InvariantCulture);

    public static string Text(double value) => value.ToString("R", System.Globalization.CultureInfo.InvariantCulture);
}
