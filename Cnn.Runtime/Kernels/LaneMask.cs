using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace CnnGen.Kernels;

/// <summary>Masks of a vector's first lanes, for the masked loads and stores at the end of a row.</summary>
internal static class LaneMask
{
    /// <summary>The first <paramref name="lanes"/> lanes set: none for 0 or less, all from 16 on.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> First(int lanes) =>
        Vector512.LessThan(Vector512.Create(0f, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15), Vector512.Create((float)lanes));

    /// <summary>The first <c>k mod 16</c> lanes set, all of them when <paramref name="k"/> is a multiple of 16.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Tail(int k)
    {
        int tail = k & 15;
        return tail == 0 ? Vector512<float>.AllBitsSet : First(tail);
    }
}
