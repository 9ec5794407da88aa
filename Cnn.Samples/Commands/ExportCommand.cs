using System.CommandLine;
using CnnGen.Onnx;
using CnnGen.PyTorch;
using CnnGen.Samples.Cli;

namespace CnnGen.Samples.Commands;

/// <summary><c>export</c>: a trained checkpoint as an ONNX model for other runtimes (ONNX Runtime, Triton, browsers), or a
/// network as a PyTorch module with a DistributedDataParallel training script, for training past one machine.</summary>
internal static class ExportCommand
{
    public static Command Create()
    {
        var model = CommonOptions.Model(trainableOnly: true);
        var checkpoint = CommonOptions.Checkpoint("Checkpoint to export (default checkpoints/<model>.safetensors)");
        var format = new Option<string>("--format", "-f")
        {
            Description = "onnx: the checkpoint as a model (opset 17, dynamic batch, evaluation mode); pytorch: the network as a torch.nn.Module plus train_ddp.py for torchrun",
            DefaultValueFactory = _ => "onnx",
        };
        var output = new Option<string?>("--out", "-o") { Description = "onnx: file to write (default: the checkpoint's path with .onnx); pytorch: folder (default: pytorch)" };
        var command = new Command("export", "Write a trained network as an ONNX model that takes raw pixels, or as a PyTorch module with a distributed training script.")
        {
            model, checkpoint, format, output,
        };
        command.SetAction(parse =>
        {
            string kind = parse.GetValue(format)!.ToLowerInvariant();
            if (kind is not ("onnx" or "pytorch"))
            {
                Console.Error.WriteLine($"Unknown format '{parse.GetValue(format)}'. Supported: onnx, pytorch.");
                return 2;
            }
            var entry = CommonOptions.ModelFor(parse, model, parse.GetValue(checkpoint), trainableOnly: true);
            if (entry is null) return 2;
            if (kind == "pytorch") return WritePyTorch(entry.Create(0), parse.GetValue(output) ?? "pytorch");
            var loaded = CheckpointLoading.Load(entry, parse.GetValue(checkpoint), threads: 1);
            if (loaded is null) return 1;
            var (network, info) = loaded.Value;
            string path = parse.GetValue(output) ?? Path.ChangeExtension(info.Path, ".onnx");
            float mean = DataLoading.MeanOf(info);
            try
            {
                OnnxExport.Save(network, path, mean);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException)
            {
                Console.Error.WriteLine($"Cannot export {network.Name} to {path}: {e.Message}");
                return 1;
            }
            Console.WriteLine($"Wrote {path}: {network.Name} ({network.ParameterCount:N0} parameters), input [batch, {network.InputChannels}, {network.InputHeight}, {network.InputWidth}] raw pixels (mean {mean:0.####} subtracted inside), output [batch, {network.OutputLength}].");
            return 0;
        });
        return command;
    }

    private static int WritePyTorch(INetwork network, string directory)
    {
        string module;
        try
        {
            module = PyTorchExport.Save(network, directory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            Console.Error.WriteLine($"Cannot export {network.Name} to {directory}: {e.Message}");
            return 1;
        }
        string script = Path.Combine(directory, "train_ddp.py");
        Console.WriteLine($"Wrote {module} ({network.Name} as a torch.nn.Module, state_dict keys = CnnGen's tensor names) and {script}.");
        Console.WriteLine($"Train on two processes: torchrun --standalone --nproc_per_node=2 {script} {module} --save {network.Name}.safetensors");
        return 0;
    }
}
