using System.Text.Json;
using CnnGen.Checkpoints;
using CnnGen.Data;
using CnnGen.PyTorch;
using CnnGen.Samples.Networks;
using CnnGen.Training;
using Xunit;
using Xunit.Abstractions;

namespace CnnGen.Samples.Tests;

/// <summary>
/// <c>export --format pytorch</c>: every sample network as a PyTorch module (Debian's PyTorch 1.13) loads a CnnGen
/// checkpoint strictly and computes CnnGen's outputs; the exported DistributedDataParallel script trains LeNet-5 with
/// torchrun on two processes and its checkpoint scores in CnnGen what PyTorch reported.
/// </summary>
public sealed class PyTorchExportTests(ITestOutputHelper log) : IDisposable
{
    private const string Python = "/usr/bin/python3";
    private readonly string _dir = Directory.CreateTempSubdirectory("cnngen-pytorch").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    // Loads each exported module with its checkpoint, runs predict() in evaluation mode and writes the outputs.
    private const string Runner = """
        import importlib.util, json, sys
        import numpy as np, torch
        jobs = json.load(open(sys.argv[1]))
        for job in jobs:
            sys.path.insert(0, job["dir"])
            import train_ddp
            spec = importlib.util.spec_from_file_location(job["name"], job["module"])
            module = importlib.util.module_from_spec(spec); spec.loader.exec_module(module)
            model = module.Network()
            tensors, _ = train_ddp.read_safetensors(job["checkpoint"])
            model.load_state_dict(tensors, strict=True)
            model.eval()
            x = torch.from_numpy(np.fromfile(job["input"], dtype="<f4")).reshape(job["batch"], *model.input_shape)
            with torch.no_grad():
                model.predict(x).numpy().astype("<f4").tofile(job["output"])
            sys.path.pop(0); del sys.modules["train_ddp"]
            print(job["name"], "ok", flush=True)
        """;

    [Fact]
    public void EverySampleModuleComputesWhatCnnGenComputes()
    {
        var jobs = new List<Dictionary<string, object>>();
        var expected = new Dictionary<string, float[]>();
        const int batch = 3;
        foreach (var entry in SampleNetworks.All)
        {
            var network = entry.Create(11);
            network.Threads = 2;
            var random = new Random(11);
            RunningStatistics.Randomize(network, random);
            string dir = Path.Combine(_dir, entry.Name);
            string module = PyTorchExport.Save(network, dir);
            string checkpoint = Path.Combine(dir, "weights.safetensors");
            Checkpoint.Save(checkpoint, network);
            var input = new float[batch * network.InputLength];
            for (int i = 0; i < input.Length; i++) input[i] = (float)random.NextDouble();
            File.WriteAllBytes(Path.Combine(dir, "input.bin"), System.Runtime.InteropServices.MemoryMarshal.AsBytes(input.AsSpan()).ToArray());
            var outputs = new float[batch * network.OutputLength];
            network.Forward(input, outputs, batch);
            expected[entry.Name] = outputs;
            jobs.Add(new() { ["name"] = entry.Name, ["dir"] = dir, ["module"] = module, ["checkpoint"] = checkpoint, ["batch"] = batch,
                ["input"] = Path.Combine(dir, "input.bin"), ["output"] = Path.Combine(dir, "output.bin") });
        }
        string jobsFile = Path.Combine(_dir, "jobs.json"), runner = Path.Combine(_dir, "runner.py");
        File.WriteAllText(jobsFile, JsonSerializer.Serialize(jobs));
        File.WriteAllText(runner, Runner);
        var (exit, output) = ExternalProcess.Run(Python, "python3-torch", TimeSpan.FromMinutes(5), runner, jobsFile);
        Assert.True(exit == 0, output);
        foreach (var entry in SampleNetworks.All)
        {
            var actual = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(Path.Combine(_dir, entry.Name, "output.bin"))).ToArray();
            var wanted = expected[entry.Name];
            Assert.Equal(wanted.Length, actual.Length);
            float scale = Math.Max(1f, wanted.Max(Math.Abs)), largest = 0;
            for (int i = 0; i < wanted.Length; i++) largest = Math.Max(largest, Math.Abs(wanted[i] - actual[i]) / scale);
            log.WriteLine($"{entry.Name}: largest difference {largest:E1} of scale {scale:G3}, outputs spread {wanted.Max() - wanted.Min():G3}");
            Assert.True(wanted.Max() - wanted.Min() > 1e-4f, $"{entry.Name}: every output is the same, so the comparison would prove nothing");
            Assert.True(largest <= 1e-5f, $"{entry.Name}: PyTorch differs from CnnGen by {largest:E2} of the scale");
        }
    }

    [Fact]
    public void TorchrunOnTwoProcessesTrainsACheckpointThatCnnGenScoresTheSame()
    {
        string dir = Path.Combine(_dir, "ddp");
        string module = PyTorchExport.Save(new LeNet5(), dir);
        string checkpoint = Path.Combine(dir, "lenet5.safetensors");
        const int testLimit = 2000;
        var (exit, output) = ExternalProcess.Run("/usr/bin/torchrun", "python3-torch", TimeSpan.FromMinutes(5),
            // Debian's torchrun 1.13 dies before starting a worker unless told where the workers' output goes.
            "--standalone", "--nproc_per_node=2", "--redirects", "2", "--tee", "2",
            Path.Combine(dir, "train_ddp.py"), module, "--data", FashionMnist.DefaultDirectory, "--save", checkpoint,
            "--epochs", "1", "--batch", "64", "--train-limit", "12800", "--test-limit", testLimit.ToString(), "--mirror");
        Assert.True(exit == 0, output);
        string summary = output.Split('\n').Last(l => l.Contains("\"saved\""));
        var result = JsonDocument.Parse(summary[summary.IndexOf('{')..]).RootElement; // torchrun prefixes the worker's lines
        Assert.Equal(2, result.GetProperty("processes").GetInt32());
        Assert.Equal(200, result.GetProperty("steps").GetInt32()); // 12,800 images in global batches of 64
        double pytorchAccuracy = result.GetProperty("test_accuracy").GetDouble();

        var network = new LeNet5();
        var info = Checkpoint.Load(checkpoint, network); // strict: every tensor, nothing else
        Assert.True(info.ArchitectureMatches);
        var test = FashionMnist.LoadTest().Subset(testLimit);
        test.SubtractMean(float.Parse(info.Training.Extra["input_mean"], System.Globalization.CultureInfo.InvariantCulture));
        var evaluation = Evaluation.Run(network, test);
        log.WriteLine($"PyTorch DDP accuracy {pytorchAccuracy:P2}, CnnGen on the same checkpoint {evaluation.Accuracy:P2}");
        Assert.True(pytorchAccuracy > 0.6, $"200 steps should reach well past chance; PyTorch reported {pytorchAccuracy:P2}");
        Assert.True(Math.Abs(evaluation.Accuracy - pytorchAccuracy) <= 1.0 / testLimit,
            $"CnnGen scores {evaluation.Accuracy:P2} where PyTorch reported {pytorchAccuracy:P2}");
    }
}
