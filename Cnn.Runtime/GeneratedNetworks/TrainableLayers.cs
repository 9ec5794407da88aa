namespace CnnGen.GeneratedNetworks;

/// <summary>
/// Finds a layer with parameters by name, for a generated network's <c>Freeze</c>, <c>Unfreeze</c> and <c>IsFrozen</c>.
/// The names come from the network's <see cref="LayerInfo"/> list, so a generated file holds each name once however
/// deep the network is.
/// </summary>
public static class TrainableLayers
{
    /// <summary>The position among <paramref name="layers"/> of the layer named <paramref name="layer"/>, which must have parameters.</summary>
    /// <param name="network">The network's class name, for the message.</param>
    /// <param name="layers">The network's layers, in order.</param>
    /// <param name="layer">The name asked for.</param>
    /// <exception cref="ArgumentException">No layer has that name, or the layer has no parameters; the message lists the layers that have.</exception>
    public static int IndexOf(string network, IReadOnlyList<LayerInfo> layers, string layer)
    {
        ArgumentNullException.ThrowIfNull(layers);
        for (int i = 0; i < layers.Count; i++)
        {
            if (!string.Equals(layers[i].Name, layer, StringComparison.Ordinal)) continue;
            if (layers[i].Parameters > 0) return i;
            throw new ArgumentException($"{network}: layer {layer} has no parameters to freeze; layers with parameters: {Names(layers)}.", nameof(layer));
        }
        throw new ArgumentException($"{network} has no layer named '{layer}'; layers with parameters: {Names(layers)}.", nameof(layer));
    }

    /// <summary>The names of the layers with parameters, comma-separated; "none" when no layer has any.</summary>
    public static string Names(IReadOnlyList<LayerInfo> layers)
    {
        ArgumentNullException.ThrowIfNull(layers);
        var names = new List<string>();
        foreach (var l in layers)
            if (l.Parameters > 0) names.Add(l.Name);
        return names.Count == 0 ? "none" : string.Join(", ", names);
    }
}
