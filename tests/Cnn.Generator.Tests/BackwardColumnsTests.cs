using System.Text.RegularExpressions;
using CnnGen.Generator.Tests.Infrastructure;
using static CnnGen.Generator.Tests.Infrastructure.GeneratedCode;
using static CnnGen.Generator.Tests.Infrastructure.RunningNetworks;

namespace CnnGen.Generator.Tests;

/// <summary>
/// In a network with BatchNorm (whose backward call is a worker's whole chunk) training keeps no convolution columns
/// between forward and backward: the backward pass rebuilds them a group of images at a time (as many as fit 256K
/// floats) into one buffer every convolution shares, so the buffers no longer grow with the batch, and the weight
/// gradients over groups, with a shorter last group, are still the loss's. Other networks keep each micro-batch's
/// columns, which the cache budget bounds.
/// </summary>
public class BackwardColumnsTests
{
    private const string TypeName = "Columns.Net";

    private static string Source(string attributes) => "using CnnGen;\nnamespace Columns;\n" + attributes + "\npublic partial class Net { }";

    /// <summary>conv1's columns are 8 x 25 x 576 = 115,200 floats: two images fit the budget.</summary>
    private const string TwoImagesPerGroup = "[Input(8, 24, 24)] [Conv(5, 2, Padding = 2)] [BatchNorm] [Tanh] [AvgPool(24)] [Dense(3)] [Softmax]";

    [Fact]
    public void WithBatchNorm_ColumnsAreOneImageInForwardAndOneSharedGroupInBackward()
    {
        // Rows 12 wide, so conv2's input gradient goes through the column gradient (from 16 wide the direct kernel computes it).
        // conv1: 4 x 9 x 192 = 6,912 floats per image (37 fit); conv2: 6 x 9 x 192 = 10,368 (25 fit).
        var run = AssertCompilesCleanly(Source("[Input(4, 16, 12)] [Conv(3, 6, Padding = 1)] [BatchNorm] [Tanh] [Conv(3, 5, Padding = 1)] [Tanh] [Dense(3)] [Softmax]"));
        string text = run.Sources[0].SourceText.ToString();
        Assert.Contains("Grow(ref _col_conv1, 6912L, batch);", text);
        Assert.Contains("Grow(ref _col_conv2, 10368L, batch);", text);
        // One buffer for both layers' rebuilt columns, sized for the larger group (25 x 10,368 = 259,200 floats), and one
        // column gradient, sized for conv2's image (conv1 computes no input gradient).
        Assert.Single(Regex.Matches(text, @"public float\[\] _backwardColumns = "));
        Assert.Contains("Grow(ref _backwardColumns, 259200L, batch);", text);
        Assert.Contains("Grow(ref _backwardColumnGradient, 10368L, batch);", text);
        Assert.Contains("for (int first = 0; first < batch; first += 37)", text);
        Assert.Contains("for (int first = 0; first < batch; first += 25)", text);
        Assert.DoesNotContain("_col_conv1, training ?", text);
        Assert.DoesNotContain("_dcol_", text);
    }

    [Fact]
    public void WithoutBatchNorm_EachMicroBatchsColumnsAreKeptForBackward()
    {
        var run = AssertCompilesCleanly(Source("[Input(4, 16, 12)] [Conv(3, 6, Padding = 1)] [Tanh] [Conv(3, 5, Padding = 1)] [Tanh] [Dense(3)] [Softmax]"));
        string text = run.Sources[0].SourceText.ToString();
        Assert.Contains("Grow(ref _col_conv1, training ? 6912L * batch : 6912L, batch);", text);
        Assert.Contains("Grow(ref _col_conv2, training ? 10368L * batch : 10368L, batch);", text);
        Assert.Contains("AccumulateTransposedB(dout, 960, ws._col_conv2, 10368,", text);
        Assert.DoesNotContain("_backwardColumns", text);
        Assert.Contains("Grow(ref _backwardColumnGradient, 10368L, batch);", text);
    }

    [Fact]
    public void EvaluationModeGradientOfABatchOverSeveralGroups_IsTheMeanOfTheImagesGradients()
    {
        // BatchNorm in evaluation mode (running statistics): each image's gradient is its own, and the batch's their mean.
        var run = AssertCompilesCleanly(Source(TwoImagesPerGroup));
        Assert.Contains("for (int first = 0; first < batch; first += 2)", run.Sources[0].SourceText.ToString());
        var type = LoadedNetwork.Load(run, TypeName);
        Assert.True(LoadedNetwork.Constant<int>(type, "MicroBatch") >= 5, "the batch below must be one micro-batch: groups of 2, 2 and 1");
        var network = (INetwork)Activator.CreateInstance(type, 3)!;
        network.Training = false;
        Perturb(network, 4);
        const int batch = 5;
        var inputs = Inputs(network, batch, 6);
        var labels = new[] { 2, 0, 1, 1, 0 };
        var mean = new double[network.ParameterCount];
        for (int b = 0; b < batch; b++)
        {
            network.ComputeGradients(inputs.AsSpan(b * network.InputLength, network.InputLength), labels.AsSpan(b, 1), 1);
            for (int i = 0; i < mean.Length; i++) mean[i] += network.Gradients[i] / batch;
        }
        network.ComputeGradients(inputs, labels, batch);
        var weight = network.Tensors.Single(t => t.Name == "conv1.weight");
        for (int i = weight.Offset; i < weight.Offset + weight.Length; i++)
            Assert.True(Math.Abs(mean[i] - network.Gradients[i]) <= 1e-5 * (1 + Math.Abs(mean[i])), $"conv1.weight[{i - weight.Offset}]: batch {network.Gradients[i]}, mean of images {mean[i]}");
        // Every image's columns count: the last group's image changes the batch's gradient.
        Assert.Contains(Enumerable.Range(weight.Offset, weight.Length), i => Math.Abs(mean[i] * batch) > 1e-3);
        for (int i = weight.Offset; i < weight.Offset + weight.Length; i += 37)
        {
            double central = CentralDifference(network, inputs, labels, i);
            Assert.True(Math.Abs(central - network.Gradients[i]) <= 1e-2 * Math.Abs(central) + 3e-4, $"conv1.weight[{i - weight.Offset}]: analytic {network.Gradients[i]}, central difference {central}");
        }
    }

    [Fact]
    public void BatchNormTrainingGradients_OverSeveralGroups_MatchFiniteDifferences()
    {
        // With BatchNorm in training mode the worker's whole chunk (3 images) is one backward call: groups of 2 and 1.
        var type = LoadedNetwork.Load(AssertCompilesCleanly(Source("[Input(8, 24, 24)] [Conv(5, 2, Padding = 2)] [BatchNorm] [Tanh] [AvgPool(24)] [Dense(3)] [Softmax]")), TypeName);
        AssertGradientsMatchFiniteDifferences((INetwork)Activator.CreateInstance(type, 5)!, training: true);
    }
}
