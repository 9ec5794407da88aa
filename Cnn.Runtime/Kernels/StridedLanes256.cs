using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CnnGen.Kernels;

/// <summary>Eight columns of a row at stride 1 or 2 in one 256-bit vector (AVX2), for the kernels that take a window's
/// tap for eight neighbouring outputs at once.</summary>
internal static unsafe class StridedLanes256
{
    /// <summary>Columns <c>p[0], p[stride], ..., p[7 * stride]</c> for stride 1 or 2.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Load(float* p, int stride)
    {
        if (stride == 1) return Avx.LoadVector256(p);
        return Even(Avx.LoadVector256(p), Avx.LoadVector256(p + 8));
    }

    /// <summary>The odd lanes of <paramref name="low"/> then of <paramref name="high"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Odd(Vector256<float> low, Vector256<float> high)
    {
        var pairs = Avx.Shuffle(low, high, 0b11_01_11_01);
        return Avx2.Permute4x64(pairs.AsDouble(), 0b11_01_10_00).AsSingle();
    }

    /// <summary>The even lanes of <paramref name="low"/> then of <paramref name="high"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Even(Vector256<float> low, Vector256<float> high)
    {
        // Per 128-bit half: the low vector's even lanes, then the high one's; then the halves reordered.
        var pairs = Avx.Shuffle(low, high, 0b10_00_10_00);
        return Avx2.Permute4x64(pairs.AsDouble(), 0b11_01_10_00).AsSingle();
    }

    /// <summary>The first <paramref name="count"/> (1 to 7) lanes of <paramref name="v"/> stored at <paramref name="p"/>,
    /// nothing past them: four, two and one at a time (a masked store is slow on the AMD cores that lack AVX-512).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreFirst(float* p, Vector256<float> v, int count)
    {
        var part = v.GetLower();
        if (count >= 4)
        {
            part.Store(p);
            p += 4;
            count -= 4;
            part = v.GetUpper();
        }
        if (count >= 2)
        {
            Sse2.StoreLow((double*)p, part.AsDouble());
            p += 2;
            count -= 2;
            part = Sse.MoveHighToLow(part, part);
        }
        if (count == 1) Sse.StoreScalar(p, part);
    }

    /// <summary>The first <paramref name="count"/> lanes set (none for 0 or less, all for 8 or more).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> First(int count) =>
        Vector256.LessThan(Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7), Vector256.Create(count)).AsSingle();

    /// <summary>Lanes whose column (<paramref name="position"/>) lies in <c>[0, width)</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Inside(Vector256<int> position, int width) =>
        (Vector256.GreaterThanOrEqual(position, Vector256<int>.Zero) & Vector256.LessThan(position, Vector256.Create(width))).AsSingle();
}
