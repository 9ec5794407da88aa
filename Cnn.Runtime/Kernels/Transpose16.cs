using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CnnGen.Kernels;

/// <summary>
/// A 16 x 16 block of floats transposed in registers (AVX-512): 16 rows loaded, interleaved in three steps (32-bit
/// pairs, 64-bit pairs, then 128-bit quarters, twice), 16 columns stored. It moves values and computes nothing, so the
/// bits are those of a scalar copy. Used where channel-major and position-major layouts meet: Winograd's channel-last
/// copy of its input, and the scatter of its finished tiles to the output planes.
/// </summary>
public static unsafe class Transpose16
{
    /// <summary>Row <c>r</c> of <paramref name="destination"/> (at <c>r * destinationStride</c>) receives column
    /// <c>r</c> of the 16 x 16 block whose row <c>r</c> is at <c>r * sourceStride</c> of <paramref name="source"/>.</summary>
    /// <exception cref="ArgumentException">A stride below 16 or spans too short for the block.</exception>
    public static void Block(ReadOnlySpan<float> source, int sourceStride, Span<float> destination, int destinationStride)
    {
        if (sourceStride < 16 || destinationStride < 16 || source.Length < 15L * sourceStride + 16 || destination.Length < 15L * destinationStride + 16)
            throw new ArgumentException("Transpose16.Block: strides must be at least 16 and the spans hold 16 rows of 16 at those strides.");
        fixed (float* s = source, d = destination)
        {
            if (Avx512F.IsSupported) Block(s, sourceStride, d, destinationStride);
            else
                for (int r = 0; r < 16; r++)
                for (int c = 0; c < 16; c++)
                    d[(long)r * destinationStride + c] = s[(long)c * sourceStride + r];
        }
    }

    /// <summary>The AVX-512 transpose; the caller checks <see cref="Avx512F.IsSupported"/> and the extents.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Block(float* source, long sourceStride, float* destination, long destinationStride) =>
        Block(source, sourceStride, destination, destination + 8 * destinationStride, destinationStride);

    /// <summary>The 16 x 16 transpose with destination rows 0-7 from <paramref name="destination"/> and rows 8-15 from
    /// <paramref name="destinationHigh"/> (each <paramref name="destinationStride"/> apart): the columns of two 8-wide
    /// image rows read as one run of 16 go to two rows of a channel-last copy.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Block(float* source, long sourceStride, float* destination, float* destinationHigh, long destinationStride)
    {
        // Columns 4k, 4k+1, 4k+2, 4k+3 of rows 4g..4g+3, in quarter k: u[4g + j] holds column 4k + j.
        Quad(source, sourceStride, out var a0, out var a1, out var a2, out var a3);
        Quad(source + 4 * sourceStride, sourceStride, out var b0, out var b1, out var b2, out var b3);
        Quad(source + 8 * sourceStride, sourceStride, out var c0, out var c1, out var c2, out var c3);
        Quad(source + 12 * sourceStride, sourceStride, out var d0, out var d1, out var d2, out var d3);
        Columns(a0, b0, c0, d0, destination, destinationHigh, destinationStride, 0);
        Columns(a1, b1, c1, d1, destination, destinationHigh, destinationStride, 1);
        Columns(a2, b2, c2, d2, destination, destinationHigh, destinationStride, 2);
        Columns(a3, b3, c3, d3, destination, destinationHigh, destinationStride, 3);
    }

    /// <summary>Four rows: quarter k of <paramref name="j0"/> .. <paramref name="j3"/> holds the four rows' values of
    /// column 4k + 0 .. 4k + 3.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Quad(float* rows, long stride, out Vector512<float> j0, out Vector512<float> j1, out Vector512<float> j2, out Vector512<float> j3)
    {
        var r0 = Vector512.Load(rows);
        var r1 = Vector512.Load(rows + stride);
        var r2 = Vector512.Load(rows + 2 * stride);
        var r3 = Vector512.Load(rows + 3 * stride);
        var t0 = Avx512F.UnpackLow(r0, r1).AsDouble();  // r0[4k] r1[4k] r0[4k+1] r1[4k+1]
        var t1 = Avx512F.UnpackHigh(r0, r1).AsDouble(); // r0[4k+2] r1[4k+2] r0[4k+3] r1[4k+3]
        var t2 = Avx512F.UnpackLow(r2, r3).AsDouble();
        var t3 = Avx512F.UnpackHigh(r2, r3).AsDouble();
        j0 = Avx512F.UnpackLow(t0, t2).AsSingle();
        j1 = Avx512F.UnpackHigh(t0, t2).AsSingle();
        j2 = Avx512F.UnpackLow(t1, t3).AsSingle();
        j3 = Avx512F.UnpackHigh(t1, t3).AsSingle();
    }

    /// <summary>Columns j, 4 + j, 8 + j and 12 + j from the four row groups' vectors of column 4k + j.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Columns(Vector512<float> g0, Vector512<float> g1, Vector512<float> g2, Vector512<float> g3,
        float* destination, float* high, long stride, int j)
    {
        var even01 = Avx512F.Shuffle4x128(g0, g1, 0x88); // columns j, 8 + j of rows 0-3, then of rows 4-7
        var odd01 = Avx512F.Shuffle4x128(g0, g1, 0xDD);  // columns 4 + j, 12 + j
        var even23 = Avx512F.Shuffle4x128(g2, g3, 0x88);
        var odd23 = Avx512F.Shuffle4x128(g2, g3, 0xDD);
        Avx512F.Shuffle4x128(even01, even23, 0x88).Store(destination + j * stride);
        Avx512F.Shuffle4x128(even01, even23, 0xDD).Store(high + j * stride);
        Avx512F.Shuffle4x128(odd01, odd23, 0x88).Store(destination + (4 + j) * stride);
        Avx512F.Shuffle4x128(odd01, odd23, 0xDD).Store(high + (4 + j) * stride);
    }
}
