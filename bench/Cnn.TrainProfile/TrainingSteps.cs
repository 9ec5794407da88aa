using System.Diagnostics;
using CnnGen.Optimizers;
using CnnGen.TrainProfile.Networks;

namespace CnnGen.TrainProfile;

/// <summary>Whole training steps (ComputeGradients and an SGD momentum step) of batch 64 on random images: the median
/// over repeats of at least a quarter of a second each, in images per second.</summary>
internal static class TrainingSteps
{
    private const int Batch = 64;

    public static void Print(string model, int threads, int repeats)
    {
        INetwork network = model switch
        {
            "cifar_vgg" => new CifarVgg(seed: 0),
            "cifar_resnet" => new CifarResNet(seed: 0),
            _ => throw new ArgumentException($"unknown model '{model}' (cifar_vgg, cifar_resnet)"),
        };
        network.Threads = threads;
        network.Training = true;
        var random = new Random(2);
        var inputs = new float[network.InputLength * Batch];
        for (int i = 0; i < inputs.Length; i++) inputs[i] = (float)(random.NextDouble() - 0.5);
        var labels = new int[Batch];
        for (int i = 0; i < Batch; i++) labels[i] = random.Next(network.OutputLength);
        var optimizer = new Sgd(0.01f, momentum: 0.9f);
        float loss = 0;
        void Step()
        {
            loss = network.ComputeGradients(inputs, labels, Batch);
            optimizer.Step(network.Parameters, network.Gradients);
        }
        for (int i = 0; i < 3; i++) Step();
        var rates = new double[repeats];
        for (int r = 0; r < repeats; r++)
        {
            int steps = 0;
            long start = Stopwatch.GetTimestamp();
            double seconds;
            do { Step(); steps++; seconds = Stopwatch.GetElapsedTime(start).TotalSeconds; } while (seconds < 0.25);
            rates[r] = steps * Batch / seconds;
        }
        Array.Sort(rates);
        Console.WriteLine($"{model} threads {threads}: training {rates[repeats / 2]:0} img/s (median of {repeats}; range {rates[0]:0}-{rates[^1]:0}), last loss {loss:0.000000}");
    }
}
