using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace CnnGen.Benchmarks;

public static class Program
{
    private const string SeparateProcess = "--separate-process";

    /// <summary>
    /// A short job (three warm-up and five measured iterations, one launch) so that <c>--filter '*'</c> takes a few
    /// minutes. By default it runs in this process with the in-process emit toolchain: BenchmarkDotNet's default
    /// toolchain generates, restores and builds a separate project for every run (about 20 s more each time).
    /// <c>--separate-process</c> uses that default toolchain instead.
    /// </summary>
    public static IConfig Config(bool separateProcess)
    {
        var job = Job.ShortRun.WithWarmupCount(3).WithIterationCount(5).WithLaunchCount(1);
        job = separateProcess ? job.WithId("Short") : job.WithToolchain(InProcessEmitToolchain.Instance).WithId("ShortInProcess");
        return DefaultConfig.Instance.AddJob(job).AddDiagnoser(MemoryDiagnoser.Default);
    }

    public static void Main(string[] args)
    {
        bool separate = args.Contains(SeparateProcess);
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args.Where(a => a != SeparateProcess).ToArray(), Config(separate));
    }
}
