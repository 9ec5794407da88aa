using System.Diagnostics;
using CnnGen.Optimizers;

namespace CnnGen.TrainProfile;

/// <summary>Whole training steps (ComputeGradients and an SGD momentum step) of batch 64 on random images: the median
/// over repeats of at least a quarter of a second each, in images per second of wall time and, with one thread (the
/// step then runs on the calling thread), per second of that thread's CPU time, which a busy machine disturbs less.</summary>
internal static class TrainingSteps
{
    private const int Batch = TrainingBatch.Size;

    public static void Print(string model, int threads, int repeats)
    {
        var (network, inputs, labels) = TrainingBatch.Create(model, threads);
        var optimizer = new Sgd(0.01f, momentum: 0.9f);
        float loss = 0;
        void Step()
        {
            loss = network.ComputeGradients(inputs, labels, Batch);
            optimizer.Step(network.Parameters, network.Gradients);
        }
        for (int i = 0; i < 3; i++) Step();
        var rates = new double[repeats];
        var cpuRates = new double[repeats];
        for (int r = 0; r < repeats; r++)
        {
            int steps = 0;
            long start = Stopwatch.GetTimestamp();
            double cpuStart = ThreadClock.Seconds();
            double seconds;
            do { Step(); steps++; seconds = Stopwatch.GetElapsedTime(start).TotalSeconds; } while (seconds < 0.25);
            rates[r] = steps * Batch / seconds;
            cpuRates[r] = steps * Batch / (ThreadClock.Seconds() - cpuStart);
        }
        Array.Sort(rates);
        Array.Sort(cpuRates);
        string cpu = threads == 1 ? $"; {cpuRates[repeats / 2]:0} img per CPU second [{cpuRates[0]:0}-{cpuRates[^1]:0}]" : "";
        Console.WriteLine($"{model} threads {threads}: training {rates[repeats / 2]:0} img/s [{rates[0]:0}-{rates[^1]:0}]{cpu} (medians of {repeats}), last loss {loss:0.000000}");
    }
}
