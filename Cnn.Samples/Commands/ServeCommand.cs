using System.CommandLine;
using System.Runtime.InteropServices;
using CnnGen.Checkpoints;
using CnnGen.Data;
using CnnGen.Samples.Cli;
using CnnGen.Samples.Web;

namespace CnnGen.Samples.Commands;

/// <summary><c>serve</c>: a page to draw on that shows every layer's activations and the class probabilities of a
/// trained checkpoint, live, and <c>POST /predict</c> for pictures; on Kestrel, on this machine only.</summary>
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
        var instances = new Option<int>("--instances") { Description = "Network instances answering requests at once (each loaded from the checkpoint)", DefaultValueFactory = _ => Environment.ProcessorCount };
        instances.Validators.Add(result =>
        {
            int value = result.GetValueOrDefault<int>();
            if (value is < 1 or > 256) result.AddError($"--instances must be from 1 to 256, not {value}.");
        });
        var connections = new Option<int>("--max-connections") { Description = "Connections open at once; more are closed on arrival", DefaultValueFactory = _ => 1024 };
        connections.Validators.Add(result =>
        {
            int value = result.GetValueOrDefault<int>();
            if (value < 1) result.AddError($"--max-connections must be at least 1, not {value}.");
        });
        var command = new Command("serve", "Serve a page to draw on that shows every layer's activations and the class probabilities, live, and POST /predict for pictures.")
        {
            model, checkpoint, port, instances, connections,
        };
        command.SetAction(async (parse, cancel) =>
        {
            var entry = CommonOptions.ModelFor(parse, model, parse.GetValue(checkpoint), trainableOnly: true);
            if (entry is null) return 2;
            // One instance per concurrent request, each on one worker thread, all from the same checkpoint.
            var loaded = new List<INetwork>();
            CheckpointInfo? info = null;
            for (int i = 0; i < parse.GetValue(instances); i++)
            {
                var one = CheckpointLoading.Load(entry, parse.GetValue(checkpoint), 1);
                if (one is null) return 1;
                loaded.Add(one.Value.Network);
                info = one.Value.Info;
            }
            var settings = new ServerSettings { MaxConnections = parse.GetValue(connections) };
            await using var server = new ActivationServer(new NetworkPool(loaded), FashionMnist.ClassNames, DataLoading.MeanOf(info!), settings);
            try
            {
                await server.StartAsync(parse.GetValue(port));
            }
            catch (IOException e)
            {
                Console.Error.WriteLine($"Cannot listen on port {parse.GetValue(port)}: {e.Message} Choose another with --port.");
                return 1;
            }
            Console.WriteLine($"{loaded[0].Name} from {info!.Path} (epoch {info.Training.Epoch}) at {server.Url} ({loaded.Count} instance(s))");
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
            await server.StopAsync();  // answers the requests in progress first
            Console.WriteLine("Stopped.");
            return 0;
        });
        return command;
    }
}
