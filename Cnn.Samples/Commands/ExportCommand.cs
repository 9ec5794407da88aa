using System.CommandLine;
using CnnGen.Onnx;
using CnnGen.Samples.Cli;

namespace CnnGen.Samples.Commands;

/// <summary><c>export</c>: a trained checkpoint as an ONNX model for other runtimes (ONNX Runtime, Triton, browsers).</summary>
internal static class ExportCommand
{
    public static Command Create()
    {
        var model = CommonOptions.Model(trainableOnly: true);
        var checkpoint = CommonOptions.Checkpoint("Checkpoint to export (default checkpoints/<model>.safetensors)");
        var format = new Option<string>("--format", "-f") { Description = "onnx (opset 17, dynamic batch, evaluation mode)", DefaultValueFactory = _ => "onnx" };
        var output = new Option<string?>("--out", "-o") { Description = "File to write (default: the checkpoint's path with .onnx)" };
        var command = new Command("export", "Write a trained network with its weights as an ONNX model; it takes raw pixels (the training mean is subtracted inside).")
        {
            model, checkpoint, format, output,
        };
        command.SetAction(parse =>
        {
            if (!string.Equals(parse.GetValue(format), "onnx", StringComparison.OrdinalIgnoreCase))
            {
                Console.Error.WriteLine($"Unknown format '{parse.GetValue(format)}'. Supported: onnx.");
                return 2;
            }
            var entry = CommonOptions.ModelFor(parse, model, parse.GetValue(checkpoint), trainableOnly: true);
            if (entry is null) return 2;
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
}
