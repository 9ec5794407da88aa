using System.Runtime.InteropServices;

namespace CnnGen.Kernels;

/// <summary>
/// A copy of a layer's weights kept next to something made from them (Winograd's transform, a layout with the filters
/// in the lanes), with one value more: 1 once the copy was taken (a new buffer is all zeros). What was made is a function
/// of the weights' bits alone, so it is still right while the weights hold the copy's bits, however they were changed
/// in between (an optimiser, a checkpoint load, a write to <c>Parameters</c>).
/// </summary>
internal static class WeightCopy
{
    /// <summary>Values of the copy of <paramref name="weights"/> weights: them and the flag.</summary>
    public static int Length(int weights) => weights + 1;

    /// <summary>Whether <paramref name="copy"/> (<see cref="Length"/> of <paramref name="weight"/>'s length) was taken of
    /// weights with exactly <paramref name="weight"/>'s bits.</summary>
    public static bool Holds(ReadOnlySpan<float> weight, ReadOnlySpan<float> copy) =>
        copy[weight.Length] == 1f && MemoryMarshal.AsBytes(weight).SequenceEqual(MemoryMarshal.AsBytes(copy.Slice(0, weight.Length)));

    /// <summary>Takes the copy of <paramref name="weight"/>, once what is made from them is made.</summary>
    public static void Take(ReadOnlySpan<float> weight, Span<float> copy)
    {
        weight.CopyTo(copy);
        copy[weight.Length] = 1f;
    }
}
