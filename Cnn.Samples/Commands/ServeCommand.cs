using System.CommandLine;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using CnnGen.Data;
using CnnGen.Samples.Cli;
using CnnGen.Samples.Web;

namespace CnnGen.Samples.Commands;

/// <summary><c>serve</c>: a page to draw on that shows every layer's activations and the class probabilities of a
/// trained checkpoint, live.</summary>
internal static class ServeCommand
{
    public static Command Create()
    {
        var model = CommonOptions.Model(trainableOnly: true);
        var checkpoint = CommonOptions.Checkpoint("Trained checkpoint (default checkpoints/<model>.safetensors)");
        var port = new Option<int>("--port", "-p") { Description = "Port to listen on, on this machine only (127.0.0.1)", DefaultValueFactory = _ => 8080 };
        port.Validators.Add(result =>
        {
            int value = result.GetValueOrDefault<int>();
            if (value is < 1 or > 65535) result.AddError($"--port must be from 1 to 65535, not {value}.");
        });
        var command = new Command("serve", "Serve a page to draw on that shows every layer's activations and the class probabilities, live.")
        {
            model, checkpoint, port,
        };
        command.SetAction(async (parse, cancel) =>
        {
            var entry = CommonOptions.ModelFor(parse, model, parse.GetValue(checkpoint), trainableOnly: true);
            if (entry is null) return 2;
            var loaded = CheckpointLoading.Load(entry, parse.GetValue(checkpoint), 1);
            if (loaded is null) return 1;
            var (network, info) = loaded.Value;
            using var server = new ActivationServer(network, FashionMnist.ClassNames, DataLoading.MeanOf(info));
            try
            {
                server.Start(parse.GetValue(port));
            }
            catch (SocketException e)
            {
                Console.Error.WriteLine($"Cannot listen on port {parse.GetValue(port)}: {e.Message}. Choose another with --port.");
                return 1;
            }
            Console.WriteLine($"{network.Name} from {info.Path} (epoch {info.Training.Epoch}) at {server.Url}");
            Console.WriteLine("Ctrl+C to stop");
            // Ctrl+C (SIGINT) or SIGTERM stops the server, as does the invocation's token.
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancel);
            void OnSignal(PosixSignalContext context)
            {
                context.Cancel = true;
                stop.Cancel();
            }
            using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
            using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
            try
            {
                await Task.Delay(Timeout.Infinite, stop.Token);
            }
            catch (OperationCanceledException)
            {
            }
            server.Stop();
            Console.WriteLine("Stopped.");
            return 0;
        });
        return command;
    }
}
