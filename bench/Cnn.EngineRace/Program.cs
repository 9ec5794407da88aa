using CnnGen.Checkpoints;
using CnnGen.EngineRace;
using CnnGen.EngineRace.Torch;

// One engine, one network, one thread count per process; bench/side_by_side_engines.sh alternates the processes.
//   save --dir DIR                                       the weights (and check images) of every raced network
//   run --engine E --model M --threads T --repeats R --dir DIR    one JSON line of timings and check logits
//   peak --threads T                                     GFLOP/s of a plain FMA loop (AVX-512, else AVX2) on T threads at once
//   state                                                one JSON line: each CPU's time for one kernel, and what cache
//                                                        lines cost between two cores (MachineState)
const string usage = "usage: Cnn.EngineRace save --dir DIR | run --engine cnngen|onnx|libtorch --model "
    + "lenet5|cifar_vgg|cifar_resnet|resnet18|mobilenetv2 --threads N --repeats N --dir DIR | peak --threads N | state";

if (args.Length == 0)
{
    Console.Error.WriteLine(usage);
    return 2;
}
if (!RaceArguments.TryParse(args, out var arguments, out string? error))
{
    Console.Error.WriteLine($"error: {error} (run without arguments for usage)");
    return 2;
}
try
{
    if (arguments.Mode == "peak")
    {
        if (!System.Runtime.Intrinsics.Vector256.IsHardwareAccelerated)
        {
            Console.Error.WriteLine("error: the peak is measured with AVX-512 or AVX2 FMAs, which this machine does not run in hardware.");
            return 1;
        }
        Console.WriteLine(FmaPeak.Measure(arguments.Threads).ToString("F0", System.Globalization.CultureInfo.InvariantCulture));
        return 0;
    }
    if (arguments.Mode == "state")
    {
        if (!System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated)
        {
            Console.Error.WriteLine("error: the machine's state is measured with AVX-512 kernels, which this machine does not run in hardware.");
            return 1;
        }
        ResultJson.Write(MachineState.Measure());
        return 0;
    }
    if (arguments.Mode == "save")
    {
        foreach (var model in RaceModel.All) WeightFiles.Save(model, arguments.Directory);
        return 0;
    }
    var raced = RaceModel.Find(arguments.Model!)!;
    var network = WeightFiles.Load(raced, arguments.Directory);
    using IEngine engine = arguments.Engine switch
    {
        "cnngen" => new CnnGenEngine(network, arguments.Threads),
        "onnx" => new OnnxEngine(raced.OnnxPath(arguments.Directory), network, arguments.Threads),
        _ => new LibTorchEngine(network, raced.Plan(network), arguments.Threads),
    };
    ResultJson.Write(RaceRun.Run(engine, network, raced, arguments.Threads, arguments.Repeats));
    return 0;
}
catch (Exception e) when (e is IOException or CheckpointException or InvalidOperationException or UnauthorizedAccessException
    or DllNotFoundException or TypeInitializationException or Microsoft.ML.OnnxRuntime.OnnxRuntimeException)
{
    Console.Error.WriteLine($"error: {e.GetBaseException().Message}");
    return 1;
}
