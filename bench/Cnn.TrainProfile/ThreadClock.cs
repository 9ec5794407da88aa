using System.Runtime.InteropServices;

namespace CnnGen.TrainProfile;

/// <summary>
/// CPU time of the calling thread (Linux <c>clock_gettime(CLOCK_THREAD_CPUTIME_ID)</c>). On a machine shared with
/// other work a thread's own CPU time moves far less than wall time: time spent waiting for a core is not counted.
/// </summary>
internal static partial class ThreadClock
{
    private const int ThreadCpuTime = 3;

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec { public long Seconds, Nanoseconds; }

    [LibraryImport("libc", EntryPoint = "clock_gettime")]
    private static partial int ClockGetTime(int clock, out TimeSpec time);

    public static double Seconds()
    {
        if (ClockGetTime(ThreadCpuTime, out var t) != 0) throw new InvalidOperationException("clock_gettime(CLOCK_THREAD_CPUTIME_ID) failed");
        return t.Seconds + t.Nanoseconds * 1e-9;
    }

    /// <summary>The median over <paramref name="repeats"/> runs of <paramref name="run"/>'s thread CPU time, in seconds,
    /// after <paramref name="warmUps"/> untimed runs.</summary>
    public static double Median(Action run, int repeats, int warmUps = 3)
    {
        for (int w = 0; w < warmUps; w++) run();
        var times = new double[repeats];
        for (int r = 0; r < repeats; r++)
        {
            double start = Seconds();
            run();
            times[r] = Seconds() - start;
        }
        Array.Sort(times);
        return times[repeats / 2];
    }
}
