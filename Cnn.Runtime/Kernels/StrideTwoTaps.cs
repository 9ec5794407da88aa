using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CnnGen.Kernels;

/// <summary>
/// The three taps of a 3-wide window at stride 2 with padding 1, for 16 outputs from 32 values of one row: the outputs
/// from column <c>2ox</c> read columns <c>2ox - 1 + 2j</c> (kx = 0), <c>2ox + 2j</c> (kx = 1) and <c>2ox + 1 + 2j</c>
/// (kx = 2). Centre and right taps are the even and odd lanes of the two loads from column <c>2ox</c>; the left taps are
/// the odd lanes moved up one lane behind column <c>2ox - 1</c>, so one pair of loads serves all three. Shared by the
/// stride-2 depthwise kernel and the stride-2 im2col, which take the same values.
/// </summary>
internal static class StrideTwoTaps
{
    /// <summary>The taps of <paramref name="low"/> (columns 2ox .. 2ox + 15) and <paramref name="high"/> (2ox + 16 ..
    /// 2ox + 31), with <paramref name="before"/> the value of column 2ox - 1 (zero where it is padding).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Split(Vector512<float> low, Vector512<float> high, float before, out Vector512<float> left, out Vector512<float> centre,
        out Vector512<float> right)
    {
        centre = Avx512F.PermuteVar16x32x2(low, Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30), high);
        right = Avx512F.PermuteVar16x32x2(low, Vector512.Create(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31), high);
        left = Avx512F.AlignRight32(right.AsUInt32(), Vector512.Create(before).AsUInt32(), 15).AsSingle();
    }
}
