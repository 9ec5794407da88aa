using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CnnGen.Kernels;

/// <summary>
/// Winograd F(4x4, 3x3) convolution for inference: 3x3 kernel, stride 1, dilation 1, one group, any padding, NCHW in
/// and out, bias and an optional fused ReLU applied as the output is stored. Each 4x4 block of outputs (a tile) is
/// computed from a 6x6 block of input with 36 products per channel and filter instead of 144:
/// <c>Y = A^T [sum over c of (G g G^T) .* (B^T d B)] A</c> (<see cref="WinogradTransforms"/>).
/// <para>The tiles of all images of a call form one matrix, so small maps still make wide products. The steps:
/// <see cref="TransformInput"/> copies the images channel-last with zero padding and transforms every tile into
/// <c>V[36][tiles][channels]</c>; <see cref="Multiply"/> runs one matrix product per point,
/// <c>M[p][tiles][filters] = V[p] * U[p]</c> (<see cref="Gemm.Multiply"/>), with the filters transformed by
/// <see cref="TransformWeights"/> into <c>U[36][channels][filters]</c>; <see cref="TransformOutput"/> turns each
/// tile back into 4x4 outputs. Each step can run on a range of filters [f0, f1) (the weights of a range are transformed
/// into their own block), so a layer can be split by filters.</para>
/// <para>The transforms run on 16 channels or 16 filters at a time with AVX-512 and one at a time otherwise, with the same
/// operations in the same order: both paths give the same bits. The result differs from direct convolution by
/// rounding only (the transforms scale values by up to 100 before the sums): see the accuracy tests.</para>
/// </summary>
[SkipLocalsInit]
public static unsafe class Winograd3x3
{
    /// <summary>Outputs per tile side.</summary>
    public const int OutputTile = 4;

    /// <summary>Inputs per tile side: <see cref="OutputTile"/> + 3 - 1.</summary>
    public const int InputTile = 6;

    /// <summary>Points of the transform: one matrix product each.</summary>
    public const int Points = InputTile * InputTile;

    /// <summary>Whether this kernel computes a convolution of this kind.</summary>
    public static bool Supports(int kernel, int stride, int dilation, int groups) =>
        kernel == 3 && stride == 1 && dilation == 1 && groups == 1;

    /// <summary>Tiles per image: the output in 4x4 blocks, the last row and column of blocks cut by the edge.</summary>
    public static int TilesPerImage(int outHeight, int outWidth) => Blocks(outHeight) * Blocks(outWidth);

    /// <summary>Values of the transformed weights of all filters.</summary>
    public static long TransformedWeightLength(int filters, int channels) => (long)Points * filters * channels;

    /// <summary>Values of the channel-last, zero-padded copy of <paramref name="images"/> images.</summary>
    public static long PaddedLength(int images, int channels, int outHeight, int outWidth) =>
        (long)images * PaddedSide(outHeight) * PaddedSide(outWidth) * channels;

    /// <summary>Values of the transformed input of <paramref name="images"/> images.</summary>
    public static long TransformedInputLength(int images, int channels, int outHeight, int outWidth) =>
        (long)Points * images * TilesPerImage(outHeight, outWidth) * channels;

    /// <summary>Values of the products for <paramref name="filters"/> filters (a range's count) over <paramref name="images"/> images.</summary>
    public static long ProductLength(int images, int filters, int outHeight, int outWidth) =>
        (long)Points * images * TilesPerImage(outHeight, outWidth) * filters;

    private static int Blocks(int size) => (size + OutputTile - 1) / OutputTile;

    private static int PaddedSide(int outSize) => Blocks(outSize) * OutputTile + 2;

    /// <summary>
    /// <c>U = G g G^T</c> of filters [f0, f1) (computed in double, rounded once), written to the range's block of
    /// <paramref name="transformed"/>: it starts at <c>36 * channels * f0</c> and holds <c>U[36][channels][f1 - f0]</c>.
    /// <paramref name="weight"/> is the layer's <c>[filters, channels, 3, 3]</c> weight.
    /// </summary>
    public static void TransformWeights(ReadOnlySpan<float> weight, Span<float> transformed, int filters, int channels, int f0, int f1)
    {
        CheckRange(filters, f0, f1, nameof(TransformWeights));
        if (weight.Length < filters * channels * 9 || transformed.Length < TransformedWeightLength(filters, channels))
            throw new ArgumentException("Winograd3x3.TransformWeights: spans too short for the given shape.");
        int range = f1 - f0;
        var block = transformed.Slice(Points * channels * f0, Points * channels * range);
        Span<double> column = stackalloc double[InputTile * 3];
        Span<double> u = stackalloc double[InputTile];
        for (int f = f0; f < f1; f++)
        for (int c = 0; c < channels; c++)
        {
            var g = weight.Slice((f * channels + c) * 9, 9);
            // G g: each of the three kernel columns transformed to six values.
            for (int kx = 0; kx < 3; kx++)
            {
                WinogradTransforms.Filter(g[kx], g[3 + kx], g[6 + kx], u);
                for (int i = 0; i < InputTile; i++) column[i * 3 + kx] = u[i];
            }
            // (G g) G^T: each of the six rows transformed to six values.
            for (int i = 0; i < InputTile; i++)
            {
                WinogradTransforms.Filter(column[i * 3], column[i * 3 + 1], column[i * 3 + 2], u);
                for (int j = 0; j < InputTile; j++)
                    block[((i * InputTile + j) * channels + c) * range + f - f0] = (float)u[j];
            }
        }
    }

    /// <summary>
    /// <see cref="TransformWeights"/> of all filters into <paramref name="transformed"/>, only when <paramref name="weight"/>
    /// differs from <paramref name="copy"/> (the weights the last transform was made from, updated here): the transform is
    /// a function of the weights alone, so equal weights mean it is still right, however they were changed in between.
    /// Returns whether it transformed.
    /// </summary>
    public static bool PrepareWeights(ReadOnlySpan<float> weight, Span<float> copy, Span<float> transformed, int filters, int channels)
    {
        int length = filters * channels * 9;
        if (weight.Length < length || copy.Length != length + 1)
            throw new ArgumentException("Winograd3x3.PrepareWeights: the copy must hold the weights and one more value (whether it is set).");
        // The last value of the copy is 1 once a transform was made from it (a new copy is all zeros).
        if (copy[length] == 1f && weight.Slice(0, length).SequenceEqual(copy.Slice(0, length))) return false;
        TransformWeights(weight, transformed, filters, channels, 0, filters);
        weight.Slice(0, length).CopyTo(copy);
        copy[length] = 1f;
        return true;
    }

    /// <summary>Values the cache of <see cref="PrepareWeights"/> holds for a layer.</summary>
    public static int WeightCopyLength(int filters, int channels) => filters * channels * 9 + 1;

    /// <summary>
    /// Copies <paramref name="images"/> NCHW images channel-last into <paramref name="padded"/> (zeros around them) and
    /// writes every tile's <c>B^T d B</c> to <paramref name="transformedInput"/>, <c>V[36][tiles][channels]</c>, tiles in
    /// image, row, column order.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void TransformInput(ReadOnlySpan<float> input, int images, Span<float> padded, Span<float> transformedInput,
        int channels, int height, int width, int padding, int outHeight, int outWidth)
    {
        CheckOutputSize(height, width, padding, outHeight, outWidth);
        int ph = PaddedSide(outHeight), pw = PaddedSide(outWidth), tilesHigh = Blocks(outHeight), tilesWide = Blocks(outWidth);
        int tiles = images * tilesHigh * tilesWide;
        if (input.Length < (long)images * channels * height * width || padded.Length < PaddedLength(images, channels, outHeight, outWidth)
            || transformedInput.Length < TransformedInputLength(images, channels, outHeight, outWidth))
            throw new ArgumentException("Winograd3x3.TransformInput: spans too short for the given shape.");
        fixed (float* pin = input, ppad = padded, pv = transformedInput)
        {
            CopyChannelLast(pin, ppad, images, channels, height, width, padding, ph, pw);
            long pointStride = (long)tiles * channels;
            int rowStride = pw * channels;
            int vectorChannels = Avx512F.IsSupported ? channels / 16 * 16 : 0;
            float* stage = stackalloc float[Points * 16];
            for (int n = 0; n < images; n++)
            for (int ty = 0; ty < tilesHigh; ty++)
            for (int tx = 0; tx < tilesWide; tx++)
            {
                int t = (n * tilesHigh + ty) * tilesWide + tx;
                float* corner = ppad + ((long)(n * ph + ty * OutputTile) * pw + tx * OutputTile) * channels;
                float* v = pv + (long)t * channels;
                for (int c = 0; c < vectorChannels; c += 16) InputTile16(corner + c, rowStride, channels, v + c, pointStride, stage);
                for (int c = vectorChannels; c < channels; c++) InputTile1(corner + c, rowStride, channels, v + c, pointStride);
            }
        }
    }

    private static void CopyChannelLast(float* input, float* padded, int images, int channels, int height, int width, int padding, int ph, int pw)
    {
        new Span<float>(padded, checked(images * ph * pw * channels)).Clear();
        for (int n = 0; n < images; n++)
        for (int c = 0; c < channels; c++)
        {
            float* plane = input + (long)(n * channels + c) * height * width;
            for (int y = 0; y < height; y++)
            {
                float* from = plane + y * width;
                float* to = padded + ((long)(n * ph + y + padding) * pw + padding) * channels + c;
                for (int x = 0; x < width; x++) to[x * channels] = from[x];
            }
        }
    }

    /// <summary>One tile's input transform for 16 channels: rows first, then columns.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void InputTile16(float* corner, int rowStride, int step, float* v, long pointStride, float* stage)
    {
        for (int r = 0; r < InputTile; r++)
        {
            float* row = corner + r * rowStride;
            WinogradTransforms.Input(Vector512.Load(row), Vector512.Load(row + step), Vector512.Load(row + 2 * step),
                Vector512.Load(row + 3 * step), Vector512.Load(row + 4 * step), Vector512.Load(row + 5 * step),
                out var h0, out var h1, out var h2, out var h3, out var h4, out var h5);
            float* s = stage + r * InputTile * 16;
            h0.Store(s); h1.Store(s + 16); h2.Store(s + 32); h3.Store(s + 48); h4.Store(s + 64); h5.Store(s + 80);
        }
        for (int j = 0; j < InputTile; j++)
        {
            float* s = stage + j * 16;
            const int down = InputTile * 16;
            WinogradTransforms.Input(Vector512.Load(s), Vector512.Load(s + down), Vector512.Load(s + 2 * down),
                Vector512.Load(s + 3 * down), Vector512.Load(s + 4 * down), Vector512.Load(s + 5 * down),
                out var v0, out var v1, out var v2, out var v3, out var v4, out var v5);
            v0.Store(v + j * pointStride);
            v1.Store(v + (InputTile + j) * pointStride);
            v2.Store(v + (2 * InputTile + j) * pointStride);
            v3.Store(v + (3 * InputTile + j) * pointStride);
            v4.Store(v + (4 * InputTile + j) * pointStride);
            v5.Store(v + (5 * InputTile + j) * pointStride);
        }
    }

    /// <summary>One tile's input transform for one channel, the operations of <see cref="InputTile16"/>.</summary>
    private static void InputTile1(float* corner, int rowStride, int step, float* v, long pointStride)
    {
        float* h = stackalloc float[Points];
        for (int r = 0; r < InputTile; r++)
        {
            float* row = corner + r * rowStride;
            WinogradTransforms.Input(row[0], row[step], row[2 * step], row[3 * step], row[4 * step], row[5 * step],
                out h[r * 6], out h[r * 6 + 1], out h[r * 6 + 2], out h[r * 6 + 3], out h[r * 6 + 4], out h[r * 6 + 5]);
        }
        for (int j = 0; j < InputTile; j++)
        {
            WinogradTransforms.Input(h[j], h[6 + j], h[12 + j], h[18 + j], h[24 + j], h[30 + j],
                out v[j * pointStride], out v[(6 + j) * pointStride], out v[(12 + j) * pointStride],
                out v[(18 + j) * pointStride], out v[(24 + j) * pointStride], out v[(30 + j) * pointStride]);
        }
    }

    /// <summary>
    /// <c>M[p] = V[p] * U[p]</c> for the 36 points and filters [f0, f1): <paramref name="transformedWeight"/> is the whole
    /// transformed weight (the range's block is read), <paramref name="products"/> receives <c>M[36][tiles][f1 - f0]</c>.
    /// </summary>
    public static void Multiply(ReadOnlySpan<float> transformedInput, ReadOnlySpan<float> transformedWeight, Span<float> products,
        int images, int channels, int filters, int f0, int f1, int outHeight, int outWidth)
    {
        CheckRange(filters, f0, f1, nameof(Multiply));
        int tiles = images * TilesPerImage(outHeight, outWidth), range = f1 - f0;
        if (transformedInput.Length < TransformedInputLength(images, channels, outHeight, outWidth)
            || transformedWeight.Length < TransformedWeightLength(filters, channels) || products.Length < ProductLength(images, range, outHeight, outWidth))
            throw new ArgumentException("Winograd3x3.Multiply: spans too short for the given shape.");
        var block = transformedWeight.Slice(Points * channels * f0, Points * channels * range);
        for (int p = 0; p < Points; p++)
            Gemm.Multiply(transformedInput.Slice(p * tiles * channels, tiles * channels), block.Slice(p * channels * range, channels * range),
                products.Slice(p * tiles * range, tiles * range), m: tiles, n: range, k: channels);
    }

    /// <summary>
    /// Each tile's <c>A^T M A</c> plus the filter's bias, then (when fused) ReLU (<c>x &lt; 0 ? 0 : x</c>), stored to the
    /// NCHW <paramref name="output"/> (all filters per image) for filters [f0, f1); outputs past the edge are not written.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void TransformOutput(ReadOnlySpan<float> products, ReadOnlySpan<float> bias, Span<float> output,
        int images, int filters, int f0, int f1, int outHeight, int outWidth, bool relu)
    {
        CheckRange(filters, f0, f1, nameof(TransformOutput));
        int tilesHigh = Blocks(outHeight), tilesWide = Blocks(outWidth), tiles = images * tilesHigh * tilesWide, range = f1 - f0;
        if (products.Length < ProductLength(images, range, outHeight, outWidth) || bias.Length < filters
            || output.Length < (long)images * filters * outHeight * outWidth)
            throw new ArgumentException("Winograd3x3.TransformOutput: spans too short for the given shape.");
        int vectorFilters = Avx512F.IsSupported ? range / 16 * 16 : 0;
        int plane = outHeight * outWidth;
        fixed (float* pm = products, pb = bias, pout = output)
        {
            // 24 rows of column transforms, then 16 finished values, 16 filters each.
            float* stage = stackalloc float[(OutputTile * InputTile + OutputTile * OutputTile) * 16];
            long pointStride = (long)tiles * range;
            for (int n = 0; n < images; n++)
            for (int ty = 0; ty < tilesHigh; ty++)
            for (int tx = 0; tx < tilesWide; tx++)
            {
                int t = (n * tilesHigh + ty) * tilesWide + tx;
                int rows = Math.Min(OutputTile, outHeight - ty * OutputTile), columns = Math.Min(OutputTile, outWidth - tx * OutputTile);
                float* m = pm + (long)t * range;
                float* corner = pout + (long)n * filters * plane + ty * OutputTile * outWidth + tx * OutputTile;
                for (int f = 0; f < vectorFilters; f += 16)
                    OutputTile16(m + f, pointStride, pb + f0 + f, corner + (long)(f0 + f) * plane, plane, outWidth, rows, columns, relu, stage);
                for (int f = vectorFilters; f < range; f++)
                    OutputTile1(m + f, pointStride, pb[f0 + f], corner + (long)(f0 + f) * plane, outWidth, rows, columns, relu);
            }
        }
    }

    /// <summary>One tile's output transform for 16 filters: columns first, then rows; then each filter's block stored.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void OutputTile16(float* m, long pointStride, float* bias, float* corner, int plane, int outWidth, int rows, int columns,
        bool relu, float* stage)
    {
        for (int s = 0; s < InputTile; s++)
        {
            WinogradTransforms.Output(Vector512.Load(m + s * pointStride), Vector512.Load(m + (6 + s) * pointStride),
                Vector512.Load(m + (12 + s) * pointStride), Vector512.Load(m + (18 + s) * pointStride),
                Vector512.Load(m + (24 + s) * pointStride), Vector512.Load(m + (30 + s) * pointStride),
                out var t0, out var t1, out var t2, out var t3);
            t0.Store(stage + s * 16); t1.Store(stage + (6 + s) * 16); t2.Store(stage + (12 + s) * 16); t3.Store(stage + (18 + s) * 16);
        }
        var b = Vector512.Load(bias);
        for (int i = 0; i < OutputTile; i++)
        {
            float* s = stage + i * InputTile * 16;
            WinogradTransforms.Output(Vector512.Load(s), Vector512.Load(s + 16), Vector512.Load(s + 32), Vector512.Load(s + 48),
                Vector512.Load(s + 64), Vector512.Load(s + 80), out var y0, out var y1, out var y2, out var y3);
            // The finished row goes after the 24 rows of column transforms.
            float* done = stage + (24 + i * 4) * 16;
            Finish(y0, b, relu).Store(done); Finish(y1, b, relu).Store(done + 16);
            Finish(y2, b, relu).Store(done + 32); Finish(y3, b, relu).Store(done + 48);
        }
        float* finished = stage + 24 * 16;
        for (int lane = 0; lane < 16; lane++)
        {
            float* o = corner + (long)lane * plane;
            for (int i = 0; i < rows; i++)
            for (int j = 0; j < columns; j++)
                o[i * outWidth + j] = finished[(i * 4 + j) * 16 + lane];
        }
    }

    /// <summary>One tile's output transform for one filter, the operations of <see cref="OutputTile16"/>.</summary>
    private static void OutputTile1(float* m, long pointStride, float bias, float* corner, int outWidth, int rows, int columns, bool relu)
    {
        float* t = stackalloc float[OutputTile * InputTile];
        for (int s = 0; s < InputTile; s++)
            WinogradTransforms.Output(m[s * pointStride], m[(6 + s) * pointStride], m[(12 + s) * pointStride], m[(18 + s) * pointStride],
                m[(24 + s) * pointStride], m[(30 + s) * pointStride], out t[s], out t[6 + s], out t[12 + s], out t[18 + s]);
        float* y = stackalloc float[OutputTile];
        for (int i = 0; i < rows; i++)
        {
            float* s = t + i * InputTile;
            WinogradTransforms.Output(s[0], s[1], s[2], s[3], s[4], s[5], out y[0], out y[1], out y[2], out y[3]);
            for (int j = 0; j < columns; j++)
            {
                float v = y[j] + bias;
                corner[i * outWidth + j] = relu && v < 0f ? 0f : v;
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Finish(Vector512<float> sum, Vector512<float> bias, bool relu)
    {
        var v = sum + bias;
        return relu ? Vector512.ConditionalSelect(Vector512.LessThan(v, Vector512<float>.Zero), Vector512<float>.Zero, v) : v;
    }

    /// <summary>
    /// The whole convolution of <paramref name="images"/> images for filters [f0, f1) (all by default):
    /// <see cref="TransformInput"/>, <see cref="Multiply"/>, <see cref="TransformOutput"/>.
    /// </summary>
    public static void Forward(ReadOnlySpan<float> input, int images, ReadOnlySpan<float> transformedWeight, ReadOnlySpan<float> bias,
        Span<float> output, Span<float> padded, Span<float> transformedInput, Span<float> products,
        int channels, int height, int width, int filters, int padding, int outHeight, int outWidth, bool relu = false, int f0 = 0, int f1 = -1)
    {
        if (f1 < 0) f1 = filters;
        TransformInput(input, images, padded, transformedInput, channels, height, width, padding, outHeight, outWidth);
        Multiply(transformedInput, transformedWeight, products, images, channels, filters, f0, f1, outHeight, outWidth);
        TransformOutput(products, bias, output, images, filters, f0, f1, outHeight, outWidth, relu);
    }

    private static void CheckRange(int filters, int f0, int f1, string method)
    {
        if (f0 < 0 || f1 > filters || f0 >= f1)
            throw new ArgumentOutOfRangeException(nameof(f0), $"Winograd3x3.{method}: the filter range [{f0}, {f1}) is not a non-empty part of [0, {filters}).");
    }

    private static void CheckOutputSize(int height, int width, int padding, int outHeight, int outWidth)
    {
        if (outHeight != height + 2 * padding - 2 || outWidth != width + 2 * padding - 2 || outHeight < 1 || outWidth < 1)
            throw new ArgumentException($"Winograd3x3: a 3x3 stride-1 convolution of {height}x{width} with padding {padding} gives " +
                $"{height + 2 * padding - 2}x{width + 2 * padding - 2}, not {outHeight}x{outWidth}.");
    }
}
