namespace CnnGen.Training;

/// <summary>
/// The parameters of a network's frozen layers, set aside before an optimiser step and put back after it, so they stay
/// bit for bit what they were whatever the optimiser does (weight decay, momentum).
/// </summary>
internal sealed class FrozenParameters
{
    private readonly (int Offset, int Length)[] _ranges;
    private readonly float[] _saved;

    private FrozenParameters((int Offset, int Length)[] ranges)
    {
        _ranges = ranges;
        _saved = new float[ranges.Sum(r => r.Length)];
    }

    /// <summary>The tensors of the layers frozen now.</summary>
    public static FrozenParameters Of(INetwork network) => new(network.Tensors
        .Where(t => network.IsFrozen(t.Name[..t.Name.LastIndexOf('.')]))
        .Select(t => (t.Offset, t.Length))
        .ToArray());

    public void Save(ReadOnlySpan<float> parameters)
    {
        int at = 0;
        foreach (var (offset, length) in _ranges)
        {
            parameters.Slice(offset, length).CopyTo(_saved.AsSpan(at, length));
            at += length;
        }
    }

    public void Restore(Span<float> parameters)
    {
        int at = 0;
        foreach (var (offset, length) in _ranges)
        {
            _saved.AsSpan(at, length).CopyTo(parameters.Slice(offset, length));
            at += length;
        }
    }
}
