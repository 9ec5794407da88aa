using System.Diagnostics;
using CnnGen.Onnx;
using Xunit;
using Xunit.Abstractions;

namespace CnnGen.Tests.Onnx;

/// <summary>
/// Models exported by Debian's PyTorch 1.13 (opset 13, dynamic batch, random weights, BatchNorm statistics and affine
/// parameters off their defaults) imported, built with the generator in memory, and run in evaluation mode: the outputs
/// equal ONNX Runtime's on the same file within 1e-5 of their scale, at batch 1 and 8, and the weights keep PyTorch's
/// names (torchvision's models: exactly their state_dict keys). Needs /usr/bin/python3 with python3-torch and python3-torchvision (installed by .ci/run).
/// </summary>
public sealed class ImportPyTorchTests(PyTorchOnnxModels models, ITestOutputHelper log) : IClassFixture<PyTorchOnnxModels>, IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("cnngen-import-torch-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void LeNet5WithViewFlatteningImportsAndAgrees()
    {
        var (network, model) = ImportAndBuild("lenet5", "TorchLeNet5");
        Assert.Equal(["Conv", "ReLU", "MaxPool", "Conv", "ReLU", "MaxPool", "Dense", "ReLU", "Dense", "ReLU", "Dense", "Softmax"],
            network.Layers.Select(l => l.Kind));
        Assert.Equal(["conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias", "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias", "fc3.weight", "fc3.bias"],
            network.Tensors.Select(t => t.Name));
        Assert.Equal(61_706, network.ParameterCount);
        ImportComparison.AgreesWithOnnxRuntime(network, model, log, "PyTorch LeNet-5");
    }

    [Fact]
    public void BasicBlockWithProjectionShortcutImportsAndAgrees()
    {
        var (network, model) = ImportAndBuild("basic_block", "TorchBasicBlock");
        var names = network.Layers.Select(l => l.Name).ToList();
        Assert.Contains("layer1.0.conv1", names);
        Assert.Contains("layer1.0.downsample.0", names);
        var shortcut = network.Layers.Single(l => l.Name == "layer1.0.downsample.0");
        Assert.Equal(("relu", 2, 1), (shortcut.Input, shortcut.Stride, shortcut.Kernel));
        var add = network.Layers.Single(l => l.Kind == "Add");
        Assert.Single(add.Sources);
        Assert.Contains(network.StateTensors, t => t.Name == "layer1.0.downsample.1.running_var");
        ImportComparison.AgreesWithOnnxRuntime(network, model, log, "PyTorch basic block");
    }

    [Fact]
    public void TorchvisionResNet18AndMobileNetV2ImportAndAgree()
    {
        var (resnet, resnetModel) = ImportAndBuild("resnet18", "TorchvisionResNet18");
        Assert.Equal(11_181_642, resnet.ParameterCount);
        foreach (var name in new[] { "conv1.weight", "bn1.running_mean", "layer1.0.conv1.weight", "layer2.0.downsample.0.weight", "layer4.1.bn2.bias", "fc.weight" })
            Assert.Contains(resnet.Tensors.Concat(resnet.StateTensors), t => t.Name == name);
        Assert.Equal(8, resnet.Layers.Count(l => l.Kind == "Add"));
        Assert.Equal(models.StateDictKeys("resnet18"), TensorNames(resnet));
        ImportComparison.AgreesWithOnnxRuntime(resnet, resnetModel, log, "torchvision resnet18");

        var (mobilenet, mobilenetModel) = ImportAndBuild("mobilenet_v2", "TorchvisionMobileNetV2");
        Assert.Equal(2_236_682, mobilenet.ParameterCount);
        Assert.Equal(17, mobilenet.Layers.Count(l => l.Kind == "Conv" && l.Groups > 1 && l.Groups == l.OutputChannels));
        Assert.Equal(35, mobilenet.Layers.Count(l => l.Kind == "ReLU6"));
        Assert.Equal(10, mobilenet.Layers.Count(l => l.Kind == "Add"));
        Assert.Contains(mobilenet.Tensors, t => t.Name == "features.1.conv.0.0.weight");
        Assert.Contains(mobilenet.Tensors, t => t.Name == "classifier.1.weight");
        Assert.Equal(models.StateDictKeys("mobilenet_v2"), TensorNames(mobilenet));
        ImportComparison.AgreesWithOnnxRuntime(mobilenet, mobilenetModel, log, "torchvision mobilenet_v2");
    }

    [Fact]
    public void TorchvisionGoogLeNetAndDenseNet121ImportAndAgree()
    {
        var (googlenet, googlenetModel) = ImportAndBuild("googlenet", "TorchvisionGoogLeNet");
        Assert.Equal(6_624_904 - (1024 * 1000 + 1000) + (1024 * 10 + 10), googlenet.ParameterCount);
        // Nine inception modules, each a four-branch Concat; BatchNorm with eps 0.001; ceil-mode max pools.
        Assert.Equal(9, googlenet.Layers.Count(l => l.Kind == "Concat"));
        Assert.All(googlenet.Layers.Where(l => l.Kind == "Concat"), l => Assert.Equal(3, l.Sources.Count));
        Assert.All(googlenet.Layers.Where(l => l.Kind == "BatchNorm"), l => Assert.Equal(1e-3f, l.Epsilon));
        Assert.Contains(googlenet.Layers, l => l.Kind == "MaxPool" && l.CeilMode);
        Assert.Equal(models.StateDictKeys("googlenet"), TensorNames(googlenet));
        ImportComparison.AgreesWithOnnxRuntime(googlenet, googlenetModel, log, "torchvision googlenet");

        var (densenet, densenetModel) = ImportAndBuild("densenet121", "TorchvisionDenseNet121");
        Assert.Equal(7_978_856 - (1024 * 1000 + 1000) + (1024 * 10 + 10), densenet.ParameterCount);
        // 58 dense layers, each joined to what came before; BatchNorm reads the joined features (BatchNorm after a Concat).
        Assert.Equal(58, densenet.Layers.Count(l => l.Kind == "Concat"));
        var concats = densenet.Layers.Where(l => l.Kind == "Concat").Select(l => l.Name).ToHashSet();
        Assert.Contains(densenet.Layers, l => l.Kind == "BatchNorm" && l.Input is { } input && concats.Contains(input));
        Assert.Equal(3, densenet.Layers.Count(l => l.Kind == "AvgPool"));
        Assert.Equal(models.StateDictKeys("densenet121"), TensorNames(densenet));
        ImportComparison.AgreesWithOnnxRuntime(densenet, densenetModel, log, "torchvision densenet121");
    }

    /// <summary>Every tensor of the built class, parameters and state, sorted: torchvision's state_dict keys, all of them.</summary>
    private static List<string> TensorNames(INetwork network) =>
        network.Tensors.Concat(network.StateTensors).Select(t => t.Name).Order(StringComparer.Ordinal).ToList();

    private (INetwork Network, byte[] Model) ImportAndBuild(string model, string className)
    {
        string path = models.PathOf(model);
        var clock = Stopwatch.StartNew();
        var imported = OnnxImport.Read(path);
        log.WriteLine($"{model}: read and converted in {clock.ElapsedMilliseconds} ms, {imported.Layers.Count} layers");
        clock.Restart();
        var network = ImportCompiler.Build(imported, className, _directory);
        log.WriteLine($"{model}: written, generated, compiled and loaded in {clock.ElapsedMilliseconds} ms");
        return (network, File.ReadAllBytes(path));
    }
}

/// <summary>The six PyTorch models, exported once for the class by one Python process (importing torch is most of
/// an export's time).</summary>
public sealed class PyTorchOnnxModels : IDisposable
{
    private static readonly string[] Models = ["lenet5", "basic_block", "resnet18", "mobilenet_v2", "googlenet", "densenet121"];
    private readonly string _directory = Directory.CreateTempSubdirectory("cnngen-torch-onnx-").FullName;
    private readonly Lazy<string?> _failure;

    public PyTorchOnnxModels() => _failure = new(Export);

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    public string PathOf(string model)
    {
        Assert.True(_failure.Value is null, _failure.Value);
        return Path.Combine(_directory, model + ".onnx");
    }

    /// <summary>The exported model's state_dict keys, sorted.</summary>
    public List<string> StateDictKeys(string model) =>
        File.ReadAllLines(PathOf(model) + ".keys").Where(k => k.Length != 0).Order(StringComparer.Ordinal).ToList();

    /// <returns>Null, or what went wrong.</returns>
    private string? Export()
    {
        const string python = "/usr/bin/python3";
        if (!File.Exists(python)) return $"{python} is missing: apt-get install -y python3-torch python3-torchvision";
        string script = Path.Combine(AppContext.BaseDirectory, "Fixtures", "onnx_import_models.py");
        var start = new ProcessStartInfo(python) { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(script);
        foreach (var model in Models)
        {
            start.ArgumentList.Add(model);
            start.ArgumentList.Add(Path.Combine(_directory, model + ".onnx"));
        }
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(5)))
        {
            process.Kill(entireProcessTree: true);
            return "exporting the models with PyTorch took more than 5 minutes";
        }
        return process.ExitCode == 0 ? null : $"exporting the models with PyTorch failed:\n{stdout.Result}{stderr.Result}";
    }
}
