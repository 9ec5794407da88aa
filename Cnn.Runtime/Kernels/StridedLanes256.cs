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

    /// <summary>
    /// Values of each half of a row copied by <see cref="SplitPhases"/> for outputs of <paramref name="outWidth"/> at
    /// stride 2 through a window of <paramref name="size"/> columns: as far as the last vector's last tap reads
    /// (<c>ox + 7 + size / 2</c>), and past where the row's last values land, a multiple of 8.
    /// </summary>
    public static int PhaseHalf(int outWidth, int size, int width, int padding) =>
        Math.Max((outWidth + 7) / 8 * 8 + size / 2 + 8, (width + 15) / 16 * 8 + (padding + 1) / 2 + 8) / 8 * 8;

    /// <summary>
    /// A row of <paramref name="width"/> values, <paramref name="padding"/> columns of <paramref name="fill"/> before it
    /// and <paramref name="fill"/> past it, as its even padded columns (<c>to[0, half)</c>) and its odd ones
    /// (<c>to[half, 2 * half)</c>): both filled first, then the row's own even and odd columns picked from two loads of 8
    /// (the last under masks, which read nothing past the row) and stored where the padding puts them. Window column
    /// <c>2ox + kx</c> of an output at stride 2 is then the even half at <c>ox + kx / 2</c> (kx even) or the odd half at
    /// <c>ox + kx / 2</c> (kx odd): a plain load for eight outputs.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void SplitPhases(float* row, int width, int padding, float* to, int half, Vector256<float> fill)
    {
        for (int i = 0; i < 2 * half; i += 8) fill.Store(to + i);
        // Column c of the row is padded column c + padding: its even columns land in the even half when the padding is even.
        bool evenPadding = padding % 2 == 0;
        float* evens = evenPadding ? to + padding / 2 : to + half + padding / 2, odds = evenPadding ? to + half + padding / 2 : to + (padding + 1) / 2;
        int j = 0;
        for (; j + 16 <= width; j += 16)
        {
            var low = Avx.LoadVector256(row + j);
            var high = Avx.LoadVector256(row + j + 8);
            Even(low, high).Store(evens + j / 2);
            Odd(low, high).Store(odds + j / 2);
        }
        if (j < width)
        {
            var inLow = First(width - j);
            var inHigh = First(width - j - 8);
            var low = Vector256.ConditionalSelect(inLow, Avx.MaskLoad(row + j, inLow), fill);
            var high = Vector256.ConditionalSelect(inHigh, Avx.MaskLoad(row + j + 8, inHigh), fill);
            Even(low, high).Store(evens + j / 2);
            Odd(low, high).Store(odds + j / 2);
        }
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
