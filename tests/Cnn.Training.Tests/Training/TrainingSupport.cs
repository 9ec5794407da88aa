using CnnGen.Data;

namespace CnnGen.Training.Tests.Training;

/// <summary>LeNet-5 for 28x28 grey images, as the samples declare it.</summary>
[Input(1, 28, 28)]
[Conv(5, 6, Padding = 2)] [ReLU] [MaxPool(2)]
[Conv(5, 16)] [ReLU] [MaxPool(2)]
[Dense(120)] [ReLU]
[Dense(84)] [ReLU]
[Dense(10)] [Softmax]
public partial class TrainLeNet { }

/// <summary>Three inputs straight into three logits: with the weights set to the identity it predicts the largest input.</summary>
[Input(1, 1, 3)] [Dense(3)]
public partial class PickLargest { }

/// <summary>As <see cref="PickLargest"/>, ending in softmax (outputs are probabilities).</summary>
[Input(1, 1, 3)] [Dense(3)] [Softmax]
public partial class PickLargestSoftmax { }

/// <summary>Fashion-MNIST subsets, loaded once per test run, with the training subset's mean pixel subtracted from both.</summary>
internal static class FashionData
{
    private static readonly Lazy<Dataset> TrainAll = new(() => FashionMnist.LoadTrain());
    private static readonly Lazy<Dataset> TestAll = new(() => FashionMnist.LoadTest());

    /// <summary>The first <paramref name="trainCount"/> training and <paramref name="testCount"/> test images (fresh copies).</summary>
    public static (Dataset Train, Dataset Test) Load(int trainCount, int testCount)
    {
        var train = TrainAll.Value.Subset(trainCount);
        var test = TestAll.Value.Subset(testCount);
        float mean = train.ComputeMean();
        train.SubtractMean(mean);
        test.SubtractMean(mean);
        return (train, test);
    }
}

/// <summary>Reports collected synchronously, in order (unlike <see cref="Progress{T}"/>, which posts them).</summary>
internal sealed class Recorder<T> : IProgress<T>
{
    public List<T> Items { get; } = [];
    public Action<T>? OnReport { get; init; }

    public void Report(T value)
    {
        Items.Add(value);
        OnReport?.Invoke(value);
    }
}

/// <summary>Random labelled images of a given shape, for tests that need no real data.</summary>
internal static class SyntheticData
{
    public static Dataset Make(int count, int seed, int channels = 1, int height = 28, int width = 28, int classes = 10)
    {
        var random = new Random(seed);
        int length = channels * height * width;
        var images = new float[count * length];
        for (int i = 0; i < images.Length; i++) images[i] = (float)random.NextDouble() - 0.5f;
        var labels = new int[count];
        for (int i = 0; i < count; i++) labels[i] = random.Next(classes);
        return new Dataset(images, labels, channels, height, width, classes);
    }
}

internal static class Bits
{
    public static int[] Of(ReadOnlySpan<float> values)
    {
        var bits = new int[values.Length];
        for (int i = 0; i < values.Length; i++) bits[i] = BitConverter.SingleToInt32Bits(values[i]);
        return bits;
    }
}
