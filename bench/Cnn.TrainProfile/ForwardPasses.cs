using System.Diagnostics;
using CnnGen.EngineRace.Networks;

namespace CnnGen.TrainProfile;

/// <summary>Whole inference passes (evaluation-mode <c>Forward</c>) of one image and of a batch of random images (256 at
/// 32x32, 16 at 224x224, or <c>--batch N</c>) on one thread: the median over repeats of at least a quarter of a second each, in microseconds per image and images per
/// second of the thread's own CPU time (the pass runs on the calling thread), which a busy machine disturbs less than
/// wall time; the wall-time medians follow. The network runs with <c>FixedWeights</c>, as the engine race runs it.</summary>
internal static class ForwardPasses
{
    public static void Print(string model, int repeats, int batchSize = 0)
    {
        INetwork network = model switch
        {
            "cifar_vgg" => new CifarVgg(seed: 0),
            "cifar_resnet" => new CifarResNet(seed: 0),
            "resnet18" => new CnnGen.Samples.Networks.ResNet18(seed: 0),
            "mobilenetv2" => new CnnGen.Samples.Networks.MobileNetV2(seed: 0),
            _ => throw new ArgumentException($"unknown model '{model}' (cifar_vgg, cifar_resnet, resnet18, mobilenetv2)"),
        };
        network.FixedWeights = true; // as the engine race runs it: folds and transforms prepared once
        int images = batchSize > 0 ? batchSize : network.InputLength > 3 * 32 * 32 ? 16 : 256;
        var single = Measure(network, 1, repeats);
        var batch = Measure(network, images, repeats);
        Console.WriteLine($"{model} forward, one thread, CPU time: 1 image {1e6 / single.Cpu:0.0} us, batch {images} {batch.Cpu:0.0} img/s; " +
                          $"wall time: {1e6 / single.Wall:0.0} us, {batch.Wall:0.0} img/s (medians of {repeats})");
    }

    private static (double Cpu, double Wall) Measure(INetwork network, int batch, int repeats)
    {
        var random = new Random(2);
        var inputs = new float[network.InputLength * batch];
        for (int i = 0; i < inputs.Length; i++) inputs[i] = (float)(random.NextDouble() - 0.5);
        var outputs = new float[network.OutputLength * batch];
        for (int i = 0; i < 3; i++) network.Forward(inputs, outputs, batch);
        var cpu = new double[repeats];
        var wall = new double[repeats];
        for (int r = 0; r < repeats; r++)
        {
            int passes = 0;
            long start = Stopwatch.GetTimestamp();
            double cpuStart = ThreadClock.Seconds();
            double seconds;
            do { network.Forward(inputs, outputs, batch); passes++; seconds = Stopwatch.GetElapsedTime(start).TotalSeconds; } while (seconds < 0.25);
            wall[r] = passes * batch / seconds;
            cpu[r] = passes * batch / (ThreadClock.Seconds() - cpuStart);
        }
        Array.Sort(cpu);
        Array.Sort(wall);
        return (cpu[repeats / 2], wall[repeats / 2]);
    }
}
