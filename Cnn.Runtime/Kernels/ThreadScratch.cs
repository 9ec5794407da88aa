using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace CnnGen.Kernels;

/// <summary>
/// A kernel's scratch for the thread that runs it (a range of a split pass runs on any worker, so a buffer of the
/// caller's workspace would be shared): a <c>[ThreadStatic]</c> field of the kernel, grown here when a call needs more
/// than it holds and then kept, so a warm pass allocates nothing.
/// </summary>
internal static class ThreadScratch
{
    /// <summary><paramref name="buffer"/>, replaced first by a new one of <paramref name="length"/> values when it is
    /// missing or shorter.</summary>
    public static float[] AtLeast(ref float[]? buffer, long length)
    {
        if (buffer is null || buffer.Length < length) buffer = new float[checked((int)length)];
        return buffer;
    }

    /// <summary><see cref="AtLeast"/> for a buffer read through a pointer outside any <c>fixed</c> (a method that pins
    /// is never inlined): made pinned, so its address holds for the thread's lifetime.</summary>
    public static unsafe float* PinnedAtLeast(ref float[]? buffer, long length)
    {
        if (buffer is null || buffer.Length < length) buffer = GC.AllocateUninitializedArray<float>(checked((int)length), pinned: true);
        return (float*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(buffer));
    }

    /// <summary><see cref="PinnedAtLeast"/> on a cache line: the first value at a multiple of 64 bytes, <paramref name="length"/>
    /// values from there (the buffer holds 15 more).</summary>
    public static unsafe float* PinnedAlignedAtLeast(ref float[]? buffer, long length)
    {
        float* first = PinnedAtLeast(ref buffer, length + 15);
        return (float*)(((nint)first + 63) & ~(nint)63);
    }
}
