using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CnnGen.Kernels;

/// <summary>
/// The AVX-512 path of <see cref="FilterLanes.Forward"/>: one panel of 32 filters (2 vectors) at a time. For each block
/// of <see cref="FilterLanes.DepthBlock"/> rows of depth, every group of 14 positions runs over the block with 28
/// accumulators (14 positions x 2 vectors of 16 filters; with the panel's 2 rows and one broadcast, 31 of the 32
/// registers), then a group of 7 and single positions take what is left; each continues from the sums the previous
/// block stored in a position-major scratch <c>[P][32]</c>. The last block adds the bias and applies the activation, and
/// the panel's sums are then copied to the filter-major output <c>[F][P]</c> in 16 x 16 transposes (32 x P values, under
/// 1% of the panel's work, yet one value at a time, reading the scratch 128 bytes apart, it took a tenth of a 1x1
/// stride-2 product onto 7x7: 136 -> 122 us with the transposes).
/// (7 positions x 4 vectors, the other 28-accumulator shape, needs 33 registers: one accumulator went to the stack.)
/// <para>Each row of a group asks for the same row of the next depth block (32 KiB ahead, the next panel's first after a
/// panel's last; past the last panel, memory nobody reads, which a prefetch never faults on): a layer's panels, read once per image, come from memory (ResNet-18's 512 -> 512 3x3 layers on 7x7:
/// 9 MiB each), and the first group of a block would otherwise wait for them while the later ones find them in cache.
/// 512 x 4608 x 49 with the panels out of cache: 1,210-1,259 -> 1,107-1,122 us; in cache unchanged (1,073-1,119 ->
/// 1,097-1,116).</para>
/// </summary>
[SkipLocalsInit]
internal static unsafe class FilterLanesAvx512
{
    private const int W = FilterLanes.PanelFilters;

    /// <summary>One panel over at most <see cref="FilterLanes.ChunkPositions"/> positions: <paramref name="panel"/> is its
    /// <c>[K][32]</c> weights, <paramref name="col"/> the chunk's first column (rows <paramref name="colStride"/> apart),
    /// <paramref name="output"/> the panel's first filter at the chunk's first position (filters <paramref name="outStride"/> apart).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Panel(float* panel, float* col, int colStride, float* bias, float* output, long outStride, float* sums, int k, int positions, FusedActivation activation)
    {
        for (int p0 = 0; p0 < k; p0 += FilterLanes.DepthBlock)
        {
            int depth = Math.Min(FilterLanes.DepthBlock, k - p0);
            bool first = p0 == 0;
            float* w = panel + (long)p0 * W, x = col + (long)p0 * colStride, b = p0 + depth >= k ? bias : null;
            int j = 0;
            for (; j + 14 <= positions; j += 14) Fourteen(w, x + j, colStride, depth, sums + j * W, first, b, activation);
            if (j + 7 <= positions) { Seven(w, x + j, colStride, depth, sums + j * W, first, b, activation); j += 7; }
            for (; j < positions; j++) One(w, x + j, colStride, depth, sums + j * W, first, b, activation);
        }
        CopyOut(sums, output, outStride, positions);
    }

    /// <summary>The position-major sums <c>[P][32]</c> to the filter-major output <c>[32][P]</c> (rows <paramref name="outStride"/>
    /// apart): 16 positions x 16 filters at a time through <see cref="Transpose16"/> (16 whole vectors loaded, 16 stored),
    /// the positions after the last 16 one value at a time. It moves values only: the bits are the sums'.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void CopyOut(float* sums, float* output, long outStride, int positions)
    {
        int j = 0;
        for (; j + 16 <= positions; j += 16)
        {
            Transpose16.Block(sums + j * W, W, output + j, outStride);
            Transpose16.Block(sums + j * W + 16, W, output + 16 * outStride + j, outStride);
        }
        if (j < positions)
            for (int f = 0; f < W; f++)
            {
                float* row = output + f * outStride;
                for (int jj = j; jj < positions; jj++) row[jj] = sums[jj * W + f];
            }
    }

    /// <summary>Positions j .. j + 13 (<paramref name="x"/> at column j of the block's first row) over one depth block.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Fourteen(float* w, float* x, int colStride, int depth, float* s, bool first, float* bias, FusedActivation activation)
    {
        Vector512<float> s00, s01, s10, s11, s20, s21, s30, s31,
            s40, s41, s50, s51, s60, s61, s70, s71,
            s80, s81, s90, s91, s100, s101, s110, s111,
            s120, s121, s130, s131;
        if (first)
        {
            s00 = Vector512<float>.Zero; s01 = Vector512<float>.Zero;
            s10 = Vector512<float>.Zero; s11 = Vector512<float>.Zero;
            s20 = Vector512<float>.Zero; s21 = Vector512<float>.Zero;
            s30 = Vector512<float>.Zero; s31 = Vector512<float>.Zero;
            s40 = Vector512<float>.Zero; s41 = Vector512<float>.Zero;
            s50 = Vector512<float>.Zero; s51 = Vector512<float>.Zero;
            s60 = Vector512<float>.Zero; s61 = Vector512<float>.Zero;
            s70 = Vector512<float>.Zero; s71 = Vector512<float>.Zero;
            s80 = Vector512<float>.Zero; s81 = Vector512<float>.Zero;
            s90 = Vector512<float>.Zero; s91 = Vector512<float>.Zero;
            s100 = Vector512<float>.Zero; s101 = Vector512<float>.Zero;
            s110 = Vector512<float>.Zero; s111 = Vector512<float>.Zero;
            s120 = Vector512<float>.Zero; s121 = Vector512<float>.Zero;
            s130 = Vector512<float>.Zero; s131 = Vector512<float>.Zero;
        }
        else
        {
            s00 = Vector512.Load(s + 0); s01 = Vector512.Load(s + 16);
            s10 = Vector512.Load(s + 32); s11 = Vector512.Load(s + 48);
            s20 = Vector512.Load(s + 64); s21 = Vector512.Load(s + 80);
            s30 = Vector512.Load(s + 96); s31 = Vector512.Load(s + 112);
            s40 = Vector512.Load(s + 128); s41 = Vector512.Load(s + 144);
            s50 = Vector512.Load(s + 160); s51 = Vector512.Load(s + 176);
            s60 = Vector512.Load(s + 192); s61 = Vector512.Load(s + 208);
            s70 = Vector512.Load(s + 224); s71 = Vector512.Load(s + 240);
            s80 = Vector512.Load(s + 256); s81 = Vector512.Load(s + 272);
            s90 = Vector512.Load(s + 288); s91 = Vector512.Load(s + 304);
            s100 = Vector512.Load(s + 320); s101 = Vector512.Load(s + 336);
            s110 = Vector512.Load(s + 352); s111 = Vector512.Load(s + 368);
            s120 = Vector512.Load(s + 384); s121 = Vector512.Load(s + 400);
            s130 = Vector512.Load(s + 416); s131 = Vector512.Load(s + 432);
        }
        float* next = w + (long)depth * W; // the panel's next depth block (or the next panel's first): fetched while this one computes
        for (int p = 0; p < depth; p++, w += W, x += colStride, next += W)
        {
            Sse.Prefetch1(next); Sse.Prefetch1(next + 16);
            var b0 = Vector512.Load(w);
            var b1 = Vector512.Load(w + 16);
            var v0 = Vector512.Create(x[0]); s00 = Avx512F.FusedMultiplyAdd(b0, v0, s00); s01 = Avx512F.FusedMultiplyAdd(b1, v0, s01);
            var v1 = Vector512.Create(x[1]); s10 = Avx512F.FusedMultiplyAdd(b0, v1, s10); s11 = Avx512F.FusedMultiplyAdd(b1, v1, s11);
            var v2 = Vector512.Create(x[2]); s20 = Avx512F.FusedMultiplyAdd(b0, v2, s20); s21 = Avx512F.FusedMultiplyAdd(b1, v2, s21);
            var v3 = Vector512.Create(x[3]); s30 = Avx512F.FusedMultiplyAdd(b0, v3, s30); s31 = Avx512F.FusedMultiplyAdd(b1, v3, s31);
            var v4 = Vector512.Create(x[4]); s40 = Avx512F.FusedMultiplyAdd(b0, v4, s40); s41 = Avx512F.FusedMultiplyAdd(b1, v4, s41);
            var v5 = Vector512.Create(x[5]); s50 = Avx512F.FusedMultiplyAdd(b0, v5, s50); s51 = Avx512F.FusedMultiplyAdd(b1, v5, s51);
            var v6 = Vector512.Create(x[6]); s60 = Avx512F.FusedMultiplyAdd(b0, v6, s60); s61 = Avx512F.FusedMultiplyAdd(b1, v6, s61);
            var v7 = Vector512.Create(x[7]); s70 = Avx512F.FusedMultiplyAdd(b0, v7, s70); s71 = Avx512F.FusedMultiplyAdd(b1, v7, s71);
            var v8 = Vector512.Create(x[8]); s80 = Avx512F.FusedMultiplyAdd(b0, v8, s80); s81 = Avx512F.FusedMultiplyAdd(b1, v8, s81);
            var v9 = Vector512.Create(x[9]); s90 = Avx512F.FusedMultiplyAdd(b0, v9, s90); s91 = Avx512F.FusedMultiplyAdd(b1, v9, s91);
            var v10 = Vector512.Create(x[10]); s100 = Avx512F.FusedMultiplyAdd(b0, v10, s100); s101 = Avx512F.FusedMultiplyAdd(b1, v10, s101);
            var v11 = Vector512.Create(x[11]); s110 = Avx512F.FusedMultiplyAdd(b0, v11, s110); s111 = Avx512F.FusedMultiplyAdd(b1, v11, s111);
            var v12 = Vector512.Create(x[12]); s120 = Avx512F.FusedMultiplyAdd(b0, v12, s120); s121 = Avx512F.FusedMultiplyAdd(b1, v12, s121);
            var v13 = Vector512.Create(x[13]); s130 = Avx512F.FusedMultiplyAdd(b0, v13, s130); s131 = Avx512F.FusedMultiplyAdd(b1, v13, s131);
        }
        if (bias != null)
        {
            var c0 = Vector512.Load(bias); var c1 = Vector512.Load(bias + 16);
            s00 = Activate.Apply(s00 + c0, activation); s01 = Activate.Apply(s01 + c1, activation);
            s10 = Activate.Apply(s10 + c0, activation); s11 = Activate.Apply(s11 + c1, activation);
            s20 = Activate.Apply(s20 + c0, activation); s21 = Activate.Apply(s21 + c1, activation);
            s30 = Activate.Apply(s30 + c0, activation); s31 = Activate.Apply(s31 + c1, activation);
            s40 = Activate.Apply(s40 + c0, activation); s41 = Activate.Apply(s41 + c1, activation);
            s50 = Activate.Apply(s50 + c0, activation); s51 = Activate.Apply(s51 + c1, activation);
            s60 = Activate.Apply(s60 + c0, activation); s61 = Activate.Apply(s61 + c1, activation);
            s70 = Activate.Apply(s70 + c0, activation); s71 = Activate.Apply(s71 + c1, activation);
            s80 = Activate.Apply(s80 + c0, activation); s81 = Activate.Apply(s81 + c1, activation);
            s90 = Activate.Apply(s90 + c0, activation); s91 = Activate.Apply(s91 + c1, activation);
            s100 = Activate.Apply(s100 + c0, activation); s101 = Activate.Apply(s101 + c1, activation);
            s110 = Activate.Apply(s110 + c0, activation); s111 = Activate.Apply(s111 + c1, activation);
            s120 = Activate.Apply(s120 + c0, activation); s121 = Activate.Apply(s121 + c1, activation);
            s130 = Activate.Apply(s130 + c0, activation); s131 = Activate.Apply(s131 + c1, activation);
        }
        s00.Store(s + 0); s01.Store(s + 16);
        s10.Store(s + 32); s11.Store(s + 48);
        s20.Store(s + 64); s21.Store(s + 80);
        s30.Store(s + 96); s31.Store(s + 112);
        s40.Store(s + 128); s41.Store(s + 144);
        s50.Store(s + 160); s51.Store(s + 176);
        s60.Store(s + 192); s61.Store(s + 208);
        s70.Store(s + 224); s71.Store(s + 240);
        s80.Store(s + 256); s81.Store(s + 272);
        s90.Store(s + 288); s91.Store(s + 304);
        s100.Store(s + 320); s101.Store(s + 336);
        s110.Store(s + 352); s111.Store(s + 368);
        s120.Store(s + 384); s121.Store(s + 400);
        s130.Store(s + 416); s131.Store(s + 432);
    }

    /// <summary>Positions j .. j + 6 over one depth block (14 accumulators).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Seven(float* w, float* x, int colStride, int depth, float* s, bool first, float* bias, FusedActivation activation)
    {
        Vector512<float> s00, s01, s10, s11, s20, s21, s30, s31,
            s40, s41, s50, s51, s60, s61;
        if (first)
        {
            s00 = Vector512<float>.Zero; s01 = Vector512<float>.Zero;
            s10 = Vector512<float>.Zero; s11 = Vector512<float>.Zero;
            s20 = Vector512<float>.Zero; s21 = Vector512<float>.Zero;
            s30 = Vector512<float>.Zero; s31 = Vector512<float>.Zero;
            s40 = Vector512<float>.Zero; s41 = Vector512<float>.Zero;
            s50 = Vector512<float>.Zero; s51 = Vector512<float>.Zero;
            s60 = Vector512<float>.Zero; s61 = Vector512<float>.Zero;
        }
        else
        {
            s00 = Vector512.Load(s + 0); s01 = Vector512.Load(s + 16);
            s10 = Vector512.Load(s + 32); s11 = Vector512.Load(s + 48);
            s20 = Vector512.Load(s + 64); s21 = Vector512.Load(s + 80);
            s30 = Vector512.Load(s + 96); s31 = Vector512.Load(s + 112);
            s40 = Vector512.Load(s + 128); s41 = Vector512.Load(s + 144);
            s50 = Vector512.Load(s + 160); s51 = Vector512.Load(s + 176);
            s60 = Vector512.Load(s + 192); s61 = Vector512.Load(s + 208);
        }
        float* next = w + (long)depth * W; // the panel's next depth block (or the next panel's first): fetched while this one computes
        for (int p = 0; p < depth; p++, w += W, x += colStride, next += W)
        {
            Sse.Prefetch1(next); Sse.Prefetch1(next + 16);
            var b0 = Vector512.Load(w);
            var b1 = Vector512.Load(w + 16);
            var v0 = Vector512.Create(x[0]); s00 = Avx512F.FusedMultiplyAdd(b0, v0, s00); s01 = Avx512F.FusedMultiplyAdd(b1, v0, s01);
            var v1 = Vector512.Create(x[1]); s10 = Avx512F.FusedMultiplyAdd(b0, v1, s10); s11 = Avx512F.FusedMultiplyAdd(b1, v1, s11);
            var v2 = Vector512.Create(x[2]); s20 = Avx512F.FusedMultiplyAdd(b0, v2, s20); s21 = Avx512F.FusedMultiplyAdd(b1, v2, s21);
            var v3 = Vector512.Create(x[3]); s30 = Avx512F.FusedMultiplyAdd(b0, v3, s30); s31 = Avx512F.FusedMultiplyAdd(b1, v3, s31);
            var v4 = Vector512.Create(x[4]); s40 = Avx512F.FusedMultiplyAdd(b0, v4, s40); s41 = Avx512F.FusedMultiplyAdd(b1, v4, s41);
            var v5 = Vector512.Create(x[5]); s50 = Avx512F.FusedMultiplyAdd(b0, v5, s50); s51 = Avx512F.FusedMultiplyAdd(b1, v5, s51);
            var v6 = Vector512.Create(x[6]); s60 = Avx512F.FusedMultiplyAdd(b0, v6, s60); s61 = Avx512F.FusedMultiplyAdd(b1, v6, s61);
        }
        if (bias != null)
        {
            var c0 = Vector512.Load(bias); var c1 = Vector512.Load(bias + 16);
            s00 = Activate.Apply(s00 + c0, activation); s01 = Activate.Apply(s01 + c1, activation);
            s10 = Activate.Apply(s10 + c0, activation); s11 = Activate.Apply(s11 + c1, activation);
            s20 = Activate.Apply(s20 + c0, activation); s21 = Activate.Apply(s21 + c1, activation);
            s30 = Activate.Apply(s30 + c0, activation); s31 = Activate.Apply(s31 + c1, activation);
            s40 = Activate.Apply(s40 + c0, activation); s41 = Activate.Apply(s41 + c1, activation);
            s50 = Activate.Apply(s50 + c0, activation); s51 = Activate.Apply(s51 + c1, activation);
            s60 = Activate.Apply(s60 + c0, activation); s61 = Activate.Apply(s61 + c1, activation);
        }
        s00.Store(s + 0); s01.Store(s + 16);
        s10.Store(s + 32); s11.Store(s + 48);
        s20.Store(s + 64); s21.Store(s + 80);
        s30.Store(s + 96); s31.Store(s + 112);
        s40.Store(s + 128); s41.Store(s + 144);
        s50.Store(s + 160); s51.Store(s + 176);
        s60.Store(s + 192); s61.Store(s + 208);
    }

    /// <summary>One position over one depth block (2 accumulators).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void One(float* w, float* x, int colStride, int depth, float* s, bool first, float* bias, FusedActivation activation)
    {
        Vector512<float> s00, s01;
        if (first)
        {
            s00 = Vector512<float>.Zero; s01 = Vector512<float>.Zero;
        }
        else
        {
            s00 = Vector512.Load(s + 0); s01 = Vector512.Load(s + 16);
        }
        for (int p = 0; p < depth; p++, w += W, x += colStride)
        {
            var b0 = Vector512.Load(w);
            var b1 = Vector512.Load(w + 16);
            var v0 = Vector512.Create(x[0]); s00 = Avx512F.FusedMultiplyAdd(b0, v0, s00); s01 = Avx512F.FusedMultiplyAdd(b1, v0, s01);
        }
        if (bias != null)
        {
            var c0 = Vector512.Load(bias); var c1 = Vector512.Load(bias + 16);
            s00 = Activate.Apply(s00 + c0, activation); s01 = Activate.Apply(s01 + c1, activation);
        }
        s00.Store(s + 0); s01.Store(s + 16);
    }
}
