using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;

namespace CnnGen.Kernels;

/// <summary>Asking for a run of values ahead of their use: a kernel that walks short planes or rows (a depthwise layer's
/// channels, a small pool's planes) asks for the next one's lines while it computes this one, where the hardware's
/// prefetcher would not find the stream before it ends, and the lines come in from another core or from memory
/// meanwhile. A prefetch never faults and changes no value, so asking for lines past the data is harmless.</summary>
internal static unsafe class CacheLines
{
    private const int FloatsPerLine = 16;

    /// <summary>Asks for the lines of the <paramref name="values"/> floats from <paramref name="from"/> (none when not
    /// positive) into the first-level cache.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Prefetch(float* from, long values)
    {
        if (!Sse.IsSupported) return;
        for (long j = 0; j < values; j += FloatsPerLine) Sse.Prefetch0(from + j);
    }
}
