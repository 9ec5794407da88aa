using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CnnGen.Kernels;

/// <summary>
/// The AVX-512 path of <see cref="DirectFilterLanes.Forward"/>. Output positions run in chunks of whole rows (at most
/// <see cref="FilterLanes.ChunkPositions"/> positions, their sums position-major on the stack as <see cref="FilterLanes"/>
/// keeps them); each chunk goes through every panel of 32 filters, and each panel's depth in blocks of whole channels
/// (about <see cref="FilterLanes.DepthBlock"/> taps, 32 KiB of the panel). Within a block, groups of 14 positions (two
/// runs of 7 along output rows) hold 28 accumulators while every tap of every channel broadcasts one padded input value
/// per position, <c>stride</c> floats apart: the stride is a type argument, so those offsets are constants of the
/// compiled loop. A run of 7 left over takes the 14-accumulator kernel. The panel's sums then go to the filter-major
/// output through <see cref="FilterLanesAvx512.CopyOut"/>.
/// <para>The 14- and 7-position kernels are this class's own, not <see cref="FilterLanesAvx512"/>'s over a table of the
/// columns' row offsets: its kernels step one pointer by the columns' row stride, and looking the rows up in a table
/// instead made them 2-18% slower (6 product shapes, twice each, both in one process). Here a table of taps measured the same as
/// stepping through channels, rows and columns in nested loops (0.97-1.09).</para>
/// </summary>
[SkipLocalsInit]
internal static unsafe class DirectFilterLanesAvx512
{
    private const int W = FilterLanes.PanelFilters;

    /// <summary>The distance, in input values, between neighbouring output positions' windows along a row.</summary>
    internal interface IStride
    {
        static abstract int Step { get; }
    }

    internal struct StrideOne : IStride
    {
        public static int Step => 1;
    }

    internal struct StrideTwo : IStride
    {
        public static int Step => 2;
    }

    /// <summary>Filters [<paramref name="firstFilter"/>, <paramref name="endFilter"/>) (whole panels) of the whole
    /// image; the caller has checked AVX-512, the shape and the spans.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run<TStride>(float* panels, float* padded, float* bias, float* output, DirectFilterLanes.Shape shape,
        int firstFilter, int endFilter, FusedActivation activation) where TStride : struct, IStride
    {
        int kernel = shape.Kernel, kk = kernel * kernel, channels = shape.Channels, outWidth = shape.OutWidth;
        long k = shape.Depth, plane = shape.PaddedPlane, positions = shape.Positions;
        int blockChannels = DirectFilterLanes.BlockChannels(shape, FilterLanes.DepthBlock);
        int* taps = stackalloc int[blockChannels * kk];
        DirectFilterLanes.BlockTaps(shape, blockChannels, taps);
        int rowsPerChunk = Math.Clamp(FilterLanes.ChunkPositions / outWidth, 1, shape.OutHeight);
        int runsPerRow = outWidth / DirectFilterLanes.RunLength;
        float* sums = stackalloc float[rowsPerChunk * outWidth * W];
        for (int oy0 = 0; oy0 < shape.OutHeight; oy0 += rowsPerChunk)
        {
            int rows = Math.Min(rowsPerChunk, shape.OutHeight - oy0), runs = rows * runsPerRow;
            for (int f0 = firstFilter; f0 < endFilter; f0 += W)
            {
                float* panel = panels + f0 * k;
                for (int c0 = 0; c0 < channels; c0 += blockChannels)
                {
                    int block = Math.Min(blockChannels, channels - c0), depth = block * kk;
                    bool first = c0 == 0;
                    float* w = panel + (long)c0 * kk * W, x = padded + c0 * plane, b = c0 + block >= channels ? bias + f0 : null;
                    int r = 0;
                    for (; r + 2 <= runs; r += 2)
                        Fourteen<TStride>(w, Window<TStride>(x, shape, oy0, runsPerRow, r), Window<TStride>(x, shape, oy0, runsPerRow, r + 1), taps, depth,
                            sums + r * DirectFilterLanes.RunLength * W, first, b, activation);
                    if (r < runs)
                        Seven<TStride>(w, Window<TStride>(x, shape, oy0, runsPerRow, r), taps, depth, sums + r * DirectFilterLanes.RunLength * W, first, b, activation);
                }
                FilterLanesAvx512.CopyOut(sums, output + f0 * positions + (long)oy0 * outWidth, positions, rows * outWidth);
            }
        }
    }

    /// <summary>The padded input's corner of the first window of run <paramref name="run"/> of the chunk from output row
    /// <paramref name="firstRow"/> (in channel plane <paramref name="x"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float* Window<TStride>(float* x, DirectFilterLanes.Shape shape, int firstRow, int runsPerRow, int run) where TStride : struct, IStride
    {
        int oy = firstRow + run / runsPerRow, ox = run % runsPerRow * DirectFilterLanes.RunLength;
        return x + (long)oy * TStride.Step * shape.PaddedWidth + ox * TStride.Step;
    }

    /// <summary>Two runs of 7 positions (windows from <paramref name="xa"/> and <paramref name="xb"/>) over one block's
    /// <paramref name="depth"/> taps, continuing from the sums in <paramref name="s"/> unless <paramref name="first"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Fourteen<TStride>(float* w, float* xa, float* xb, int* taps, int depth, float* s, bool first, float* bias, FusedActivation activation) where TStride : struct, IStride
    {
        Vector512<float> s00, s01, s10, s11, s20, s21, s30, s31, s40, s41, s50, s51, s60, s61, s70, s71, s80, s81, s90, s91, s100, s101, s110, s111, s120, s121, s130, s131;
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
        float* next = w + (long)depth * W; // the panel's next block of channels (or the next panel's first): fetched while this one computes
        for (int p = 0; p < depth; p++, w += W, next += W)
        {
            Sse.Prefetch1(next); Sse.Prefetch1(next + 16);
            float* pa = xa + taps[p]; float* pb = xb + taps[p];
            var b0 = Vector512.Load(w);
            var b1 = Vector512.Load(w + 16);
            var v0 = Vector512.Create(pa[0]); s00 = Avx512F.FusedMultiplyAdd(b0, v0, s00); s01 = Avx512F.FusedMultiplyAdd(b1, v0, s01);
            var v1 = Vector512.Create(pa[TStride.Step * 1]); s10 = Avx512F.FusedMultiplyAdd(b0, v1, s10); s11 = Avx512F.FusedMultiplyAdd(b1, v1, s11);
            var v2 = Vector512.Create(pa[TStride.Step * 2]); s20 = Avx512F.FusedMultiplyAdd(b0, v2, s20); s21 = Avx512F.FusedMultiplyAdd(b1, v2, s21);
            var v3 = Vector512.Create(pa[TStride.Step * 3]); s30 = Avx512F.FusedMultiplyAdd(b0, v3, s30); s31 = Avx512F.FusedMultiplyAdd(b1, v3, s31);
            var v4 = Vector512.Create(pa[TStride.Step * 4]); s40 = Avx512F.FusedMultiplyAdd(b0, v4, s40); s41 = Avx512F.FusedMultiplyAdd(b1, v4, s41);
            var v5 = Vector512.Create(pa[TStride.Step * 5]); s50 = Avx512F.FusedMultiplyAdd(b0, v5, s50); s51 = Avx512F.FusedMultiplyAdd(b1, v5, s51);
            var v6 = Vector512.Create(pa[TStride.Step * 6]); s60 = Avx512F.FusedMultiplyAdd(b0, v6, s60); s61 = Avx512F.FusedMultiplyAdd(b1, v6, s61);
            var v7 = Vector512.Create(pb[0]); s70 = Avx512F.FusedMultiplyAdd(b0, v7, s70); s71 = Avx512F.FusedMultiplyAdd(b1, v7, s71);
            var v8 = Vector512.Create(pb[TStride.Step * 1]); s80 = Avx512F.FusedMultiplyAdd(b0, v8, s80); s81 = Avx512F.FusedMultiplyAdd(b1, v8, s81);
            var v9 = Vector512.Create(pb[TStride.Step * 2]); s90 = Avx512F.FusedMultiplyAdd(b0, v9, s90); s91 = Avx512F.FusedMultiplyAdd(b1, v9, s91);
            var v10 = Vector512.Create(pb[TStride.Step * 3]); s100 = Avx512F.FusedMultiplyAdd(b0, v10, s100); s101 = Avx512F.FusedMultiplyAdd(b1, v10, s101);
            var v11 = Vector512.Create(pb[TStride.Step * 4]); s110 = Avx512F.FusedMultiplyAdd(b0, v11, s110); s111 = Avx512F.FusedMultiplyAdd(b1, v11, s111);
            var v12 = Vector512.Create(pb[TStride.Step * 5]); s120 = Avx512F.FusedMultiplyAdd(b0, v12, s120); s121 = Avx512F.FusedMultiplyAdd(b1, v12, s121);
            var v13 = Vector512.Create(pb[TStride.Step * 6]); s130 = Avx512F.FusedMultiplyAdd(b0, v13, s130); s131 = Avx512F.FusedMultiplyAdd(b1, v13, s131);
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

    /// <summary>One run of 7 positions over one block's taps (14 accumulators).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Seven<TStride>(float* w, float* xa, int* taps, int depth, float* s, bool first, float* bias, FusedActivation activation) where TStride : struct, IStride
    {
        Vector512<float> s00, s01, s10, s11, s20, s21, s30, s31, s40, s41, s50, s51, s60, s61;
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
        float* next = w + (long)depth * W; // the panel's next block of channels (or the next panel's first): fetched while this one computes
        for (int p = 0; p < depth; p++, w += W, next += W)
        {
            Sse.Prefetch1(next); Sse.Prefetch1(next + 16);
            float* pa = xa + taps[p];
            var b0 = Vector512.Load(w);
            var b1 = Vector512.Load(w + 16);
            var v0 = Vector512.Create(pa[0]); s00 = Avx512F.FusedMultiplyAdd(b0, v0, s00); s01 = Avx512F.FusedMultiplyAdd(b1, v0, s01);
            var v1 = Vector512.Create(pa[TStride.Step * 1]); s10 = Avx512F.FusedMultiplyAdd(b0, v1, s10); s11 = Avx512F.FusedMultiplyAdd(b1, v1, s11);
            var v2 = Vector512.Create(pa[TStride.Step * 2]); s20 = Avx512F.FusedMultiplyAdd(b0, v2, s20); s21 = Avx512F.FusedMultiplyAdd(b1, v2, s21);
            var v3 = Vector512.Create(pa[TStride.Step * 3]); s30 = Avx512F.FusedMultiplyAdd(b0, v3, s30); s31 = Avx512F.FusedMultiplyAdd(b1, v3, s31);
            var v4 = Vector512.Create(pa[TStride.Step * 4]); s40 = Avx512F.FusedMultiplyAdd(b0, v4, s40); s41 = Avx512F.FusedMultiplyAdd(b1, v4, s41);
            var v5 = Vector512.Create(pa[TStride.Step * 5]); s50 = Avx512F.FusedMultiplyAdd(b0, v5, s50); s51 = Avx512F.FusedMultiplyAdd(b1, v5, s51);
            var v6 = Vector512.Create(pa[TStride.Step * 6]); s60 = Avx512F.FusedMultiplyAdd(b0, v6, s60); s61 = Avx512F.FusedMultiplyAdd(b1, v6, s61);
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
}
