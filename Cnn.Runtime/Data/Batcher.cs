using CnnGen.Initialization;

namespace CnnGen.Data;

/// <summary>
/// Cuts a dataset into mini-batches, epoch by epoch. Each epoch's order (a Fisher-Yates shuffle) and mirror
/// choices depend only on the seed and the epoch number, so a run resumed at epoch e sees the same batches.
/// The last batch of an epoch keeps the remainder. After construction no batch allocates.
/// </summary>
public sealed class Batcher
{
    private readonly int[] _order;
    private readonly bool[] _mirrorFlags;
    private int _nextBatch;

    /// <param name="dataset">The images to serve.</param>
    /// <param name="batchSize">Images per batch (the last batch of an epoch may have fewer).</param>
    /// <param name="seed">Seeds the shuffles and the mirror choices.</param>
    /// <param name="shuffle">Shuffle each epoch; otherwise serve images in dataset order.</param>
    /// <param name="mirror">Flip each image left-right with probability 0.5 (augmentation).</param>
    public Batcher(Dataset dataset, int batchSize, int seed, bool shuffle = true, bool mirror = false)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        Dataset = dataset;
        BatchSize = batchSize;
        Seed = seed;
        Shuffle = shuffle;
        Mirror = mirror;
        _order = new int[dataset.Count];
        _mirrorFlags = new bool[dataset.Count];
        // A batch larger than the dataset is the whole dataset: the buffers hold no more than that.
        int largest = Math.Min(batchSize, dataset.Count);
        Inputs = new float[(long)largest * dataset.ImageLength];
        Labels = new int[largest];
        BeginEpoch(0);
    }

    public Dataset Dataset { get; }
    public int BatchSize { get; }
    public int Seed { get; }
    public bool Shuffle { get; }
    public bool Mirror { get; }

    /// <summary>Batches in one epoch, counting the last partial one.</summary>
    public int BatchesPerEpoch => (int)((Dataset.Count + (long)BatchSize - 1) / BatchSize);

    /// <summary>The epoch whose order is current.</summary>
    public int Epoch { get; private set; }

    /// <summary>Dataset indices in this epoch's order.</summary>
    public ReadOnlySpan<int> Order => _order;

    /// <summary>Whether the image at each position of this epoch's order is served mirrored.</summary>
    public ReadOnlySpan<bool> MirrorFlags => _mirrorFlags;

    /// <summary>The batcher's own input buffer, filled by <see cref="MoveNext"/>: <see cref="CurrentCount"/> images
    /// (room for <see cref="BatchSize"/> images, or for the whole dataset when that is smaller).</summary>
    public float[] Inputs { get; }

    /// <summary>The batcher's own label buffer, filled by <see cref="MoveNext"/>.</summary>
    public int[] Labels { get; }

    /// <summary>Index of the batch last filled by <see cref="MoveNext"/>.</summary>
    public int CurrentBatch => _nextBatch - 1;

    /// <summary>Images in the batch last filled by <see cref="MoveNext"/>.</summary>
    public int CurrentCount { get; private set; }

    /// <summary>Sets up epoch <paramref name="epoch"/>'s order and mirror choices and rewinds <see cref="MoveNext"/>.</summary>
    public void BeginEpoch(int epoch)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(epoch);
        Epoch = epoch;
        _nextBatch = 0;
        CurrentCount = 0;
        for (int i = 0; i < _order.Length; i++) _order[i] = i;
        if (!Shuffle && !Mirror) return;

        var random = new NormalRandom(((ulong)(uint)Seed << 32 | (uint)epoch) ^ 0xD1B54A32D192ED03UL);
        if (Shuffle)
        {
            for (int i = _order.Length - 1; i > 0; i--)
            {
                int j = random.NextInt(i + 1);
                (_order[i], _order[j]) = (_order[j], _order[i]);
            }
        }
        if (Mirror)
            for (int i = 0; i < _mirrorFlags.Length; i++) _mirrorFlags[i] = (random.NextBits() >> 63) != 0;
    }

    /// <summary>Fills the batcher's <see cref="Inputs"/> and <see cref="Labels"/> with the next batch of the
    /// current epoch; false when the epoch is done.</summary>
    public bool MoveNext()
    {
        if (_nextBatch >= BatchesPerEpoch)
        {
            CurrentCount = 0;
            return false;
        }
        CurrentCount = Fill(_nextBatch++, Inputs, Labels);
        return true;
    }

    /// <summary>Copies batch <paramref name="batch"/> of the current epoch into caller buffers; returns its image count.</summary>
    public int Fill(int batch, Span<float> inputs, Span<int> labels)
    {
        if ((uint)batch >= (uint)BatchesPerEpoch)
            throw new ArgumentOutOfRangeException(nameof(batch), $"batch {batch} is outside [0, {BatchesPerEpoch})");
        int start = (int)((long)batch * BatchSize);
        int count = Math.Min(BatchSize, Dataset.Count - start);
        int length = Dataset.ImageLength;
        if (inputs.Length < count * length)
            throw new ArgumentException($"input buffer holds {inputs.Length} values, the batch needs {count * length}", nameof(inputs));
        if (labels.Length < count)
            throw new ArgumentException($"label buffer holds {labels.Length} labels, the batch needs {count}", nameof(labels));

        for (int k = 0; k < count; k++)
        {
            int position = start + k;
            int index = _order[position];
            var target = inputs.Slice(k * length, length);
            Dataset.Image(index).CopyTo(target);
            if (Mirror && _mirrorFlags[position]) MirrorRows(target, Dataset.Width);
            labels[k] = Dataset.Labels[index];
        }
        return count;
    }

    /// <summary>Reverses every row of a channels x height x width image (a left-right flip).</summary>
    public static void MirrorRows(Span<float> image, int width)
    {
        for (int row = 0; row + width <= image.Length; row += width) image.Slice(row, width).Reverse();
    }
}
