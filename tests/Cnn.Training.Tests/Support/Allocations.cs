namespace CnnGen.Training.Tests.Support;

/// <summary>Bytes allocated on the calling thread.</summary>
internal static class Allocations
{
    public static long Of(Action action)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        action();
        return GC.GetAllocatedBytesForCurrentThread() - before;
    }

    /// <summary>The least of three measurements: a steady-state allocation shows in each, while a one-off by the runtime
    /// (seen once in CI, 1,552 bytes, not reproduced in six reruns) does not fail a test.</summary>
    public static long Steady(Action action) => Math.Min(Of(action), Math.Min(Of(action), Of(action)));
}
