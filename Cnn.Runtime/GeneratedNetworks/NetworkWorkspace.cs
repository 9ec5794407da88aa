namespace CnnGen.GeneratedNetworks;

/// <summary>
/// One worker thread's buffers in a generated network: what every network's workspace holds. The generated class
/// derives its own workspace from this one, adds a buffer per layer output, gradient and scratch, and sizes them in
/// <see cref="Ensure"/>.
/// </summary>
public abstract class NetworkWorkspace
{
    private readonly string _network;

    /// <param name="network">The network's class name, for messages.</param>
    protected NetworkWorkspace(string network) => _network = network;

    /// <summary>True while computing gradients: layers keep what the backward pass needs.</summary>
    public bool KeepForBackward { get; set; }

    /// <summary>True for a pass run with <see cref="KeepForBackward"/> so that every layer's own output can be read after it
    /// (<c>Activations</c>' unfused pass): then no BatchNorm, sum or convolution applies the ReLU after it as it stores, as
    /// in a gradient pass, where their own outputs are not written.</summary>
    public bool WritesEveryOutput { get; set; }

    /// <summary>The network's training mode for this pass (dropout drops values, BatchNorm uses the batch's statistics).</summary>
    public bool TrainMode { get; set; }

    /// <summary>This workspace's worker: worker 0 updates BatchNorm's running statistics.</summary>
    public int Worker { get; set; }

    /// <summary>Evaluation with each BatchNorm folded into the convolution before it.</summary>
    public bool Folded { get; set; }

    /// <summary>Threads each split layer of this pass runs on (1: the pass does not split layers). Set only for an
    /// evaluation-mode forward pass with fewer images than threads.</summary>
    public int SplitParts { get; set; } = 1;

    /// <summary>Index within the whole batch of the first image of the current micro-batch.</summary>
    public int ImageOffset { get; set; }

    /// <summary>Where this worker adds its parameter gradients (worker 0: the network's own buffer).</summary>
    public float[] Gradients { get; set; } = Array.Empty<float>();

    /// <summary>Sum of this worker's per-image losses.</summary>
    public double Loss { get; set; }

    /// <summary>This worker's images whose highest logit was their label.</summary>
    public int Correct { get; set; }

    private float[] _tailInputs = Array.Empty<float>();

    /// <summary>The head outputs a batched tail's block of <paramref name="images"/> images gathers, <paramref name="perImage"/> values each.</summary>
    internal Span<float> TailInputs(int images, int perImage)
    {
        Grow(ref _tailInputs, (long)images * perImage, images);
        return _tailInputs;
    }

    private int[] _tailImages = Array.Empty<int>();

    /// <summary>Where in the batch each of a batched tail's <paramref name="images"/> gathered images lies, when the
    /// images of an evaluation batch are shared out as the workers ask for them (so a worker's images need not follow
    /// one another).</summary>
    internal Span<int> TailImages(int images)
    {
        Grow(ref _tailImages, images, images);
        return _tailImages;
    }

    /// <summary>Grows the buffers for <paramref name="batch"/> images; <paramref name="training"/> adds the backward pass's.</summary>
    public abstract void Ensure(int batch, bool training);

    /// <summary>Replaces <paramref name="buffer"/> by one of <paramref name="length"/> values when it is shorter.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The buffer would be larger than an array can be.</exception>
    protected void Grow<T>(ref T[] buffer, long length, int batch)
    {
        ArgumentNullException.ThrowIfNull(buffer);
        if (buffer.Length >= length) return;
        if (length > Array.MaxLength)
            throw new ArgumentOutOfRangeException(nameof(batch), batch, $"{_network}: a batch of {batch} images needs a buffer of {length} values, more than an array holds; use smaller batches.");
        buffer = new T[length];
    }
}
