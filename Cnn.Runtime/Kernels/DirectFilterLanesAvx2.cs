using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CnnGen.Kernels;

/// <summary>
/// The path of <see cref="DirectFilterLanes.Forward"/> on machines with AVX2 and FMA but not AVX-512. Output positions
/// run in chunks of whole rows (at most <see cref="FilterLanes.ChunkPositions"/>), their sums position-major on the
/// stack (<c>[P][32]</c>, as <see cref="DirectFilterLanesAvx512"/> keeps them); each chunk goes through every panel of
/// 32 filters, each panel's depth in blocks of whole channels (about <see cref="DepthBlock"/> taps, 16 KiB of the
/// panel). Within a block, each group of 6 positions goes through both halves of the panel, 16 filters (two vectors)
/// at a time: 12 accumulators, two loads of weights and 6 broadcasts of padded input values per tap, all that the 16
/// registers hold. A group's positions are any 6 of the chunk, each read through its window's offset in the padded
/// plane (a table made once per chunk), so rows of any width fill whole groups (a 7 x 7 map is 8 groups and 1 position,
/// not 7 runs of 6 and 1). The positions after the last whole group go two at a time by all 32 filters (8 accumulators,
/// four loads of weights and 2 broadcasts per tap: as many multiply-adds per position and tap as a group's), an odd
/// last one repeated into a spare row of sums that is never copied out: a 7 x 7 map's last position took the time of
/// 6 before (ResNet-18's 512 -> 512 3x3 @7: 4,540 / 3,625 -> 4,412 / 3,412 us, 256 -> 512 3x3 s2 @7: 3,198 / 2,687 ->
/// 2,707 / 2,410; medians of 41 calls alternating, two runs). The panel's sums then go to the filter-major output
/// 8 x 8 at a time (<see cref="Transpose8"/>).
/// <para>Both halves inside the loop over groups, and blocks of 128 taps rather than 256: a half alone reads one 64-byte
/// line of every 128, so its block fills only half the sets of the first-level cache. ResNet-18's layers, one thread,
/// medians of 41 calls alternating in one process (the weights in cache, then not), microseconds, the same bits:
/// <code>
/// layer                  im2col + GemmAvx2   halves outside, 128   both halves inside, 128   inside, 64
/// 64 -> 128 3x3 s2 @28   1,862 / 2,891       1,608 / 2,367         1,552 / 2,182             1,593 / 2,314
/// 128 -> 256 3x3 s2 @14  1,898 / 2,764       1,772 / 2,156         1,510 / 2,050             1,569 / 2,026
/// 256 -> 512 3x3 s2 @7   2,122 / 2,872       2,023 / 2,651         1,785 / 2,403             1,746 / 2,417
/// 512 -> 512 3x3 @7      5,038 / 5,561       5,191 / 4,978         4,745 / 4,535             5,083 / 4,670
/// </code>
/// Halves outside with blocks of 256 took 0.96-1.14 times as long as with 128; both halves inside with a prefetch of
/// the next block into the second-level cache, 0.90-1.08 times as long as without.</para>
/// <para>Each output gets one fused multiply-add per term in (c, ky, kx) order from zero, then the bias, then the
/// activation: the chain of <see cref="DirectFilterLanes"/>' other paths, so the same bits.</para>
/// </summary>
[SkipLocalsInit]
internal static unsafe class DirectFilterLanesAvx2
{
    private const int W = FilterLanes.PanelFilters;

    /// <summary>Filters in a half panel: two vectors of 8.</summary>
    private const int Half = 16;

    /// <summary>Taps per block of the depth, about: 128 x 32 floats, 16 KiB of the panel.</summary>
    private const int DepthBlock = 128;

    /// <summary>Positions of a group: 12 accumulators of 16 registers.</summary>
    private const int Group = 6;

    /// <summary>Filters [<paramref name="firstFilter"/>, <paramref name="endFilter"/>) (whole panels) of the whole
    /// image; the caller has checked AVX2 and FMA, the shape and the spans.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(float* panels, float* padded, float* bias, float* output, DirectFilterLanes.Shape shape, int stride,
        int firstFilter, int endFilter, FusedActivation activation)
    {
        int kernel = shape.Kernel, kk = kernel * kernel, channels = shape.Channels, outWidth = shape.OutWidth;
        long k = shape.Depth, plane = shape.PaddedPlane, positions = shape.Positions;
        int blockChannels = DirectFilterLanes.BlockChannels(shape, DepthBlock);
        int* taps = stackalloc int[blockChannels * kk];
        DirectFilterLanes.BlockTaps(shape, blockChannels, taps);
        int rowsPerChunk = Math.Clamp(FilterLanes.ChunkPositions / outWidth, 1, shape.OutHeight);
        int chunkPositions = rowsPerChunk * outWidth, groups = (chunkPositions + Group - 1) / Group;
        int* windows = stackalloc int[groups * Group];
        float* sums = stackalloc float[groups * Group * W];
        for (int oy0 = 0; oy0 < shape.OutHeight; oy0 += rowsPerChunk)
        {
            int rows = Math.Min(rowsPerChunk, shape.OutHeight - oy0), count = rows * outWidth;
            int chunkGroups = (count + Group - 1) / Group;
            for (int j = 0; j < chunkGroups * Group; j++)
            {
                int q = Math.Min(j, count - 1), oy = oy0 + q / outWidth, ox = q % outWidth;
                windows[j] = oy * stride * shape.PaddedWidth + ox * stride;
            }
            for (int f0 = firstFilter; f0 < endFilter; f0 += W)
            {
                float* panel = panels + f0 * k;
                for (int c0 = 0; c0 < channels; c0 += blockChannels)
                {
                    int block = Math.Min(blockChannels, channels - c0), depth = block * kk;
                    bool first = c0 == 0;
                    float* w = panel + (long)c0 * kk * W, x = padded + c0 * plane, b = c0 + block >= channels ? bias + f0 : null;
                    int g = 0;
                    for (; g < count / Group; g++)
                    {
                        float* s = sums + g * Group * W;
                        Six(w, x, taps, depth, windows + g * Group, s, first, b, activation);
                        Six(w + Half, x, taps, depth, windows + g * Group, s + Half, first, b == null ? null : b + Half, activation);
                    }
                    for (int j = g * Group; j < count; j += 2) // the positions after the last whole group, two at a time
                        Two(w, x, taps, depth, windows + j, sums + j * W, first, b, activation);
                }
                CopyOut(sums, output + f0 * positions + (long)oy0 * outWidth, positions, count);
            }
        }
    }

    /// <summary>The position-major sums <c>[P][32]</c> to the filter-major output <c>[32][P]</c> (rows
    /// <paramref name="outStride"/> apart), 8 positions by 8 filters at a time, the positions after the last 8 one value
    /// at a time. It moves values only.</summary>
    private static void CopyOut(float* sums, float* output, long outStride, int positions)
    {
        int j = 0;
        for (; j + 8 <= positions; j += 8)
            for (int f = 0; f < W; f += 8)
                Transpose8.Block(sums + j * W + f, W, output + f * outStride + j, outStride);
        for (int f = 0; f < W; f++)
        {
            float* row = output + f * outStride;
            for (int jj = j; jj < positions; jj++) row[jj] = sums[jj * W + f];
        }
    }

    /// <summary>Six positions (their windows at <paramref name="windows"/>' offsets from <paramref name="x"/>) by 16
    /// filters over one block's <paramref name="depth"/> taps, continuing from the sums in <paramref name="s"/> (rows of
    /// 32) unless <paramref name="first"/>; the bias and the activation when <paramref name="bias"/> is given.</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Six(float* w, float* x, int* taps, int depth, int* windows, float* s, bool first, float* bias, FusedActivation activation)
    {
        Vector256<float> s00, s01, s10, s11, s20, s21, s30, s31, s40, s41, s50, s51;
        if (first)
        {
            s00 = Vector256<float>.Zero; s01 = Vector256<float>.Zero;
            s10 = Vector256<float>.Zero; s11 = Vector256<float>.Zero;
            s20 = Vector256<float>.Zero; s21 = Vector256<float>.Zero;
            s30 = Vector256<float>.Zero; s31 = Vector256<float>.Zero;
            s40 = Vector256<float>.Zero; s41 = Vector256<float>.Zero;
            s50 = Vector256<float>.Zero; s51 = Vector256<float>.Zero;
        }
        else
        {
            s00 = Vector256.Load(s + 0 * W); s01 = Vector256.Load(s + 0 * W + 8);
            s10 = Vector256.Load(s + 1 * W); s11 = Vector256.Load(s + 1 * W + 8);
            s20 = Vector256.Load(s + 2 * W); s21 = Vector256.Load(s + 2 * W + 8);
            s30 = Vector256.Load(s + 3 * W); s31 = Vector256.Load(s + 3 * W + 8);
            s40 = Vector256.Load(s + 4 * W); s41 = Vector256.Load(s + 4 * W + 8);
            s50 = Vector256.Load(s + 5 * W); s51 = Vector256.Load(s + 5 * W + 8);
        }
        float* x0 = x + windows[0], x1 = x + windows[1], x2 = x + windows[2], x3 = x + windows[3], x4 = x + windows[4], x5 = x + windows[5];
        for (int p = 0; p < depth; p++, w += W)
        {
            int t = taps[p];
            var b0 = Vector256.Load(w);
            var b1 = Vector256.Load(w + 8);
            var v0 = Vector256.Create(x0[t]); s00 = Fma.MultiplyAdd(b0, v0, s00); s01 = Fma.MultiplyAdd(b1, v0, s01);
            var v1 = Vector256.Create(x1[t]); s10 = Fma.MultiplyAdd(b0, v1, s10); s11 = Fma.MultiplyAdd(b1, v1, s11);
            var v2 = Vector256.Create(x2[t]); s20 = Fma.MultiplyAdd(b0, v2, s20); s21 = Fma.MultiplyAdd(b1, v2, s21);
            var v3 = Vector256.Create(x3[t]); s30 = Fma.MultiplyAdd(b0, v3, s30); s31 = Fma.MultiplyAdd(b1, v3, s31);
            var v4 = Vector256.Create(x4[t]); s40 = Fma.MultiplyAdd(b0, v4, s40); s41 = Fma.MultiplyAdd(b1, v4, s41);
            var v5 = Vector256.Create(x5[t]); s50 = Fma.MultiplyAdd(b0, v5, s50); s51 = Fma.MultiplyAdd(b1, v5, s51);
        }
        if (bias != null)
        {
            var c0 = Vector256.Load(bias); var c1 = Vector256.Load(bias + 8);
            s00 = Activate.Apply(s00 + c0, activation); s01 = Activate.Apply(s01 + c1, activation);
            s10 = Activate.Apply(s10 + c0, activation); s11 = Activate.Apply(s11 + c1, activation);
            s20 = Activate.Apply(s20 + c0, activation); s21 = Activate.Apply(s21 + c1, activation);
            s30 = Activate.Apply(s30 + c0, activation); s31 = Activate.Apply(s31 + c1, activation);
            s40 = Activate.Apply(s40 + c0, activation); s41 = Activate.Apply(s41 + c1, activation);
            s50 = Activate.Apply(s50 + c0, activation); s51 = Activate.Apply(s51 + c1, activation);
        }
        s00.Store(s + 0 * W); s01.Store(s + 0 * W + 8);
        s10.Store(s + 1 * W); s11.Store(s + 1 * W + 8);
        s20.Store(s + 2 * W); s21.Store(s + 2 * W + 8);
        s30.Store(s + 3 * W); s31.Store(s + 3 * W + 8);
        s40.Store(s + 4 * W); s41.Store(s + 4 * W + 8);
        s50.Store(s + 5 * W); s51.Store(s + 5 * W + 8);
    }

    /// <summary>Two positions by the panel's 32 filters (eight accumulators) over one block's taps: the positions a
    /// chunk leaves after its groups of 6.</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Two(float* w, float* x, int* taps, int depth, int* windows, float* s, bool first, float* bias, FusedActivation activation)
    {
        Vector256<float> s00, s01, s02, s03, s10, s11, s12, s13;
        if (first)
        {
            s00 = Vector256<float>.Zero; s01 = Vector256<float>.Zero; s02 = Vector256<float>.Zero; s03 = Vector256<float>.Zero;
            s10 = Vector256<float>.Zero; s11 = Vector256<float>.Zero; s12 = Vector256<float>.Zero; s13 = Vector256<float>.Zero;
        }
        else
        {
            s00 = Vector256.Load(s); s01 = Vector256.Load(s + 8); s02 = Vector256.Load(s + 16); s03 = Vector256.Load(s + 24);
            s10 = Vector256.Load(s + W); s11 = Vector256.Load(s + W + 8); s12 = Vector256.Load(s + W + 16); s13 = Vector256.Load(s + W + 24);
        }
        float* x0 = x + windows[0], x1 = x + windows[1];
        for (int p = 0; p < depth; p++, w += W)
        {
            int t = taps[p];
            var b0 = Vector256.Load(w);
            var b1 = Vector256.Load(w + 8);
            var b2 = Vector256.Load(w + 16);
            var b3 = Vector256.Load(w + 24);
            var v0 = Vector256.Create(x0[t]);
            s00 = Fma.MultiplyAdd(b0, v0, s00); s01 = Fma.MultiplyAdd(b1, v0, s01); s02 = Fma.MultiplyAdd(b2, v0, s02); s03 = Fma.MultiplyAdd(b3, v0, s03);
            var v1 = Vector256.Create(x1[t]);
            s10 = Fma.MultiplyAdd(b0, v1, s10); s11 = Fma.MultiplyAdd(b1, v1, s11); s12 = Fma.MultiplyAdd(b2, v1, s12); s13 = Fma.MultiplyAdd(b3, v1, s13);
        }
        if (bias != null)
        {
            var c0 = Vector256.Load(bias); var c1 = Vector256.Load(bias + 8); var c2 = Vector256.Load(bias + 16); var c3 = Vector256.Load(bias + 24);
            s00 = Activate.Apply(s00 + c0, activation); s01 = Activate.Apply(s01 + c1, activation);
            s02 = Activate.Apply(s02 + c2, activation); s03 = Activate.Apply(s03 + c3, activation);
            s10 = Activate.Apply(s10 + c0, activation); s11 = Activate.Apply(s11 + c1, activation);
            s12 = Activate.Apply(s12 + c2, activation); s13 = Activate.Apply(s13 + c3, activation);
        }
        s00.Store(s); s01.Store(s + 8); s02.Store(s + 16); s03.Store(s + 24);
        s10.Store(s + W); s11.Store(s + W + 8); s12.Store(s + W + 16); s13.Store(s + W + 24);
    }
}
