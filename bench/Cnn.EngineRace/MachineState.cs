using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using CnnGen.Kernels;
using CnnGen.Parallelism;

namespace CnnGen.EngineRace;

/// <summary>
/// What the machine gives two threads at one moment, for reading the race's two-thread figures. On a small virtual
/// machine the same build's split image has taken 0.15 ms in one stretch of minutes and 0.26-0.33 ms in the next, and
/// a plain FMA loop does not see it. Measures that do:
/// <list type="bullet">
/// <item>Each logical CPU's time for the same kernel, the measuring thread pinned to it: MobileNetV2's stem, a 3x3
/// stride-2 convolution of one 3x224x224 image to 32 channels (<see cref="StrideTwoConv"/>), median of
/// <see cref="KernelCalls"/> calls. The two CPUs of one machine have differed by up to 1.6x while the FMA loop ran at
/// the same speed on both.</item>
/// <item>The same kernel on both CPUs at once, each of two threads pinned to its own CPU and the two starting each call
/// together (Linux only), median per CPU: a split image runs both cores at once, and there the two have run the same
/// code up to 1.5-1.9 times apart while either alone, or the FMA loop on both, ran at full speed.</item>
/// <item>What a write costs on lines the other core has just read, against lines the writing core wrote last, and
/// what a read costs on lines the other core has just written: <see cref="BufferBytes"/> at a time, median of
/// <see cref="Samples"/>, in microseconds per MiB. A split layer's output is read by the other core in the layer
/// after it and written again in the next call; a write after the other core's read has cost 10-30 times a write
/// to the core's own lines (161-184 us per MiB against 6-10 in most of one race's records, about 36 in the others).</item>
/// </list>
/// </summary>
internal static class MachineState
{
    private const int KernelCalls = 15, Samples = 200, BufferBytes = 256 * 1024;

    /// <summary>Each logical CPU's time for the kernel in microseconds (empty where threads cannot be pinned), the first two
    /// CPUs' times for it when both run it at once (empty where that cannot be measured), and the three costs in
    /// microseconds per MiB (null when no sample had the pool's worker on the other side).</summary>
    public sealed record Result(double[] KernelUsByCpu, double[] KernelUsTogether, double? OwnWrite, double? WriteAfterOtherRead, double? ReadAfterOtherWrite);

    /// <summary>The kernel on each CPU, then on both at once, then the costs between the cores.</summary>
    public static Result Measure()
    {
        var kernel = KernelByCpu();
        var together = KernelTogether();
        var (own, afterRead, afterWrite) = CrossCore();
        return new Result(kernel, together, own, afterRead, afterWrite);
    }

    /// <summary>The stem kernel's inputs and scratch for one thread.</summary>
    private sealed class StemCall
    {
        private readonly float[] _x, _w, _b, _y, _scratch;

        public StemCall()
        {
            var random = new Random(1);
            float[] Values(int n) => Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray();
            (_x, _w, _b, _y) = (Values(3 * 224 * 224), Values(32 * 27), Values(32), new float[32 * 112 * 112]);
            _scratch = new float[StrideTwoConv.ScratchLength(3, 224, 3, 1, 8)];
        }

        /// <summary>The median of <see cref="KernelCalls"/> calls' microseconds after 5 untimed ones, running
        /// <paramref name="beforeEach"/> (untimed) before every call.</summary>
        public double Median(Action? beforeEach = null)
        {
            var calls = new double[KernelCalls];
            for (int i = -5; i < KernelCalls; i++)
            {
                beforeEach?.Invoke();
                long start = Stopwatch.GetTimestamp();
                StrideTwoConv.Forward(_x, _w, _b, _y, _scratch, 3, 224, 224, 32, 3, 1, 112, 112, 8, FusedActivation.Relu6);
                if (i >= 0) calls[i] = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
            }
            return MedianOf(calls);
        }
    }

    [System.Runtime.InteropServices.DllImport("libc", SetLastError = true)]
    private static extern int sched_setaffinity(int pid, nint size, ref ulong mask);

    /// <summary>The stem kernel's median time on each of the first two logical CPUs while the other runs it too: two
    /// threads, each pinned to its CPU with its own data, meeting before every call. Empty off Linux, with fewer than two
    /// CPUs, or where a thread cannot be pinned.</summary>
    private static double[] KernelTogether()
    {
        if (!OperatingSystem.IsLinux() || Environment.ProcessorCount < 2) return [];
        var medians = new double[2];
        bool pinned = true;
        using var barrier = new Barrier(2);
        var threads = new Thread[2];
        for (int t = 0; t < 2; t++)
        {
            int cpu = t;
            threads[t] = new Thread(() =>
            {
                ulong mask = 1UL << cpu;
                bool ok = sched_setaffinity(0, sizeof(ulong), ref mask) == 0; // 0: the calling thread
                medians[cpu] = new StemCall().Median(() => barrier.SignalAndWait());
                if (!ok) pinned = false;
            }) { IsBackground = true };
        }
        foreach (var thread in threads) thread.Start();
        foreach (var thread in threads) thread.Join();
        return pinned ? medians : [];
    }

    /// <summary>The stem kernel's median time on each logical CPU (the process's main thread pinned to it), or nothing
    /// where the operating system does not let a process choose its CPUs.</summary>
    private static double[] KernelByCpu()
    {
        if (!(OperatingSystem.IsLinux() || OperatingSystem.IsWindows()) || Environment.ProcessorCount > 64) return [];
        var call = new StemCall();
        using var process = Process.GetCurrentProcess();
        nint all = process.ProcessorAffinity;
        var times = new List<double>();
        try
        {
            for (int cpu = 0; cpu < Environment.ProcessorCount; cpu++)
            {
                if ((all & ((nint)1 << cpu)) == 0) continue;
                process.ProcessorAffinity = (nint)1 << cpu; // on Linux the main thread's, which runs this
                Thread.Yield();
                times.Add(call.Median());
            }
        }
        finally
        {
            process.ProcessorAffinity = all;
        }
        return times.ToArray();
    }

    /// <summary>Microseconds per MiB: the calling thread writing lines it wrote last, writing lines a pool worker has
    /// just read, and reading lines a pool worker has just written (samples where the calling thread ran the worker's
    /// part itself are left out).</summary>
    private static (double? Own, double? WriteAfterOtherRead, double? ReadAfterOtherWrite) CrossCore()
    {
        int n = BufferBytes / sizeof(float);
        var buffer = new float[n];
        var own = new List<double>(); var afterRead = new List<double>(); var afterWrite = new List<double>();
        int caller = Environment.CurrentManagedThreadId, other = 0, done = 0; // other: the thread that ran part 1
        float sink = 0;
        long patience = Stopwatch.Frequency / 500; // 2 ms
        // Part 0 (the calling thread) waits until part 1 is done, so that a worker, not the calling thread, takes it
        // (unless no worker comes within 2 ms: then the sample is left out).
        void Other(int part, Action action)
        {
            if (part == 1)
            {
                action();
                other = Environment.CurrentManagedThreadId;
                Volatile.Write(ref done, 1);
                return;
            }
            long start = Stopwatch.GetTimestamp();
            while (Volatile.Read(ref done) == 0 && Stopwatch.GetTimestamp() - start < patience) Thread.SpinWait(20);
        }
        JobPart read = (part, _) => Other(part, () => sink += Sum(buffer));
        JobPart write = (part, _) => Other(part, () => Fill(buffer, 2f));
        for (int s = -20; s < Samples; s++)
        {
            done = 0;
            WorkerPool.Shared.RunParts(2, read);
            long start = Stopwatch.GetTimestamp();
            Fill(buffer, 1f);
            double afterReadUs = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
            bool worker = other != caller;
            start = Stopwatch.GetTimestamp();
            Fill(buffer, 3f);
            double ownUs = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
            done = 0;
            WorkerPool.Shared.RunParts(2, write);
            start = Stopwatch.GetTimestamp();
            sink += Sum(buffer);
            double afterWriteUs = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
            worker &= other != caller;
            if (s < 0 || !worker) continue;
            own.Add(ownUs); afterRead.Add(afterReadUs); afterWrite.Add(afterWriteUs);
        }
        double perMiB = 1024.0 * 1024 / BufferBytes;
        GC.KeepAlive(sink);
        if (own.Count == 0) return (null, null, null);
        return (MedianOf(own.ToArray()) * perMiB, MedianOf(afterRead.ToArray()) * perMiB, MedianOf(afterWrite.ToArray()) * perMiB);
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static float Sum(float[] values)
    {
        Vector512<float> a = default, b = default, c = default, d = default;
        ref float first = ref values[0];
        for (int i = 0; i + 64 <= values.Length; i += 64)
        {
            a += Vector512.LoadUnsafe(ref first, (nuint)i); b += Vector512.LoadUnsafe(ref first, (nuint)i + 16);
            c += Vector512.LoadUnsafe(ref first, (nuint)i + 32); d += Vector512.LoadUnsafe(ref first, (nuint)i + 48);
        }
        return Vector512.Sum(a + b + c + d);
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Fill(float[] values, float value)
    {
        var v = Vector512.Create(value);
        ref float first = ref values[0];
        for (int i = 0; i + 16 <= values.Length; i += 16) v.StoreUnsafe(ref first, (nuint)i);
    }

    private static double MedianOf(double[] values) => new Timings(values.Order().ToArray()).Median;
}
