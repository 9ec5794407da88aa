using System.Reflection;
using CnnGen.GeneratedNetworks;

namespace CnnGen.Latency;

/// <summary>
/// One image's evaluation-mode forward pass of a generated network, replayed layer by layer so each layer can be timed:
/// the generated <c>Forward_*</c> methods are called in the order of <see cref="INetwork.Layers"/> on the workspace of
/// the network's last <c>Forward</c> (its BatchNorms folded and its Winograd weights prepared by that call), each
/// reading the buffer its layer reads. A layer whose input buffer that <c>Forward</c> never wrote is left out: the
/// generated pass skips it too (a BatchNorm folded into its convolution, a ReLU that the layer before applied as it
/// stored), except a convolution, which the pass always calls: a depthwise convolution that computes the 1x1 expansion
/// before it reads that expansion's input, not its own (the expansion's method then returns at once). The methods are private, so this is bound by reflection; it is a measuring tool, not part of the library.
/// </summary>
internal sealed class LayerReplay
{
    private delegate void LayerCall<TWorkspace>(TWorkspace ws, ReadOnlySpan<float> input, Span<float> output, int batch);

    /// <summary>A bit pattern (a quiet NaN with a payload) that no layer writes, to find the buffers a pass leaves alone.</summary>
    private const int Untouched = 0x7FC0_DEAD;

    private readonly NetworkWorkspace _workspace;

    /// <summary>The layers the pass runs, in order, each as its name, kind and a call of its forward method.</summary>
    public IReadOnlyList<(string Name, string Kind, Action Run)> Layers { get; }

    private LayerReplay(NetworkWorkspace workspace, List<(string, string, Action)> layers)
    {
        _workspace = workspace;
        Layers = layers;
    }

    /// <summary>Runs <paramref name="network"/>'s <c>Forward</c> on <paramref name="image"/> once (one thread) to find
    /// the layers that run, and binds them.</summary>
    public static LayerReplay Bind(INetwork network, float[] image)
    {
        var type = network.GetType();
        var output = new float[network.OutputLength];
        network.Threads = 1;
        network.Forward(image, output, 1);
        object passes = type.GetProperty("GeneratedPasses", BindingFlags.Instance | BindingFlags.NonPublic)!.GetValue(network)!;
        var workspace = (NetworkWorkspace)passes.GetType().GetMethod("Workspace")!.Invoke(passes, new object[] { 0 })!;
        var buffers = new Dictionary<string, float[]>();
        foreach (var layer in network.Layers)
            if (workspace.GetType().GetField("_act_" + Id(layer.Name), BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic)?.GetValue(workspace) is float[] buffer)
                buffers[layer.Name] = buffer;
        foreach (var buffer in buffers.Values) buffer.AsSpan().Fill(BitConverter.Int32BitsToSingle(Untouched));
        network.Forward(image, output, 1);
        var written = buffers.Where(b => b.Value.AsSpan().IndexOfAnyExcept(BitConverter.Int32BitsToSingle(Untouched)) >= 0).Select(b => b.Key).ToHashSet();

        var bind = typeof(LayerReplay).GetMethod(nameof(BindLayer), BindingFlags.Static | BindingFlags.NonPublic)!.MakeGenericMethod(workspace.GetType());
        var layers = new List<(string, string, Action)>();
        foreach (var layer in network.Layers)
        {
            var method = type.GetMethod("Forward_" + Id(layer.Name), BindingFlags.Instance | BindingFlags.NonPublic);
            if (method is null || !buffers.TryGetValue(layer.Name, out var target)) continue; // a final softmax, applied by Forward
            float[] input;
            if (layer.Input is null or "input") input = image;
            else if (!buffers.TryGetValue(layer.Input, out input!) || !written.Contains(layer.Input) && layer.Kind != "Conv") continue;
            layers.Add((layer.Name, layer.Kind, (Action)bind.Invoke(null, new object[] { network, method, workspace, input, target })!));
        }
        return new LayerReplay(workspace, layers);
    }

    /// <summary>Sets the threads that split layers run on (the pass sets it for its own duration only).</summary>
    public void Split(int parts) => _workspace.SplitParts = parts;

    private static Action BindLayer<TWorkspace>(object network, MethodInfo method, TWorkspace workspace, float[] input, float[] output)
    {
        var call = (LayerCall<TWorkspace>)Delegate.CreateDelegate(typeof(LayerCall<TWorkspace>), network, method);
        return () => call(workspace, input, output, 1);
    }

    private static string Id(string name) => name.Replace('.', '_');
}
