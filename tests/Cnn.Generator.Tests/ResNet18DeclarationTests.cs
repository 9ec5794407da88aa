using System.Text;
using CnnGen.Generator.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using Xunit.Abstractions;

namespace CnnGen.Generator.Tests;

/// <summary>
/// torchvision 0.14's resnet18, declared module for module with the graph forms (From, Add, Bias = false, GlobalAvgPool,
/// dotted names): 11,689,512 parameters, and exactly the 122 keys of its state_dict.
/// </summary>
public class ResNet18DeclarationTests(ITestOutputHelper output)
{
    /// <summary>The declaration, built block by block as torchvision's <c>_make_layer</c> builds it.</summary>
    public static string Declaration()
    {
        var sb = new StringBuilder("using CnnGen;\nnamespace TorchVision;\n[Input(3, 224, 224)]\n");
        sb.AppendLine("[Conv(7, 64, Stride = 2, Padding = 3, Bias = false, Name = \"conv1\")] [BatchNorm(Name = \"bn1\")] [ReLU(Name = \"relu\")]");
        sb.AppendLine("[MaxPool(3, Stride = 2, Padding = 1, Name = \"maxpool\")]");
        string previous = "maxpool";
        int channels = 64;
        foreach (var (layer, width) in new[] { (1, 64), (2, 128), (3, 256), (4, 512) })
        {
            for (int block = 0; block < 2; block++)
            {
                string p = $"layer{layer}.{block}";
                int stride = layer > 1 && block == 0 ? 2 : 1;
                sb.AppendLine($"[Conv(3, {width}, Stride = {stride}, Padding = 1, Bias = false, Name = \"{p}.conv1\")] [BatchNorm(Name = \"{p}.bn1\")] [ReLU(Name = \"{p}.relu\")]");
                sb.AppendLine($"[Conv(3, {width}, Padding = 1, Bias = false, Name = \"{p}.conv2\")] [BatchNorm(Name = \"{p}.bn2\")]");
                string shortcut = previous;
                if (stride != 1 || channels != width)
                {
                    sb.AppendLine($"[Conv(1, {width}, Stride = {stride}, Bias = false, From = \"{previous}\", Name = \"{p}.downsample.0\")] [BatchNorm(Name = \"{p}.downsample.1\")]");
                    sb.AppendLine($"[Add(\"{p}.bn2\", Name = \"{p}.add\")] [ReLU(Name = \"{p}.out\")]");
                }
                else sb.AppendLine($"[Add(\"{shortcut}\", Name = \"{p}.add\")] [ReLU(Name = \"{p}.out\")]");
                previous = $"{p}.out";
                channels = width;
            }
        }
        sb.AppendLine("[GlobalAvgPool(Name = \"avgpool\")] [Dense(1000, Name = \"fc\")]");
        sb.AppendLine("public partial class ResNet18 { }");
        return sb.ToString();
    }

    [Fact]
    public void CountsAndNamesItsTensorsAsTorchvision()
    {
        var run = TestDriver.Run(Declaration());
        Assert.Null(run.Result.Exception);
        // torchvision's stride-2 3x3 and 7x7 convolutions leave the last row and column unread, as CNN0011 says; nothing else.
        Assert.All(run.GeneratorDiagnostics, d => Assert.Equal("CNN0011", d.Id));
        Assert.Empty(run.OutputProblems);
        var type = LoadedNetwork.Load(run, "TorchVision.ResNet18");
        Assert.Equal(11_689_512, LoadedNetwork.Constant<int>(type, "ParameterCount"));
        var network = (INetwork)Activator.CreateInstance(type, 0)!;
        var keys = network.Tensors.Select(t => t.Name).Concat(network.StateTensors.Select(t => t.Name)).ToList();
        Assert.Equal(122, keys.Count);
        Assert.Equal(62, network.Tensors.Count);
        Assert.Contains("layer2.0.downsample.0.weight", keys);
        Assert.Contains("layer4.1.bn2.num_batches_tracked", keys);
        Assert.DoesNotContain(keys, k => k.EndsWith("conv1.bias", StringComparison.Ordinal));
        Assert.Equal(new[] { 1000, 512 }, network.Tensors.Single(t => t.Name == "fc.weight").Shape);
        long macs = LoadedNetwork.Constant<long>(type, "ForwardMacs");
        output.WriteLine($"resnet18: {network.ParameterCount:N0} parameters, {macs:N0} MACs, {keys.Count} state_dict keys");
        Assert.Equal((512, 1, 1), (network.Layers.Single(l => l.Name == "avgpool").OutputChannels, network.Layers.Single(l => l.Name == "avgpool").OutputHeight, network.Layers.Single(l => l.Name == "avgpool").OutputWidth));
    }
}
