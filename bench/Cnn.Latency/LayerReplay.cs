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
    private delegate void PassCall<TWorkspace>(TWorkspace ws, ReadOnlySpan<float> inputs, int batch);

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
        // An evaluation pass keeps outputs in shared buffers, where a layer's writes cannot be told from a later layer's:
        // the same pass runs once more on every layer's own buffer (sized as for training), to see which it writes.
        workspace.Ensure(1, training: true);
        var own = Buffers(network, workspace);
        foreach (var buffer in own.Values) buffer.AsSpan().Fill(BitConverter.Int32BitsToSingle(Untouched));
        var runForward = type.GetMethod("RunForward", BindingFlags.Instance | BindingFlags.NonPublic)!;
        typeof(LayerReplay).GetMethod(nameof(RunPass), BindingFlags.Static | BindingFlags.NonPublic)!.MakeGenericMethod(workspace.GetType())
            .Invoke(null, new object[] { network, runForward, workspace, image });
        var written = own.Where(b => b.Value.AsSpan().IndexOfAnyExcept(BitConverter.Int32BitsToSingle(Untouched)) >= 0).Select(b => b.Key).ToHashSet();
        network.Forward(image, output, 1); // the shared buffers again, which the layers are bound to
        var buffers = Buffers(network, workspace);

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

    /// <summary>Each layer's output buffer in the workspace as it is now.</summary>
    private static Dictionary<string, float[]> Buffers(INetwork network, NetworkWorkspace workspace)
    {
        var buffers = new Dictionary<string, float[]>();
        foreach (var layer in network.Layers)
            if (workspace.GetType().GetField("_act_" + Id(layer.Name), BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic)?.GetValue(workspace) is float[] buffer)
                buffers[layer.Name] = buffer;
        return buffers;
    }

    /// <summary>Sets the threads that split layers run on (the pass sets it for its own duration only).</summary>
    public void Split(int parts) => _workspace.SplitParts = parts;

    private static void RunPass<TWorkspace>(object network, MethodInfo method, TWorkspace workspace, float[] image) =>
        ((PassCall<TWorkspace>)Delegate.CreateDelegate(typeof(PassCall<TWorkspace>), network, method))(workspace, image, 1);

    private static Action BindLayer<TWorkspace>(object network, MethodInfo method, TWorkspace workspace, float[] input, float[] output)
    {
        var call = (LayerCall<TWorkspace>)Delegate.CreateDelegate(typeof(LayerCall<TWorkspace>), network, method);
        return () => call(workspace, input, output, 1);
    }

    private static string Id(string name) => name.Replace('.', '_');
}
