using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CnnGen.Kernels;

/// <summary>
/// Max pooling in inference: each window's maximum and nothing else (no winner's index, which only the backward pass
/// reads). The values are the bits <see cref="Pooling.MaxPool"/> and <see cref="Pooling.MaxPool2x2"/> write: visiting a
/// window row by row, a value wins when it is above the maximum so far or NaN, so a window's result is its last NaN if it
/// has one, else its first maximum (of +0 and -0, whichever comes first). That rule splits over the window's rows: the
/// first maximum (or last NaN) of the rows' own results, in row order, is the window's. So the vector path is separable:
/// each input row's maxima over the windows' columns are computed once, into a ring of <c>size</c> rows, and each output
/// row is the maximum of its window's rows of that ring. Padding columns count as minus infinity, which never wins
/// against a value and is itself the value when all the window's values are minus infinity: the same bits as skipping
/// them.
/// </summary>
public static unsafe partial class Pooling
{
    /// <summary>Ring rows up to this many values live on the stack; larger rings (very wide maps or windows) are rented.</summary>
    private const int StackRingValues = 4096;

    /// <summary>
    /// Max pooling of any square window, stride and padding (windows clipped to the image), values only:
    /// <paramref name="planes"/> planes of <paramref name="height"/> x <paramref name="width"/> values to
    /// <paramref name="outHeight"/> x <paramref name="outWidth"/>, each window's maximum with <see cref="MaxPool"/>'s
    /// bits. With AVX-512, 2x2 windows at stride 2 that no edge cuts run straight from each pair of rows
    /// (<see cref="HalvingPlanes"/>), 3x3 windows at stride 1 with padding 1 down columns of chunks
    /// (<see cref="ThreeByOnePlanes"/>) and at stride 2 row by row (<see cref="ThreeByTwoPlanes"/>), both with one
    /// <c>vmaxps</c> per fold while the plane has no NaN (<see cref="NumberFold"/>), other windows at strides 1 and 2 the
    /// separable vector path, 16 outputs of a row at once; with AVX2 alone, strides 1 and 2 fold eight windows at once (stride 1 from rows copied between minus
    /// infinities, <see cref="ValuesPaddedRowsAvx2"/>; rows of more than 8 outputs at stride 2 from their even and odd
    /// columns, <see cref="ValuesPhasesAvx2"/>; shorter ones through masked loads, <see cref="ValuesAvx2"/>); other
    /// strides and machines fold each window in order.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MaxPoolValues(ReadOnlySpan<float> input, Span<float> output, int planes, int height, int width,
        int size, int stride, int padding, int outHeight, int outWidth)
    {
        int planeIn = height * width, planeOut = outHeight * outWidth;
        if (size < 1 || stride < 1 || padding < 0 || outHeight < 1 || outWidth < 1)
            throw new ArgumentException("Pooling.MaxPoolValues: the window, stride and output must be positive and the padding not negative.");
        if (input.Length < (long)planes * planeIn || output.Length < (long)planes * planeOut)
            throw new ArgumentException("Pooling.MaxPoolValues: spans too short for the given shape.");
        if (!Avx512F.IsSupported && Avx2.IsSupported && stride <= 2)
        {
            fixed (float* px = input, py = output)
            {
                if (stride == 2 && outWidth > PhasesFromWidth) ValuesPhasesAvx2(px, py, planes, height, width, size, padding, outHeight, outWidth);
                else if (stride == 1) ValuesPaddedRowsAvx2(px, py, planes, height, width, size, padding, outHeight, outWidth);
                else ValuesAvx2(px, py, planes, height, width, size, stride, padding, outHeight, outWidth);
            }
            return;
        }
        if (!Avx512F.IsSupported || stride > 2)
        {
            fixed (float* px = input, py = output)
                ScalarValues(px, py, planes, height, width, size, stride, padding, outHeight, outWidth);
            return;
        }
        if (size == 2 && stride == 2 && padding == 0 && 2 * outHeight <= height && 2 * outWidth <= width)
        {
            fixed (float* px = input, py = output)
                HalvingPlanes(px, py, planes, height, width, outHeight, outWidth);
            return;
        }
        if (size == 3 && stride == 1 && padding == 1 && outHeight == height && outWidth == width)
        {
            fixed (float* px = input, py = output)
                ThreeByOnePlanes(px, py, planes, height, width);
            return;
        }
        if (size == 3 && stride == 2 && padding <= 1 && 2 * outHeight - padding <= height + 1 && 2 * outWidth - padding <= width + 1
            && outWidth <= 16 * ThreeByTwoMaxChunks)
        {
            fixed (float* px = input, py = output)
                ThreeByTwoPlanes(px, py, planes, height, width, padding, outHeight, outWidth);
            return;
        }
        int rowLength = (outWidth + 15) & ~15; // one ring row: whole vectors
        int ringValues = size * rowLength;
        float[]? rented = ringValues > StackRingValues ? ArrayPool<float>.Shared.Rent(ringValues) : null;
        Span<float> ring = rented is null ? stackalloc float[ringValues] : rented;
        try
        {
            fixed (float* px = input, py = output, pr = ring)
            {
                for (int plane = 0; plane < planes; plane++)
                {
                    if (plane + 1 < planes) PrefetchPlane(px + (long)(plane + 1) * planeIn, planeIn, py + (long)(plane + 1) * planeOut, planeOut);
                    SeparablePlane(px + (long)plane * planeIn, py + (long)plane * planeOut, pr, rowLength,
                        height, width, size, stride, padding, outHeight, outWidth);
                }
            }
        }
        finally
        {
            if (rented is not null) ArrayPool<float>.Shared.Return(rented);
        }
    }

    /// <summary>Input values of a plane up to which the vector paths ask for the next plane, input and output, before they
    /// pool one (a 14 x 14 plane: 13 lines each): planes of a map the layer before wrote, on another core or out to
    /// memory, are too short for the hardware's prefetcher to find the stream before they end.</summary>
    private const long PrefetchedPlaneValues = 16 * 16;

    /// <summary>Asks for the next plane's input and output lines into the cache (planes of at most
    /// <see cref="PrefetchedPlaneValues"/> values; a larger plane's rows are long enough for the hardware's prefetcher).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void PrefetchPlane(float* input, long inputValues, float* output, long outputValues)
    {
        if (inputValues > PrefetchedPlaneValues) return;
        CacheLines.Prefetch(input, inputValues);
        CacheLines.Prefetch(output, outputValues);
    }

    /// <summary>Each window folded in order, row by row from its first value (the rule of <see cref="MaxPool"/>).</summary>
    private static void ScalarValues(float* px, float* py, int planes, int height, int width, int size, int stride, int padding, int outHeight, int outWidth)
    {
        for (int plane = 0; plane < planes; plane++)
        {
            float* x = px + (long)plane * height * width;
            float* y = py + (long)plane * outHeight * outWidth;
            for (int oy = 0; oy < outHeight; oy++)
            {
                int y0 = Math.Max(oy * stride - padding, 0), y1 = Math.Min(oy * stride - padding + size, height);
                for (int ox = 0; ox < outWidth; ox++)
                {
                    int x0 = Math.Max(ox * stride - padding, 0), x1 = Math.Min(ox * stride - padding + size, width);
                    float max = x[y0 * width + x0];
                    for (int iy = y0; iy < y1; iy++)
                        for (int ix = x0; ix < x1; ix++)
                        {
                            max = Fold(max, x[iy * width + ix]);
                        }
                    y[oy * outWidth + ox] = max;
                }
            }
        }
    }

    /// <summary>One plane: input row <c>iy</c>'s maxima over the windows' columns go to ring row <c>iy mod size</c> when
    /// an output row first needs them (a window's rows are consecutive and at most <c>size</c>, so the rows it needs are
    /// all in the ring); each output row then folds its window's ring rows in order, stepping from ring row to ring row
    /// (a remainder per load, the old way, cost ResNet-18's 64 x 112 x 112 pool a sixth of its time: 200-206 -> 166-174
    /// us; 3x3 windows at stride 2 now take <see cref="ThreeByTwoPlanes"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void SeparablePlane(float* x, float* y, float* ring, int rowLength, int height, int width, int size, int stride,
        int padding, int outHeight, int outWidth)
    {
        int ready = 0; // input rows [0, ready) have been reduced (or skipped: no window reads them)
        var lastMask = LaneMask.Tail(outWidth);
        for (int oy = 0; oy < outHeight; oy++)
        {
            int y0 = Math.Max(oy * stride - padding, 0), y1 = Math.Min(oy * stride - padding + size, height);
            for (int iy = Math.Max(y0, ready); iy < y1; iy++)
                ColumnMaxima(x + iy * width, ring + iy % size * rowLength, width, size, stride, padding, outWidth);
            ready = Math.Max(ready, y1);
            float* out0 = y + oy * outWidth;
            float* top = ring + y0 % size * rowLength, ringEnd = ring + size * rowLength; // the window's first ring row; the rows after it wrap round
            int rows = y1 - y0;
            for (int c0 = 0; c0 < outWidth; c0 += 16)
            {
                float* from = top + c0;
                var max = Vector512.Load(from);
                for (int r = 1; r < rows; r++)
                {
                    from += rowLength;
                    if (from >= ringEnd) from -= size * rowLength;
                    max = Fold(max, Vector512.Load(from));
                }
                if (c0 + 16 <= outWidth) max.Store(out0 + c0);
                else Avx512F.MaskStore(out0 + c0, lastMask, max);
            }
        }
    }

    /// <summary>
    /// 2x2 windows at stride 2 without padding, none cut by the edge (LeNet's and VGG's pools): each output row straight
    /// from its two input rows, 16 outputs at a time, without the ring. The operations of the separable path in its
    /// order, so the same bits: each input row's even column folded with its odd one
    /// (<see cref="Fold(Vector512{float}, Vector512{float})"/>), then the top row's result with the bottom row's. Loads past a row's last window are masked off (never read), so the last
    /// plane's last row reads nothing beyond the input. LeNet-5's two pools over a batch: 3.1 us an image on the
    /// separable path (a ring row per input row, masked edge loads at every row of 28 or 10), a fraction of that here.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void HalvingPlanes(float* x, float* y, int planes, int height, int width, int outHeight, int outWidth)
    {
        var even = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
        var odd = Vector512.Create(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
        int whole = outWidth / 16 * 16, tail = outWidth - whole;
        // The last, partial chunk of a row: its 2 * tail input columns in two masked loads, its tail outputs in one store.
        var lowMask = LaneMask.First(2 * tail);
        var highMask = LaneMask.First(2 * tail - 16);
        var storeMask = LaneMask.First(tail);
        var zero = Vector512<float>.Zero;
        for (int plane = 0; plane < planes; plane++)
        {
            float* px = x + (long)plane * height * width;
            float* py = y + (long)plane * outHeight * outWidth;
            for (int oy = 0; oy < outHeight; oy++)
            {
                float* top = px + 2 * oy * width, bottom = top + width, to = py + oy * outWidth;
                for (int c0 = 0; c0 < whole; c0 += 16)
                {
                    float* t = top + 2 * c0, b = bottom + 2 * c0;
                    var h0 = Pairs(Vector512.Load(t), Vector512.Load(t + 16), even, odd);
                    var h1 = Pairs(Vector512.Load(b), Vector512.Load(b + 16), even, odd);
                    Fold(h0, h1).Store(to + c0);
                }
                if (tail > 0)
                {
                    float* t = top + 2 * whole, b = bottom + 2 * whole;
                    var h0 = Pairs(Avx512F.MaskLoad(t, lowMask, zero), Avx512F.MaskLoad(t + 16, highMask, zero), even, odd);
                    var h1 = Pairs(Avx512F.MaskLoad(b, lowMask, zero), Avx512F.MaskLoad(b + 16, highMask, zero), even, odd);
                    Avx512F.MaskStore(to + whole, storeMask, Fold(h0, h1));
                }
            }
        }
    }

    /// <summary>The maxima of 16 neighbouring column pairs of one row (32 values in <paramref name="low"/> and
    /// <paramref name="high"/>): the even column, then the odd one folded in.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Pairs(Vector512<float> low, Vector512<float> high, Vector512<int> even, Vector512<int> odd) =>
        Fold(Avx512F.PermuteVar16x32x2(low, even, high), Avx512F.PermuteVar16x32x2(low, odd, high));

    /// <summary>One input row's maxima over every window's columns, 16 windows at a time, into <paramref name="h"/>
    /// (whole vectors: lanes past the row's last window hold values nobody reads). Lane <c>i</c> of window column
    /// <c>kx</c> is column <c>stride * (c0 + i) - padding + kx</c>: one load at stride 1, the even lanes of two at
    /// stride 2. Away from the row's ends the loads are plain; at the ends, columns outside the row read as minus
    /// infinity.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ColumnMaxima(float* row, float* h, int width, int size, int stride, int padding, int outWidth)
    {
        int reach = stride == 1 ? 16 : 32; // columns one window column's lanes load
        for (int c0 = 0; c0 < outWidth; c0 += 16)
        {
            int first = stride * c0 - padding; // lane 0's first column
            Vector512<float> max;
            if (first >= 0 && first + size - 1 + reach <= width)
            {
                max = Lanes(row + first, stride);
                for (int kx = 1; kx < size; kx++) max = Fold(max, Lanes(row + first + kx, stride));
            }
            else
            {
                max = MaskedLanes(row, first, stride, width);
                for (int kx = 1; kx < size; kx++) max = Fold(max, MaskedLanes(row, first + kx, stride, width));
            }
            max.Store(h + c0);
        }
    }

    /// <summary>
    /// 3x3 windows at stride 1 with padding 1 (GoogLeNet's pool beside each inception module's convolutions; the output
    /// is the input's size, ceil mode or not): each column of 16-lane chunks runs down the plane with the last three input
    /// rows' column maxima in registers, instead of the ring, whose row index modulo the window cost two integer
    /// divisions per row. A row's chunk is loaded once (the row's last chunk under a mask that reads minus infinity past
    /// it); its left and right neighbours' lanes come from the chunks on either side by one two-source permute each,
    /// minus infinity beyond the row's ends. The same values folded in the same order as the separable path: each
    /// window's columns left to right, then its rows top to bottom. The same bits. Folded by <see cref="NumberFold"/>: a
    /// plane that has a NaN is pooled again by the rule (<see cref="RuleFold"/>); GoogLeNet's nine such pools, one image
    /// in its pass, 364-370 -> 193-197 us (<c>Cnn.Latency --model googlenet --layers</c>, two runs of each build).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ThreeByOnePlanes(float* x, float* y, int planes, int height, int width)
    {
        long planeLength = (long)height * width;
        for (int plane = 0; plane < planes; plane++)
        {
            float* px = x + plane * planeLength;
            float* py = y + plane * planeLength;
            if (plane + 1 < planes) PrefetchPlane(px + planeLength, planeLength, py + planeLength, planeLength);
            if (!ThreeByOnePlane<NumberFold>(px, py, height, width)) ThreeByOnePlane<RuleFold>(px, py, height, width);
        }
    }

    /// <summary>One plane of <see cref="ThreeByOnePlanes"/>, folded by <typeparamref name="TFold"/>; false when
    /// <typeparamref name="TFold"/> holds for numbers alone and the plane has a NaN (its outputs are then to be pooled
    /// again by the rule).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool ThreeByOnePlane<TFold>(float* px, float* py, int height, int width) where TFold : struct, IMaxFold
    {
        var unordered = Vector512<float>.Zero; // all ones in a lane once it has read a NaN (numbers-only folds)
        for (int c0 = 0; c0 < width; c0 += 16)
        {
            var above = RowMaxima<TFold>(px, c0, width, ref unordered);
            if (height == 1)
            {
                StoreChunk(py, c0, width, above);
                continue;
            }
            var here = RowMaxima<TFold>(px + width, c0, width, ref unordered);
            StoreChunk(py, c0, width, TFold.Fold(above, here)); // the first row's windows: input rows 0 and 1
            for (int oy = 1; oy < height - 1; oy++)
            {
                var below = RowMaxima<TFold>(px + (oy + 1) * width, c0, width, ref unordered);
                StoreChunk(py + oy * width, c0, width, TFold.Fold(TFold.Fold(above, here), below));
                above = here;
                here = below;
            }
            StoreChunk(py + (height - 1) * width, c0, width, TFold.Fold(above, here)); // the last row's: its row and the one above
        }
        return !TFold.NumbersOnly || unordered == Vector512<float>.Zero;
    }

    /// <summary>Row <paramref name="row"/>'s maxima over the 3-column windows of columns <c>[c0, c0 + 16)</c>:
    /// columns <c>x - 1</c>, <c>x</c>, <c>x + 1</c> folded in that order, minus infinity outside the row.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> RowMaxima<TFold>(float* row, int c0, int width, ref Vector512<float> unordered) where TFold : struct, IMaxFold
    {
        // left: lane 0 is the previous chunk's lane 15, lane i its own lane i - 1; right: lane i is its own lane i + 1,
        // lane 15 the next chunk's lane 0.
        var leftIndex = Vector512.Create(15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30);
        var rightIndex = Vector512.Create(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16);
        var minusInfinity = Vector512.Create(float.NegativeInfinity);
        var previous = c0 > 0 ? Vector512.Load(row + c0 - 16) : minusInfinity;
        var current = Chunk(row, c0, width, minusInfinity);
        var next = c0 + 16 < width ? Chunk(row, c0 + 16, width, minusInfinity) : minusInfinity;
        if (TFold.NumbersOnly) unordered |= Unordered(current); // each chunk of the row is current once
        var left = Avx512F.PermuteVar16x32x2(previous, leftIndex, current);
        var right = Avx512F.PermuteVar16x32x2(current, rightIndex, next);
        return TFold.Fold(TFold.Fold(left, current), right);
    }

    /// <summary>Stores columns <c>[c0, c0 + 16)</c> of an output row of <paramref name="width"/>, masked past its end.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreChunk(float* row, int c0, int width, Vector512<float> value)
    {
        if (c0 + 16 <= width) value.Store(row + c0);
        else Avx512F.MaskStore(row + c0, LaneMask.First(width - c0), value);
    }

    /// <summary>Columns <c>[c0, c0 + 16)</c> of a row of <paramref name="width"/>, those past its end minus infinity.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Chunk(float* row, int c0, int width, Vector512<float> minusInfinity) =>
        c0 + 16 <= width ? Vector512.Load(row + c0) : Avx512F.MaskLoad(row + c0, LaneMask.First(width - c0), minusInfinity);

    /// <summary>
    /// 3x3 windows at stride 2, floor or ceil mode (the pool after ResNet's, GoogLeNet's and DenseNet's stem, and
    /// GoogLeNet's between its stages), output rows of at most <see cref="ThreeByTwoMaxChunks"/> chunks of 16: each
    /// output row folds the column maxima of its window's input rows, those of the row it shares with the window below
    /// (its last row, the next one's first) kept for that window in a row of chunks on the stack, where the separable
    /// path wrote every input row's maxima into a ring and read them back, at two integer divisions per row. Rows are
    /// read in order, left to right, so a wide plane the layer before left out of cache streams in. Folded by
    /// <see cref="NumberFold"/>: a plane that has a NaN is pooled again by the rule (<see cref="RuleFold"/>). The same
    /// values folded in the same order as the separable path: each window's columns left to right, then its rows top
    /// to bottom. The same bits. GoogLeNet's four such pools, one image in its pass, 299-300 -> 250-263 us, most of it
    /// the stem's pool, whose input comes from memory (<c>Cnn.Latency --model googlenet --layers</c>, two runs of each
    /// build); caches warm, 480 x 28 x 28 to 14 x 14 79-86 -> 45-51 us (80 in a third run).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ThreeByTwoPlanes(float* x, float* y, int planes, int height, int width, int padding, int outHeight, int outWidth)
    {
        long planeIn = (long)height * width, planeOut = (long)outHeight * outWidth;
        float* carried = stackalloc float[ThreeByTwoMaxChunks * 16];
        for (int plane = 0; plane < planes; plane++)
        {
            float* px = x + plane * planeIn, py = y + plane * planeOut;
            if (plane + 1 < planes) PrefetchPlane(px + planeIn, planeIn, py + planeOut, planeOut);
            if (!ThreeByTwoPlane<NumberFold>(px, py, carried, height, width, padding, outHeight, outWidth))
                ThreeByTwoPlane<RuleFold>(px, py, carried, height, width, padding, outHeight, outWidth);
        }
    }

    /// <summary>Output chunks of 16 per row up to which <see cref="ThreeByTwoPlanes"/> keeps a row of column maxima on the
    /// stack (4 KiB): rows of up to 1,024 outputs; wider ones take the separable path.</summary>
    private const int ThreeByTwoMaxChunks = 64;

    /// <summary>One plane of <see cref="ThreeByTwoPlanes"/>; false when <typeparamref name="TFold"/> holds for numbers
    /// alone and the plane has a NaN in a row a window reads. A row of one chunk (outputs of 14x14 and smaller maps) keeps
    /// the shared row's maxima in a register (GoogLeNet's 480 x 28 x 28 pool 61.6 -> 52.8 us against the row on the stack).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool ThreeByTwoPlane<TFold>(float* px, float* py, float* carried, int height, int width, int padding, int outHeight, int outWidth)
        where TFold : struct, IMaxFold
    {
        var unordered = Vector512<float>.Zero; // all ones in a lane once it has read a NaN (numbers-only folds)
        var carriedChunk = Vector512<float>.Zero; // a row of one chunk: the shared row's maxima
        bool haveCarried = false; // whether the shared row's maxima are this window's first row
        for (int oy = 0; oy < outHeight; oy++)
        {
            int top = 2 * oy - padding, first = Math.Max(top, 0), end = Math.Min(top + 3, height); // the window's rows [first, end)
            bool useCarried = haveCarried && first == top;
            float* outRow = py + oy * outWidth;
            if (outWidth <= 16)
            {
                StoreChunk(outRow, 0, outWidth, WindowColumns<TFold>(px, 0, width, padding, top, first, end, useCarried, ref carriedChunk, ref unordered));
            }
            else
            {
                for (int c0 = 0; c0 < outWidth; c0 += 16)
                    StoreChunk(outRow, c0, outWidth, WindowColumns<TFold>(px, c0, width, padding, top, first, end, useCarried, ref *(Vector512<float>*)(carried + c0), ref unordered));
            }
            haveCarried = end == top + 3;
        }
        return !TFold.NumbersOnly || unordered == Vector512<float>.Zero;
    }

    /// <summary>The maxima of output columns <c>[c0, c0 + 16)</c> of the windows on input rows <c>[first, end)</c> (of
    /// rows <c>[top, top + 3)</c>, clipped to the plane), their first row's column maxima taken from
    /// <paramref name="shared"/> when <paramref name="useShared"/>; row <c>top + 2</c>'s, the next window's first, are
    /// left in <paramref name="shared"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> WindowColumns<TFold>(float* px, int c0, int width, int padding, int top, int first, int end,
        bool useShared, ref Vector512<float> shared, ref Vector512<float> unordered) where TFold : struct, IMaxFold
    {
        var max = useShared ? shared : ThreeColumnsByTwo<TFold>(px + first * width, c0, width, padding, ref unordered);
        for (int row = first + 1; row < end; row++)
        {
            var next = ThreeColumnsByTwo<TFold>(px + row * width, c0, width, padding, ref unordered);
            max = TFold.Fold(max, next);
            if (row == top + 2) shared = next;
        }
        return max;
    }

    /// <summary>
    /// One input row's maxima over the 3-column windows at stride 2 of output columns <c>[c0, c0 + 16)</c>: lane
    /// <c>i</c>'s columns <c>first + 2i</c>, <c>+ 1</c> and <c>+ 2</c> are the even and odd lanes of the 32 columns from
    /// <c>first</c> and the even lanes moved down one, the 33rd column filling the last: two loads, two permutes and a
    /// shift, where a general path loads and permutes once per window column. At a row's ends only the load that reaches
    /// past it is masked (columns outside the row read as minus infinity), and with padding 1 the first chunk's low load
    /// is the row's first 16 columns moved up a lane: ResNet-18's 64 x 112 x 112 pool (half its chunks at an end) took
    /// 115-173 us with both loads of an end chunk masked, 97-110 this way (<c>Cnn.TrainProfile stem</c>, thread CPU time,
    /// five alternating runs, the lowest round of each; faster in all five). With a numbers-only fold, every column a
    /// window reads is watched for NaN.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> ThreeColumnsByTwo<TFold>(float* row, int c0, int width, int padding, ref Vector512<float> unordered)
        where TFold : struct, IMaxFold
    {
        var even = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
        var odd = Vector512.Create(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
        int first = 2 * c0 - padding; // lane 0's first column
        // Each load masked only when it reaches past the row: at a row of 112 the first chunk's low 16 columns start at
        // -1 and its high ones are inside, the last chunk's low ones inside and its high ones past the end.
        var low = first >= 0 && first + 16 <= width ? Vector512.Load(row + first)
            : first == -1 && width >= 16 ? ShiftInMinusInfinity(Vector512.Load(row)) // padding 1: columns 0..14 moved up a lane
            : MaskedLanes(row, first, 1, width);
        var high = first + 16 >= 0 && first + 32 <= width ? Vector512.Load(row + first + 16) : MaskedLanes(row, first + 16, 1, width);
        float last = first + 32 >= 0 && first + 32 < width ? row[first + 32] : float.NegativeInfinity; // the third column of lane 15's window
        if (TFold.NumbersOnly) unordered |= Unordered(low) | Unordered(high) | Unordered(Vector512.CreateScalar(last));
        var left = Avx512F.PermuteVar16x32x2(low, even, high);
        var middle = Avx512F.PermuteVar16x32x2(low, odd, high);
        var right = Avx512F.AlignRight32(Vector512.Create(last).AsInt32(), left.AsInt32(), 1).AsSingle();
        return TFold.Fold(TFold.Fold(left, middle), right);
    }

    /// <summary>Lanes 0..14 of <paramref name="v"/> moved up one lane, minus infinity in lane 0 (a column left of the row).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> ShiftInMinusInfinity(Vector512<float> v) =>
        Avx512F.AlignRight32(v.AsInt32(), Vector512.Create(float.NegativeInfinity).AsInt32(), 15).AsSingle();

    /// <summary>Columns <c>p[0], p[stride], ..., p[15 * stride]</c> for stride 1 or 2.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Lanes(float* p, int stride)
    {
        if (stride == 1) return Vector512.Load(p);
        var even = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
        return Avx512F.PermuteVar16x32x2(Vector512.Load(p), even, Vector512.Load(p + 16));
    }

    /// <summary><see cref="Lanes"/> from column <paramref name="column"/> of <paramref name="row"/>, columns outside
    /// <c>[0, width)</c> read as minus infinity (never loaded).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> MaskedLanes(float* row, int column, int stride, int width)
    {
        var lane = Vector512.Create(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
        var limit = Vector512.Create(width);
        var minusInfinity = Vector512.Create(float.NegativeInfinity);
        var position = Vector512.Create(column) + lane;
        var low = Avx512F.MaskLoad(row + column, InImage(position, limit).AsSingle(), minusInfinity);
        if (stride == 1) return low;
        var high = Avx512F.MaskLoad(row + column + 16, InImage(position + Vector512.Create(16), limit).AsSingle(), minusInfinity);
        var even = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
        return Avx512F.PermuteVar16x32x2(low, even, high);
    }

    /// <summary>How a vector path folds the next values of its windows into their maxima so far.</summary>
    private interface IMaxFold
    {
        /// <summary>True when <see cref="Fold"/> gives the rule's bits only while no value is NaN: the path then watches
        /// the values it reads, and a plane that has a NaN is pooled again by <see cref="RuleFold"/>.</summary>
        static abstract bool NumbersOnly { get; }

        /// <summary><paramref name="max"/> with <paramref name="v"/>, the next values of the windows in order, folded in.</summary>
        static abstract Vector512<float> Fold(Vector512<float> max, Vector512<float> v);
    }

    /// <summary>The pool's rule itself (<see cref="Pooling.Fold(Vector512{float}, Vector512{float})"/>): two compares and a
    /// select, for any values.</summary>
    private readonly struct RuleFold : IMaxFold
    {
        public static bool NumbersOnly => false;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Fold(Vector512<float> max, Vector512<float> v) => Pooling.Fold(max, v);
    }

    /// <summary>One <c>vmaxps</c> with the next value first: it returns the next value when above the maximum so far and
    /// the maximum otherwise, ties (+0 against -0) included, so the first maximum stays, as in the rule. It differs from
    /// the rule only for a NaN (it returns its second operand), hence <see cref="NumbersOnly"/>. GoogLeNet's 3x3 pools
    /// beside its inception convolutions run about 2.5x as fast as with the rule's compares and select (512 x 14 x 14,
    /// caches warm: 36 -> 14 us).</summary>
    private readonly struct NumberFold : IMaxFold
    {
        public static bool NumbersOnly => true;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Fold(Vector512<float> max, Vector512<float> v) => Avx512F.Max(v, max);
    }

    /// <summary>All ones in the lanes of <paramref name="v"/> that hold a NaN, zero elsewhere.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Unordered(Vector512<float> v) => Avx512F.CompareUnordered(v, v);

    /// <summary>The pool's rule: <paramref name="v"/>, the next value of a window in order, replaces <paramref name="max"/>
    /// when above it or NaN (so a window's result is its last NaN, else its first maximum).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static float Fold(float max, float v) => v > max || float.IsNaN(v) ? v : max;

    /// <summary><see cref="Fold(float, float)"/> lane by lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<float> Fold(Vector512<float> max, Vector512<float> v)
    {
        var take = Vector512.GreaterThan(v, max) | ~Vector512.Equals(v, v);
        return Vector512.ConditionalSelect(take, v, max);
    }
}
