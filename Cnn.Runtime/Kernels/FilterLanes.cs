using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CnnGen.Kernels;

/// <summary>
/// A convolution's product for few output positions with the filters in the vector lanes:
/// <c>out[F, P] = activation(weight[F, K] * col[K, P] + bias)</c>, the product of <see cref="Gemm.MultiplyBiasActivation"/>,
/// computed from the weights laid out once (<see cref="Layout"/>) as panels of <see cref="PanelFilters"/> filters,
/// <c>[F / 32][K][32]</c>. Each step of the depth broadcasts one column value per position and multiplies it by the
/// panel's row of 32 filters (2 vectors): 14 positions x 2 vectors = 28 accumulators, with no column padded (where rows
/// of filters x 64 columns compute 15 of a 7x7 map's 49 positions for nothing). The depth runs in blocks of
/// <see cref="DepthBlock"/> rows, so a block of the panel (32 KiB) is read from memory once and from the first-level
/// cache by every other group of positions.
/// <para>Each output gets one fused multiply-add per term in index order, starting from zero, then the bias, then the
/// activation: the bits of <see cref="Gemm.MultiplyBiasActivation"/> on every path, AVX-512 or scalar, for any range of
/// filters.</para>
/// </summary>
[SkipLocalsInit]
public static unsafe class FilterLanes
{
    /// <summary>Filters per panel: two vectors of 16 lanes.</summary>
    public const int PanelFilters = 32;

    /// <summary>Rows of depth per block: 256 x 32 floats = 32 KiB of the panel.</summary>
    public const int DepthBlock = 256;

    /// <summary>Most output positions one pass over a panel takes: its scratch of positions x 32 sums (32 KiB) lives on the
    /// stack. More positions run in chunks of at most this many, as even as whole groups of 14 allow.</summary>
    public const int ChunkPositions = 256;

    /// <summary>Whether the kernel takes a product of this shape: whole panels of filters, any positive number of positions.</summary>
    public static bool Supports(int filters, int positions) => filters > 0 && filters % PanelFilters == 0 && positions > 0;

    /// <summary>Weights <c>[F, K]</c> into panels <c>[F / 32][K][32]</c>: element (f, p) at <c>(f / 32) * K * 32 + p * 32 + f % 32</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Layout(ReadOnlySpan<float> weight, Span<float> panels, int filters, int k)
    {
        if (filters % PanelFilters != 0 || weight.Length < (long)filters * k || panels.Length < (long)filters * k)
            throw new ArgumentException($"FilterLanes.Layout: {filters} filters must be whole panels of {PanelFilters}, spans of {(long)filters * k}.");
        for (int f0 = 0; f0 < filters; f0 += PanelFilters)
        {
            var panel = panels.Slice(f0 * k, PanelFilters * k);
            for (int f = 0; f < PanelFilters; f++)
            {
                var row = weight.Slice((f0 + f) * k, k);
                for (int p = 0; p < k; p++) panel[p * PanelFilters + f] = row[p];
            }
        }
    }

    /// <summary>
    /// Filters [<paramref name="firstFilter"/>, <paramref name="endFilter"/>) (whole panels) of
    /// <c>output[F, P] = activation(weight[F, K] * col[K, P] + bias)</c>, <paramref name="panels"/> laid out by
    /// <see cref="Layout"/>; <paramref name="output"/> is the whole layer's, rows outside the range untouched.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Forward(ReadOnlySpan<float> panels, ReadOnlySpan<float> col, ReadOnlySpan<float> bias, Span<float> output,
        int filters, int k, int positions, int firstFilter, int endFilter, FusedActivation activation = FusedActivation.None)
    {
        if (!Supports(filters, positions) || firstFilter % PanelFilters != 0 || endFilter % PanelFilters != 0 || firstFilter < 0 || endFilter > filters
            || panels.Length < (long)filters * k || col.Length < (long)k * positions || bias.Length < filters || output.Length < (long)filters * positions)
            throw new ArgumentException($"FilterLanes.Forward: [{filters}x{k}] * [{k}x{positions}], filters [{firstFilter}, {endFilter}) in whole panels of {PanelFilters}.");
        Compute(panels, col, bias, output, k, positions, firstFilter, endFilter, 0, positions, activation);
    }

    /// <summary>
    /// Output positions [<paramref name="firstPosition"/>, <paramref name="endPosition"/>) of every filter of
    /// <c>output[F, P] = activation(weight[F, K] * col[K, P] + bias)</c>, for a thread of a pass that splits one image by
    /// rows: it reads only those columns and writes only those positions, so the layers before and after, split by the same
    /// rows, stay on one core's caches (every range reads all the panels). Each output's chain is <see cref="Forward"/>'s,
    /// so the same bits whichever range holds it.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ForwardPositions(ReadOnlySpan<float> panels, ReadOnlySpan<float> col, ReadOnlySpan<float> bias, Span<float> output,
        int filters, int k, int positions, int firstPosition, int endPosition, FusedActivation activation = FusedActivation.None)
    {
        if (!Supports(filters, positions) || firstPosition < 0 || endPosition > positions || firstPosition > endPosition
            || panels.Length < (long)filters * k || col.Length < (long)k * positions || bias.Length < filters || output.Length < (long)filters * positions)
            throw new ArgumentException($"FilterLanes.ForwardPositions: [{filters}x{k}] * [{k}x{positions}], positions [{firstPosition}, {endPosition}), filters in whole panels of {PanelFilters}.");
        if (firstPosition == endPosition) return;
        Compute(panels, col, bias, output, k, positions, 0, filters, firstPosition, endPosition, activation);
    }

    /// <summary>Filters [<paramref name="firstFilter"/>, <paramref name="endFilter"/>) (whole panels) at positions
    /// [<paramref name="firstPosition"/>, <paramref name="endPosition"/>), the caller having checked the extents: the
    /// AVX-512 kernel, or each output's chain one fused multiply-add per term from zero, then the bias and the activation.</summary>
    private static void Compute(ReadOnlySpan<float> panels, ReadOnlySpan<float> col, ReadOnlySpan<float> bias, Span<float> output, int k, int positions,
        int firstFilter, int endFilter, int firstPosition, int endPosition, FusedActivation activation)
    {
        if (Avx512F.IsSupported && Vector512.IsHardwareAccelerated)
        {
            fixed (float* pw = panels, px = col, pb = bias, po = output)
                Run(pw, px + firstPosition, positions, pb, po + firstPosition, positions, k, endPosition - firstPosition, firstFilter, endFilter, activation);
            return;
        }
        if (GemmAvx2.IsSupported)
        {
            fixed (float* pw = panels, px = col, pb = bias, po = output)
                GemmAvx2.MultiplyPanels(pw + (long)firstFilter * k, px + firstPosition, ldb: positions, po + (long)firstFilter * positions + firstPosition,
                    ldc: positions, endFilter - firstFilter, endPosition - firstPosition, k, pb + firstFilter, activation);
            return;
        }
        for (int f = firstFilter; f < endFilter; f++)
        {
            var panel = panels.Slice(f / PanelFilters * PanelFilters * k);
            int lane = f % PanelFilters;
            for (int j = firstPosition; j < endPosition; j++)
            {
                float acc = 0f;
                for (int p = 0; p < k; p++) acc = MathF.FusedMultiplyAdd(panel[p * PanelFilters + lane], col[p * positions + j], acc);
                output[f * positions + j] = Activate.Apply(acc + bias[f], activation);
            }
        }
    }

    /// <summary>
    /// The AVX-512 product of filters [<paramref name="firstFilter"/>, <paramref name="endFilter"/>) (whole panels) over
    /// <paramref name="positions"/> columns whose rows lie <paramref name="colStride"/> apart, into an output whose rows
    /// (filters) lie <paramref name="outStride"/> apart; the caller checks AVX-512 and the extents. The positions run in
    /// chunks of at most <see cref="ChunkPositions"/> (the scratch of a panel's sums on the stack), each chunk's columns
    /// through every panel before the next chunk.
    /// </summary>
    internal static void Run(float* panels, float* col, int colStride, float* bias, float* output, long outStride, int k, int positions,
        int firstFilter, int endFilter, FusedActivation activation)
    {
        int chunks = (positions + ChunkPositions - 1) / ChunkPositions;
        int chunk = Math.Min(ChunkPositions, ((positions + chunks - 1) / chunks + 13) / 14 * 14); // whole groups of 14 where they fit
        float* sums = stackalloc float[Math.Min(positions, chunk) * PanelFilters];
        for (int j0 = 0; j0 < positions; j0 += chunk)
        {
            int count = Math.Min(chunk, positions - j0);
            for (int f0 = firstFilter; f0 < endFilter; f0 += PanelFilters)
                FilterLanesAvx512.Panel(panels + (long)f0 * k, col + j0, colStride, bias + f0, output + f0 * outStride + j0, outStride, sums, k, count, activation);
        }
    }
}
