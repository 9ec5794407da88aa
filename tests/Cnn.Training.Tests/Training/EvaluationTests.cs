using CnnGen.Data;
using Xunit;

namespace CnnGen.Training.Tests.Training;

/// <summary>Evaluation against answers worked out by hand: a 3-in, 3-out dense layer with identity weights predicts the
/// position of the largest input, so each image's prediction is chosen by where its single 2 sits.</summary>
public class EvaluationTests
{
    // (label, predicted) of each image: class 0 -> 0, 0, 1; class 1 -> 1, 2; class 2 -> 2, 2, 2, 0.
    private static readonly (int Label, int Predicted)[] Cases =
        [(0, 0), (2, 2), (1, 1), (0, 0), (2, 2), (0, 1), (1, 2), (2, 0), (2, 2)];

    private static Dataset Data((int Label, int Predicted)[] cases, int classes = 3)
    {
        var images = new float[cases.Length * 3];
        for (int i = 0; i < cases.Length; i++) images[3 * i + cases[i].Predicted] = 2f;
        return new Dataset(images, cases.Select(c => c.Label).ToArray(), 1, 1, 3, classes);
    }

    private static T Identity<T>(T network) where T : INetwork
    {
        var weight = network.Parameter("dense1.weight");
        Assert.Equal(9, weight.Length);
        network.Parameters.Clear();
        weight[0] = weight[4] = weight[8] = 1f;
        return network;
    }

    // Logits are 2 at the predicted class and 0 elsewhere: the loss is ln(e^2 + 2) - 2 when right, ln(e^2 + 2) when wrong.
    private static readonly double Right = Math.Log(Math.Exp(2) + 2) - 2, Wrong = Math.Log(Math.Exp(2) + 2);

    [Theory]
    [InlineData(false, 500)]
    [InlineData(false, 4)]
    [InlineData(true, 1)]
    [InlineData(true, 4)]
    public void ConfusionAccuracyAndLossMatchTheHandCount(bool softmax, int batchSize)
    {
        INetwork network = softmax ? Identity(new PickLargestSoftmax()) : Identity(new PickLargest());
        var e = Evaluation.Run(network, Data(Cases), batchSize);

        int[,] expected = { { 2, 1, 0 }, { 0, 1, 1 }, { 1, 0, 3 } };
        Assert.Equal(expected, e.Confusion);
        Assert.Equal(9, e.Count);
        // Rows add up to each class's image count; the diagonal over the total is the accuracy.
        int[] classCounts = [3, 2, 4];
        for (int c = 0; c < 3; c++) Assert.Equal(classCounts[c], Enumerable.Range(0, 3).Sum(p => e.Confusion[c, p]));
        Assert.Equal(6.0 / 9, e.Accuracy, 12);
        Assert.Equal((e.Confusion[0, 0] + e.Confusion[1, 1] + e.Confusion[2, 2]) / 9.0, e.Accuracy, 12);
        Assert.Equal([2.0 / 3, 1.0 / 2, 3.0 / 4], e.PerClassAccuracy);
        Assert.Equal((6 * Right + 3 * Wrong) / 9, e.Loss, 5);
    }

    [Fact]
    public void AClassWithoutImagesHasNaNAccuracyAndAnEmptyRow()
    {
        var e = Evaluation.Run(Identity(new PickLargest()), Data([(0, 0), (2, 1), (2, 2)]));
        Assert.Equal(new[,] { { 1, 0, 0 }, { 0, 0, 0 }, { 0, 1, 1 } }, e.Confusion);
        var perClass = e.PerClassAccuracy;
        Assert.Equal(1.0, perClass[0]);
        Assert.True(double.IsNaN(perClass[1]));
        Assert.Equal(0.5, perClass[2]);
        Assert.Equal(2.0 / 3, e.Accuracy, 12);
    }

    [Fact]
    public void AnEmptyDatasetGivesZeroes()
    {
        var e = Evaluation.Run(Identity(new PickLargest()), new Dataset([], [], 1, 1, 3, 3));
        Assert.Equal((0, 0.0, 0.0), (e.Count, e.Loss, e.Accuracy));
        Assert.All(e.PerClassAccuracy, a => Assert.True(double.IsNaN(a)));
    }

    [Fact]
    public void AgreesWithPredictImageByImageOnLeNet()
    {
        var network = new TrainLeNet(seed: 4) { Threads = 2 };
        var data = SyntheticData.Make(101, seed: 9);
        // Images of very different brightness and contrast, so that predictions spread over several classes.
        var random = new Random(2);
        for (int i = 0; i < data.Count; i++)
        {
            float scale = (float)(random.NextDouble() * 40 - 20), shift = (float)(random.NextDouble() * 4 - 2);
            var image = data.Image(i);
            for (int k = 0; k < image.Length; k++) image[k] = image[k] * scale + shift;
        }

        var e = Evaluation.Run(network, data, batchSize: 7);

        var expected = new int[10, 10];
        double loss = 0;
        var probabilities = new float[10];
        for (int i = 0; i < data.Count; i++)
        {
            network.Forward(data.Image(i), probabilities, 1);
            expected[data.Labels[i], network.Predict(data.Image(i))]++;
            loss -= Math.Log(probabilities[data.Labels[i]]);
        }
        Assert.Equal(expected, e.Confusion);
        Assert.True(Enumerable.Range(0, 10).Count(c => Enumerable.Range(0, 10).Sum(a => expected[a, c]) > 0) >= 3, "predictions hit fewer than 3 classes");
        Assert.Equal(Enumerable.Range(0, 10).Sum(c => expected[c, c]) / 101.0, e.Accuracy, 12);
        Assert.Equal(loss / 101, e.Loss, 4);
    }

    [Fact]
    public void ADatasetOfTheWrongShapeIsRefused()
    {
        var ex = Assert.Throws<ArgumentException>(() => Evaluation.Run(new TrainLeNet(), SyntheticData.Make(3, 1, height: 27)));
        Assert.Contains("1x28x28", ex.Message);
        Assert.Contains("1x27x28", ex.Message);
    }
}
