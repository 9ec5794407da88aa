using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CnnGen.Kernels;

/// <summary>
/// An 8 x 8 block of floats transposed in registers (AVX): 8 rows loaded, interleaved in three steps (32-bit pairs,
/// 64-bit pairs, then 128-bit halves), 8 columns stored. <see cref="Transpose16"/>'s counterpart on machines without
/// AVX-512: Winograd's channel-last copy of its input and the scatter of its finished tiles. It moves values and
/// computes nothing, so the bits are those of a scalar copy.
/// </summary>
public static unsafe class Transpose8
{
    /// <summary>Row <c>r</c> of <paramref name="destination"/> (at <c>r * destinationStride</c>) receives column
    /// <c>r</c> of the 8 x 8 block whose row <c>r</c> is at <c>r * sourceStride</c> of <paramref name="source"/>.</summary>
    /// <exception cref="ArgumentException">A stride below 8 or spans too short for the block.</exception>
    public static void Block(ReadOnlySpan<float> source, int sourceStride, Span<float> destination, int destinationStride)
    {
        if (sourceStride < 8 || destinationStride < 8 || source.Length < 7L * sourceStride + 8 || destination.Length < 7L * destinationStride + 8)
            throw new ArgumentException("Transpose8.Block: strides must be at least 8 and the spans hold 8 rows of 8 at those strides.");
        fixed (float* s = source, d = destination)
        {
            if (Avx.IsSupported) Block(s, sourceStride, d, destinationStride);
            else
                for (int r = 0; r < 8; r++)
                for (int c = 0; c < 8; c++)
                    d[(long)r * destinationStride + c] = s[(long)c * sourceStride + r];
        }
    }

    /// <summary>The AVX transpose; the caller checks <see cref="Avx.IsSupported"/> and the extents.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Block(float* source, long sourceStride, float* destination, long destinationStride)
    {
        var r0 = Avx.LoadVector256(source);
        var r1 = Avx.LoadVector256(source + sourceStride);
        var r2 = Avx.LoadVector256(source + 2 * sourceStride);
        var r3 = Avx.LoadVector256(source + 3 * sourceStride);
        var r4 = Avx.LoadVector256(source + 4 * sourceStride);
        var r5 = Avx.LoadVector256(source + 5 * sourceStride);
        var r6 = Avx.LoadVector256(source + 6 * sourceStride);
        var r7 = Avx.LoadVector256(source + 7 * sourceStride);
        Registers(ref r0, ref r1, ref r2, ref r3, ref r4, ref r5, ref r6, ref r7);
        Avx.Store(destination, r0);
        Avx.Store(destination + destinationStride, r1);
        Avx.Store(destination + 2 * destinationStride, r2);
        Avx.Store(destination + 3 * destinationStride, r3);
        Avx.Store(destination + 4 * destinationStride, r4);
        Avx.Store(destination + 5 * destinationStride, r5);
        Avx.Store(destination + 6 * destinationStride, r6);
        Avx.Store(destination + 7 * destinationStride, r7);
    }

    /// <summary>Eight rows of eight in registers become the eight columns: <paramref name="r0"/> receives column 0, and
    /// so on (the caller checks <see cref="Avx.IsSupported"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Registers(ref Vector256<float> r0, ref Vector256<float> r1, ref Vector256<float> r2, ref Vector256<float> r3,
        ref Vector256<float> r4, ref Vector256<float> r5, ref Vector256<float> r6, ref Vector256<float> r7)
    {
        // Pairs: t0 = r0[0] r1[0] r0[1] r1[1] | r0[4] r1[4] r0[5] r1[5], and so on.
        var t0 = Avx.UnpackLow(r0, r1); var t1 = Avx.UnpackHigh(r0, r1);
        var t2 = Avx.UnpackLow(r2, r3); var t3 = Avx.UnpackHigh(r2, r3);
        var t4 = Avx.UnpackLow(r4, r5); var t5 = Avx.UnpackHigh(r4, r5);
        var t6 = Avx.UnpackLow(r6, r7); var t7 = Avx.UnpackHigh(r6, r7);
        // Fours: u0 = column 0 of rows 0-3 | column 4 of rows 0-3.
        var u0 = Avx.Shuffle(t0, t2, 0x44); var u1 = Avx.Shuffle(t0, t2, 0xEE);
        var u2 = Avx.Shuffle(t1, t3, 0x44); var u3 = Avx.Shuffle(t1, t3, 0xEE);
        var u4 = Avx.Shuffle(t4, t6, 0x44); var u5 = Avx.Shuffle(t4, t6, 0xEE);
        var u6 = Avx.Shuffle(t5, t7, 0x44); var u7 = Avx.Shuffle(t5, t7, 0xEE);
        // Halves: rows 0-3 from u, rows 4-7 from the next four.
        r0 = Avx.Permute2x128(u0, u4, 0x20);
        r1 = Avx.Permute2x128(u1, u5, 0x20);
        r2 = Avx.Permute2x128(u2, u6, 0x20);
        r3 = Avx.Permute2x128(u3, u7, 0x20);
        r4 = Avx.Permute2x128(u0, u4, 0x31);
        r5 = Avx.Permute2x128(u1, u5, 0x31);
        r6 = Avx.Permute2x128(u2, u6, 0x31);
        r7 = Avx.Permute2x128(u3, u7, 0x31);
    }
}
