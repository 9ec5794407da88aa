using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CnnGen.Kernels;

/// <summary>
/// The weight gradient of a 3x3 stride-1 convolution (groups 1, no dilation) through Winograd F(4x4, 3x3), the adjoint of
/// <see cref="Winograd3x3.Forward"/>: the forward pass computes each 4x4 tile of outputs as
/// <c>Y = A^T [sum over c of U[f, c] .* V[c]] A</c> with <c>U = G g G^T</c> and <c>V = B^T d B</c>, so
/// <c>dg[f, c] = G^T [sum over tiles of (A dY[f] A^T) .* V[c]] G</c>. Per call: the input images channel-last with zero
/// padding (as the forward pass copies them) and the output gradients channel-last in whole tiles (zeros past the edge,
/// where the forward pass's outputs were dropped); then, a cache-sized block of tiles at a time, both transformed
/// (<c>V[36][tiles][channels]</c>, <c>D[36][tiles][filters]</c>) and one product per point summed into
/// <c>S[36][filters][channels] += D[p]^T V[p]</c> (<see cref="AddTiles"/>, every call of a pass into the same sums, a block
/// of tiles filled across calls); last,
/// once per pass, each filter and channel's <c>G^T S G</c>, in double, added to the gradient (<see cref="AddFilterGradients"/>).
/// It differs from the direct kernel's sums by rounding only; a quarter of the multiplications.
/// <para>The gradient transform runs on 16 filters at a time with AVX-512 and one at a time otherwise, with the same
/// operations in the same order: both paths give the same bits.</para>
/// </summary>
[SkipLocalsInit]
public static unsafe class WinogradWeightGradient
{
    private const int Points = Winograd3x3.Points, Tile = Winograd3x3.OutputTile;

    /// <summary>Values of the channel-last, zero-padded copy of <paramref name="images"/> input images (as the forward pass's).</summary>
    public static long PaddedLength(int images, int channels, int outHeight, int outWidth) =>
        Winograd3x3.PaddedLength(images, channels, outHeight, outWidth);

    /// <summary>Values of the channel-last copy of <paramref name="images"/> output gradients in whole 4x4 tiles.</summary>
    public static long GradientTilesLength(int images, int filters, int outHeight, int outWidth) =>
        (long)images * Winograd3x3.Blocks(outHeight) * Tile * Winograd3x3.Blocks(outWidth) * Tile * filters;

    /// <summary>Values of the pending block (<see cref="AddTiles"/>): the transformed inputs and gradients of up to
    /// <see cref="BlockTiles"/> tiles, kept from call to call until the block is full, each point's plane followed by
    /// <c>Winograd3x3.PlanePad</c> values (as in the forward pass's scratch).</summary>
    public static long PendingLength(int channels, int filters) => Winograd3x3.BlockLength(BlockTiles(channels, filters), channels, filters);

    /// <summary>Values of the sums: <c>S[36][filters][channels]</c>, then the count of tiles in the pending block.</summary>
    public static long SumsLength(int channels, int filters) => (long)Points * channels * filters + 1;

    /// <summary>Images whose input and output gradient <see cref="AddTiles"/> copies channel-last at once (about one block
    /// of tiles): its <c>padded</c> and <c>gradientTiles</c> need room for this many images, or the call's if fewer.</summary>
    public static int ImagesPerGroup(int channels, int filters, int outHeight, int outWidth) =>
        Math.Max(1, BlockTiles(channels, filters) / (Winograd3x3.Blocks(outHeight) * Winograd3x3.Blocks(outWidth)));

    /// <summary>Whether <see cref="AddTiles"/> can read the output gradients from the copy
    /// <see cref="WinogradInputGradient.Images"/> made of them (padded by <c>2 - padding</c>): the whole 4x4 tiles of the
    /// output gradient lie inside it. True for paddings 0 and 1; for padding 2 only where the tiles of the output gradient
    /// take no more rows and columns than those of the input.</summary>
    public static bool ReadsInputGradientCopy(int height, int width, int padding, int outHeight, int outWidth) =>
        padding is >= 0 and <= 2 && height > 0 && width > 0 && outHeight == height + 2 * padding - 2 && outWidth == width + 2 * padding - 2 && outHeight > 0 && outWidth > 0
        && 2 - padding + Winograd3x3.Blocks(outHeight) * Tile <= Winograd3x3.PaddedSide(height)
        && 2 - padding + Winograd3x3.Blocks(outWidth) * Tile <= Winograd3x3.PaddedSide(width);

    /// <summary>Tiles multiplied at once: as many as the forward pass's block of a call with many tiles (at least 32,
    /// within the second-level cache), whatever the call, so calls of one image with few tiles fill a block together.</summary>
    private static int BlockTiles(int channels, int filters) => Winograd3x3.BlockTiles(int.MaxValue, channels, filters);

    /// <summary>
    /// <paramref name="sums"/> (<c>S[36][filters][channels]</c>, <see cref="SumsLength"/>) += the per-point products of
    /// <paramref name="images"/> images: <paramref name="input"/> (<c>[channels, height, width]</c> each) and
    /// <paramref name="dout"/> (<c>[filters, outHeight, outWidth]</c> each). Each tile is transformed into
    /// <paramref name="pending"/> (<see cref="PendingLength"/>), and a full block of them multiplied into the sums; the tiles
    /// still pending when a call returns wait there for the next call (their count is the sums' last value), so calls of
    /// one image of few tiles make products as deep as calls of many. <see cref="AddFilterGradients"/> multiplies the last
    /// pending tiles and turns the sums into the weight gradient, once after every call of a pass; sums that start as
    /// zeros start with no tiles pending. <paramref name="padded"/> (<see cref="PaddedLength"/>) and
    /// <paramref name="gradientTiles"/> (<see cref="GradientTilesLength"/>) are working space for one group of
    /// <see cref="ImagesPerGroup"/> images (or all, if fewer).
    /// <para>Copies the training step already made are read instead of made again:</para>
    /// <list type="bullet">
    /// <item><paramref name="inputLaidOut"/>: <paramref name="padded"/> already holds all <paramref name="images"/> inputs
    /// channel-last with zero padding (<see cref="PaddedLength"/> of them), as <see cref="Winograd3x3.Forward"/> of this
    /// layer laid them out for this call; <paramref name="input"/> is not read.</item>
    /// <item><paramref name="gradientPadded"/>, when not empty: the output gradients channel-last with zeros around them,
    /// as <see cref="WinogradInputGradient.Images"/> of this layer laid them out for this call
    /// (<see cref="WinogradInputGradient.PaddedLength"/>; padded by <c>2 - padding</c>, which must leave whole tiles of the
    /// output gradient inside: <see cref="ReadsInputGradientCopy"/>); <paramref name="dout"/> and
    /// <paramref name="gradientTiles"/> are not read.</item>
    /// </list>
    /// Either way every tile is transformed from the same values, so the sums get the same bits.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void AddTiles(ReadOnlySpan<float> input, ReadOnlySpan<float> dout, int images, Span<float> sums, Span<float> pending,
        Span<float> padded, Span<float> gradientTiles, int channels, int height, int width, int filters, int padding, int outHeight, int outWidth,
        bool inputLaidOut = false, ReadOnlySpan<float> gradientPadded = default)
    {
        if (outHeight != height + 2 * padding - 2 || outWidth != width + 2 * padding - 2 || outHeight < 1 || outWidth < 1 || images < 1)
            throw new ArgumentException($"WinogradWeightGradient.AddTiles: a 3x3 stride-1 convolution of {height}x{width} with padding {padding} " +
                $"gives {height + 2 * padding - 2}x{width + 2 * padding - 2}, not {outHeight}x{outWidth} (or no images).");
        var shape = Winograd3x3.Shape.Of(channels, filters, outHeight, outWidth);
        int block = BlockTiles(channels, filters), perImage = shape.TilesHigh * shape.TilesWide;
        int group = Math.Min(images, ImagesPerGroup(channels, filters, outHeight, outWidth));
        bool gradientLaidOut = !gradientPadded.IsEmpty;
        if (gradientLaidOut && !ReadsInputGradientCopy(height, width, padding, outHeight, outWidth))
            throw new ArgumentException($"WinogradWeightGradient.AddTiles: the input gradient's copy of the output gradients (padded by {2 - padding}) does not hold " +
                                        $"whole 4x4 tiles of their {outHeight}x{outWidth} (padding {padding} of a {height}x{width} input); pass no copy.");
        if ((inputLaidOut ? padded.Length < PaddedLength(images, channels, outHeight, outWidth)
                          : input.Length < (long)images * channels * height * width || padded.Length < PaddedLength(group, channels, outHeight, outWidth))
            || (gradientLaidOut ? gradientPadded.Length < WinogradInputGradient.PaddedLength(images, filters, height, width)
                                : dout.Length < (long)images * filters * outHeight * outWidth || gradientTiles.Length < GradientTilesLength(group, filters, outHeight, outWidth))
            || sums.Length < SumsLength(channels, filters) || pending.Length < PendingLength(channels, filters))
            throw new ArgumentException("WinogradWeightGradient.AddTiles: spans too short for the given shape.");
        ref float waiting = ref sums[(int)SumsLength(channels, filters) - 1];
        int count = PendingCount(waiting, block, nameof(AddTiles));
        int tileRows = shape.TilesHigh * Tile, tileColumns = shape.TilesWide * Tile;
        long inputImage = (long)channels * height * width, doutImage = (long)filters * outHeight * outWidth;
        long paddedImage = PaddedLength(1, channels, outHeight, outWidth);
        // The output gradients' layout: whole tiles from the corner of this call's copy, or inside the input gradient's
        // copy, 2 - padding rows and columns in from its corner.
        int shift = 2 - padding, gradientColumns = gradientLaidOut ? Winograd3x3.PaddedSide(width) : tileColumns;
        long gradientImage = gradientLaidOut ? WinogradInputGradient.PaddedLength(1, filters, height, width) : GradientTilesLength(1, filters, outHeight, outWidth);
        // A group of images at a time (about one block of tiles), each copied just before its tiles are transformed, so
        // the copies are still in cache when they are read.
        fixed (float* pin = input, pdy = dout, ppad = padded, pg = gradientTiles, pgp = gradientPadded, pv = pending, ps = sums)
        {
            float* pd = pv + Points * Winograd3x3.PlaneStride(block, channels);
            for (int n0 = 0; n0 < images; n0 += group)
            {
                int groupImages = Math.Min(group, images - n0), groupTiles = groupImages * perImage;
                float* inputs = ppad, gradients = pg;
                if (inputLaidOut) inputs = ppad + n0 * paddedImage;
                else Winograd3x3.CopyChannelLast(pin + n0 * inputImage, ppad, groupImages, channels, height, width, padding, shape.PaddedHeight, shape.PaddedWidth);
                if (gradientLaidOut) gradients = pgp + n0 * gradientImage + ((long)shift * gradientColumns + shift) * filters;
                else Winograd3x3.CopyChannelLast(pdy + n0 * doutImage, pg, groupImages, filters, outHeight, outWidth, 0, tileRows, tileColumns);
                for (int t0 = 0; t0 < groupTiles;)
                {
                    int take = Math.Min(block - count, groupTiles - t0);
                    Winograd3x3.TransformInput(inputs, pv + (long)count * channels, Winograd3x3.PlaneStride(block, channels), shape, t0, take);
                    TransformGradient(gradients, gradientImage, gradientColumns, pd + (long)count * filters, Winograd3x3.PlaneStride(block, filters), shape, t0, take);
                    t0 += take;
                    count += take;
                    if (count == block)
                    {
                        MultiplyPending(ps, pv, pd, block, count, channels, filters);
                        count = 0;
                    }
                }
            }
        }
        waiting = count;
    }

    /// <summary>The count of pending tiles the sums' last value holds, checked: a whole number below a block.</summary>
    private static int PendingCount(float waiting, int block, string method)
    {
        int count = (int)waiting;
        if (count < 0 || count >= block || count != waiting)
            throw new ArgumentException($"WinogradWeightGradient.{method}: the sums' last value ({waiting}) is not a count of pending tiles below {block}.");
        return count;
    }

    /// <summary>The pending tiles' products added to the sums, one per point: <c>S[p] += D[p]^T V[p]</c>.</summary>
    private static void MultiplyPending(float* sums, float* v, float* d, int block, int count, int channels, int filters)
    {
        for (int p = 0; p < Points; p++)
            Gemm.Multiply(new ReadOnlySpan<float>(d + p * Winograd3x3.PlaneStride(block, filters), count * filters),
                new ReadOnlySpan<float>(v + p * Winograd3x3.PlaneStride(block, channels), count * channels),
                new Span<float>(sums + (long)p * filters * channels, filters * channels),
                m: filters, n: channels, k: count, transposeA: true, accumulate: true);
    }

    /// <summary><paramref name="dweight"/> (<c>[filters, channels, 3, 3]</c>) += <c>G^T S[., f, c] G</c> for every filter
    /// and channel, in double, rounded once: the weight gradient of the tiles <see cref="AddTiles"/> summed, after the
    /// tiles still pending in <paramref name="pending"/> are multiplied into <paramref name="sums"/> (none are left pending).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void AddFilterGradients(Span<float> sums, ReadOnlySpan<float> pending, Span<float> dweight, int channels, int filters)
    {
        if (sums.Length < SumsLength(channels, filters) || pending.Length < PendingLength(channels, filters) || dweight.Length < filters * channels * 9)
            throw new ArgumentException("WinogradWeightGradient.AddFilterGradients: spans too short for the given shape.");
        int block = BlockTiles(channels, filters);
        ref float waiting = ref sums[(int)SumsLength(channels, filters) - 1];
        int count = PendingCount(waiting, block, nameof(AddFilterGradients));
        long pointStride = (long)filters * channels;
        double* rows = stackalloc double[6 * 3];
        double* g = stackalloc double[3];
        fixed (float* ps = sums, pv = pending, pw = dweight)
        {
            if (count > 0) MultiplyPending(ps, pv, pv + Points * Winograd3x3.PlaneStride(block, channels), block, count, channels, filters);
            waiting = 0;
            int vectorChannels = Avx512F.IsSupported ? channels / 8 * 8 : 0;
            for (int f = 0; f < filters; f++)
            {
                int c = 0;
                for (; c < vectorChannels; c += 8)
                    AddFilterGradients8(ps + (long)f * channels + c, pointStride, pw + ((long)f * channels + c) * 9);
                for (; c < channels; c++)
                    AddFilterGradient1(ps + (long)f * channels + c, pointStride, pw + ((long)f * channels + c) * 9, rows, g);
            }
        }
    }

    /// <summary><c>G^T S G</c> of one filter and channel in double, each result rounded to float and added to its
    /// weight's gradient (<paramref name="rows"/>: 18 doubles of scratch, <paramref name="g"/>: 3).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void AddFilterGradient1(float* s, long pointStride, float* to, double* rows, double* g)
    {
        // G^T along each row of points (the kernel's columns), then along the columns (its rows).
        for (int i = 0; i < 6; i++)
        {
            float* row = s + i * 6 * pointStride;
            WinogradTransforms.FilterAdjoint(row[0], row[pointStride], row[2 * pointStride], row[3 * pointStride], row[4 * pointStride], row[5 * pointStride], rows + i * 3);
        }
        for (int kx = 0; kx < 3; kx++)
        {
            WinogradTransforms.FilterAdjoint(rows[kx], rows[3 + kx], rows[6 + kx], rows[9 + kx], rows[12 + kx], rows[15 + kx], g);
            to[kx] += (float)g[0];
            to[3 + kx] += (float)g[1];
            to[6 + kx] += (float)g[2];
        }
    }

    /// <summary><see cref="AddFilterGradient1"/>'s <c>G^T S G</c> for 8 channels of one filter at once (their sums lie next to each other
    /// at every point), in doubles with its operations in its order, each result rounded to float and added to its
    /// weight's gradient: the same bits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void AddFilterGradients8(float* s, long pointStride, float* to)
    {
        Vector512<double> P(int point) => Avx512F.ConvertToVector512Double(Vector256.Load(s + point * pointStride));
        // G^T along each row of points (the kernel's columns).
        WinogradTransforms.FilterAdjoint(P(0), P(1), P(2), P(3), P(4), P(5), out var r00, out var r01, out var r02);
        WinogradTransforms.FilterAdjoint(P(6), P(7), P(8), P(9), P(10), P(11), out var r10, out var r11, out var r12);
        WinogradTransforms.FilterAdjoint(P(12), P(13), P(14), P(15), P(16), P(17), out var r20, out var r21, out var r22);
        WinogradTransforms.FilterAdjoint(P(18), P(19), P(20), P(21), P(22), P(23), out var r30, out var r31, out var r32);
        WinogradTransforms.FilterAdjoint(P(24), P(25), P(26), P(27), P(28), P(29), out var r40, out var r41, out var r42);
        WinogradTransforms.FilterAdjoint(P(30), P(31), P(32), P(33), P(34), P(35), out var r50, out var r51, out var r52);
        // Then along the columns (the kernel's rows): column kx gives taps kx, 3 + kx and 6 + kx.
        AddColumn(r00, r10, r20, r30, r40, r50, to, 0);
        AddColumn(r01, r11, r21, r31, r41, r51, to, 1);
        AddColumn(r02, r12, r22, r32, r42, r52, to, 2);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AddColumn(Vector512<double> u0, Vector512<double> u1, Vector512<double> u2, Vector512<double> u3, Vector512<double> u4,
        Vector512<double> u5, float* to, int kx)
    {
        WinogradTransforms.FilterAdjoint(u0, u1, u2, u3, u4, u5, out var g0, out var g1, out var g2);
        var top = Avx512F.ConvertToVector256Single(g0);
        var middle = Avx512F.ConvertToVector256Single(g1);
        var bottom = Avx512F.ConvertToVector256Single(g2);
        for (int lane = 0; lane < 8; lane++)
        {
            float* w = to + lane * 9;
            w[kx] += top.GetElement(lane);
            w[3 + kx] += middle.GetElement(lane);
            w[6 + kx] += bottom.GetElement(lane);
        }
    }

    /// <summary><c>A dY A^T</c> of tiles [t0, t0 + count) of the channel-last gradients to <c>d[36][..][filters]</c>, each
    /// point's rows <paramref name="pointStride"/> values apart: image <c>n</c>'s first gradient at
    /// <c>origin + n * imageStride</c>, its rows <paramref name="columns"/> positions apart.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TransformGradient(float* origin, long imageStride, int columns, float* d, long pointStride, in Winograd3x3.Shape s, int t0, int count)
    {
        int filters = s.Filters, rowStride = columns * filters, perImage = s.TilesHigh * s.TilesWide;
        int vectorFilters = Avx512F.IsSupported ? filters / 16 * 16 : 0;
        float* stage = stackalloc float[Tile * Winograd3x3.InputTile * 16];
        for (int i = 0; i < count; i++)
        {
            int t = t0 + i, n = t / perImage, ty = t % perImage / s.TilesWide, tx = t % s.TilesWide;
            float* corner = origin + n * imageStride + ((long)ty * Tile * columns + tx * Tile) * filters;
            float* to = d + (long)i * filters;
            for (int f = 0; f < vectorFilters; f += 16) GradientTile16(corner + f, rowStride, filters, to + f, pointStride, stage);
            for (int f = vectorFilters; f < filters; f++) GradientTile1(corner + f, rowStride, filters, to + f, pointStride);
        }
    }

    /// <summary>One tile's gradient transform for 16 filters: rows first, then columns.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void GradientTile16(float* corner, int rowStride, int step, float* d, long pointStride, float* stage)
    {
        for (int r = 0; r < Tile; r++)
        {
            float* row = corner + r * rowStride;
            WinogradTransforms.OutputAdjoint(Vector512.Load(row), Vector512.Load(row + step), Vector512.Load(row + 2 * step), Vector512.Load(row + 3 * step),
                out var h0, out var h1, out var h2, out var h3, out var h4, out var h5);
            float* s = stage + r * 6 * 16;
            h0.Store(s); h1.Store(s + 16); h2.Store(s + 32); h3.Store(s + 48); h4.Store(s + 64); h5.Store(s + 80);
        }
        for (int j = 0; j < 6; j++)
        {
            float* s = stage + j * 16;
            const int down = 6 * 16;
            WinogradTransforms.OutputAdjoint(Vector512.Load(s), Vector512.Load(s + down), Vector512.Load(s + 2 * down), Vector512.Load(s + 3 * down),
                out var m0, out var m1, out var m2, out var m3, out var m4, out var m5);
            m0.Store(d + j * pointStride);
            m1.Store(d + (6 + j) * pointStride);
            m2.Store(d + (12 + j) * pointStride);
            m3.Store(d + (18 + j) * pointStride);
            m4.Store(d + (24 + j) * pointStride);
            m5.Store(d + (30 + j) * pointStride);
        }
    }

    /// <summary>One tile's gradient transform for one filter, the operations of <see cref="GradientTile16"/>.</summary>
    private static void GradientTile1(float* corner, int rowStride, int step, float* d, long pointStride)
    {
        float* h = stackalloc float[Tile * 6];
        for (int r = 0; r < Tile; r++)
        {
            float* row = corner + r * rowStride;
            WinogradTransforms.OutputAdjoint(row[0], row[step], row[2 * step], row[3 * step],
                out h[r * 6], out h[r * 6 + 1], out h[r * 6 + 2], out h[r * 6 + 3], out h[r * 6 + 4], out h[r * 6 + 5]);
        }
        for (int j = 0; j < 6; j++)
            WinogradTransforms.OutputAdjoint(h[j], h[6 + j], h[12 + j], h[18 + j],
                out d[j * pointStride], out d[(6 + j) * pointStride], out d[(12 + j) * pointStride],
                out d[(18 + j) * pointStride], out d[(24 + j) * pointStride], out d[(30 + j) * pointStride]);
    }
}
