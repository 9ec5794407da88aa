using System.Runtime.InteropServices;

namespace CnnGen.Latency;

/// <summary>CPU time of the calling thread (Linux <c>clock_gettime(CLOCK_THREAD_CPUTIME_ID)</c>), in microseconds: time
/// the thread waits for a core, on a machine shared with other work, is not counted.</summary>
internal static partial class ThreadClock
{
    private const int ThreadCpuTime = 3;

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec { public long Seconds, Nanoseconds; }

    [LibraryImport("libc", EntryPoint = "clock_gettime")]
    private static partial int ClockGetTime(int clock, out TimeSpec time);

    public static double Microseconds()
    {
        if (ClockGetTime(ThreadCpuTime, out var t) != 0) throw new InvalidOperationException("clock_gettime(CLOCK_THREAD_CPUTIME_ID) failed");
        return t.Seconds * 1e6 + t.Nanoseconds * 1e-3;
    }
}
