using CnnGen.Data;

namespace CnnGen.Training;

/// <summary>Loss, accuracy, per-class accuracy and confusion matrix of a network on a dataset.</summary>
/// <param name="Confusion"><c>Confusion[actual, predicted]</c> counts.</param>
public sealed record Evaluation(double Loss, double Accuracy, int Count, int[,] Confusion)
{
    /// <summary>Fraction of each class's images predicted as that class (NaN for a class with no image).</summary>
    public double[] PerClassAccuracy
    {
        get
        {
            int classes = Confusion.GetLength(0);
            var result = new double[classes];
            for (int c = 0; c < classes; c++)
            {
                int total = 0;
                for (int p = 0; p < classes; p++) total += Confusion[c, p];
                result[c] = total == 0 ? double.NaN : (double)Confusion[c, c] / total;
            }
            return result;
        }
    }

    /// <summary>Runs the network, in evaluation mode, over every image of <paramref name="data"/> in batches.</summary>
    public static Evaluation Run(INetwork network, Dataset data, int batchSize = 500)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(data);
        CheckShape(network, data, "the dataset", nameof(data));
        bool training = network.Training;
        network.Training = false;
        try
        {
            return Evaluate(network, data, batchSize);
        }
        finally
        {
            network.Training = training;
        }
    }

    private static Evaluation Evaluate(INetwork network, Dataset data, int batchSize)
    {
        int classes = network.OutputLength;
        var confusion = new int[classes, classes];
        var outputs = new float[batchSize * classes];
        double loss = 0;
        int correct = 0;
        bool probabilities = network.Layers.Count > 0 && network.Layers[^1].Kind == "Softmax";
        for (int start = 0; start < data.Count; start += batchSize)
        {
            int n = Math.Min(batchSize, data.Count - start);
            var y = outputs.AsSpan(0, n * classes);
            network.Forward(data.Images.AsSpan(start * data.ImageLength, n * data.ImageLength), y, n);
            for (int b = 0; b < n; b++)
            {
                var row = y.Slice(b * classes, classes);
                int label = data.Labels[start + b];
                int predicted = Kernels.SoftmaxCrossEntropy.ArgMax(row);
                if (predicted == label) correct++;
                if (label < classes) confusion[label, predicted]++;
                loss += probabilities ? -Math.Log(Math.Max(row[label], 1e-30f)) : CrossEntropyOfLogits(row, label);
            }
        }
        return new Evaluation(data.Count == 0 ? 0 : loss / data.Count, data.Count == 0 ? 0 : (double)correct / data.Count, data.Count, confusion);
    }

    /// <summary>Throws unless the dataset's images have the network's channels, height and width (not merely as many values).</summary>
    internal static void CheckShape(INetwork network, Dataset data, string what, string paramName)
    {
        if (data.Channels != network.InputChannels || data.Height != network.InputHeight || data.Width != network.InputWidth)
            throw new ArgumentException($"{network.Name} takes {network.InputChannels}x{network.InputHeight}x{network.InputWidth} images, " +
                                        $"but {what} holds {data.Channels}x{data.Height}x{data.Width}.", paramName);
    }

    private static double CrossEntropyOfLogits(ReadOnlySpan<float> logits, int label)
    {
        double max = double.NegativeInfinity;
        foreach (var z in logits) max = Math.Max(max, z);
        double sum = 0;
        foreach (var z in logits) sum += Math.Exp(z - max);
        return Math.Log(sum) + max - logits[label];
    }
}
