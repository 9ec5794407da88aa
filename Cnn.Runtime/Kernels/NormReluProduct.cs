using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CnnGen.Kernels;

/// <summary>
/// A 1x1 convolution whose input is normalised and rectified as it is read, in inference: DenseNet's
/// <c>BatchNorm, ReLU, 1x1 conv</c>, whose BatchNorm follows a channel join and so cannot be folded into a convolution.
/// <c>output[F, P] = activation(weight[F, K] * relu(x[K, P] * scale[K] + shift[K]) + bias)</c>, a block of positions at a
/// time: the block's normalised columns go to this thread's scratch (about <see cref="BlockValues"/> values, within a
/// core's second-level cache) and are multiplied from there, by the product of <see cref="Gemm.MultiplyBiasActivation"/>
/// or, with the weights laid out as panels, of <see cref="FilterLanes"/>. The normalised map is never written whole: the
/// BatchNorm's own pass wrote it (a map of up to 1,024 channels) and the convolution read it back, and on two threads
/// the pass, split by channels, wrote lines the other core had read. With AVX2 and not AVX-512, the block is normalised
/// 8 values at a time and multiplied by <see cref="GemmAvx2"/> (weights in rows or panels), where each output's chain
/// ran in scalar code before: DenseNet-121's pass on one thread 1,862 / 1,865 -> 59.4 / 58.4 ms (<c>Cnn.Latency
/// --fixed</c>, the two builds in turn twice).
/// <para>Each normalised value is <see cref="BatchNorm.Apply"/>'s (<see cref="BatchNorm.Normalize(float, float, float, FusedActivation)"/>)
/// and each output the product's chain over them (one fused multiply-add per term from zero, then the bias, then the
/// activation), so the bits of the three layers run one after the other, for any range of filters or positions.</para>
/// </summary>
[SkipLocalsInit]
public static unsafe class NormReluProduct
{
    /// <summary>Normalised values a block aims at (128 KiB): a block holds as many positions as fit, but never fewer than
    /// one panel's or one group's.</summary>
    public const int BlockValues = 32 * 1024;

    /// <summary>Positions of one wide panel of the product (<c>PanelGemmAvx512.WidePanelWidth</c>): a block holds whole ones.</summary>
    private const int ProductPositions = 48;

    /// <summary>Positions the filter-lane kernel computes together: a block holds whole groups.</summary>
    private const int LanePositions = 14;

    /// <summary>
    /// Filters <c>[firstFilter, endFilter)</c> at positions <c>[firstPosition, endPosition)</c> of
    /// <c>output[F, P] = activation(weight[F, K] * relu(x[K, P] * scale + shift) + bias)</c> for one image; nothing else
    /// of <paramref name="output"/> is written. With <paramref name="lanes"/>, <paramref name="weight"/> holds the
    /// panels <see cref="FilterLanes.Layout"/> makes and the filters are whole panels.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Forward(ReadOnlySpan<float> weight, bool lanes, ReadOnlySpan<float> x, ReadOnlySpan<float> scale, ReadOnlySpan<float> shift,
        ReadOnlySpan<float> bias, Span<float> output, int filters, int k, int positions, int firstFilter, int endFilter, int firstPosition, int endPosition,
        FusedActivation activation = FusedActivation.None)
    {
        if (filters < 1 || k < 1 || positions < 1 || firstFilter < 0 || endFilter > filters || firstFilter > endFilter
            || firstPosition < 0 || endPosition > positions || firstPosition > endPosition)
            throw new ArgumentException($"NormReluProduct.Forward: filters [{firstFilter}, {endFilter}) of {filters} and positions [{firstPosition}, {endPosition}) of {positions} " +
                $"are not ranges of a [{filters}x{k}] * [{k}x{positions}] product.");
        if (lanes && (filters % FilterLanes.PanelFilters != 0 || firstFilter % FilterLanes.PanelFilters != 0 || endFilter % FilterLanes.PanelFilters != 0))
            throw new ArgumentException($"NormReluProduct.Forward: filters [{firstFilter}, {endFilter}) of {filters} are not whole panels of {FilterLanes.PanelFilters}.");
        if (weight.Length < (long)filters * k || x.Length < (long)k * positions || scale.Length < k || shift.Length < k || bias.Length < filters
            || output.Length < (long)filters * positions)
            throw new ArgumentException($"NormReluProduct.Forward: spans too short for [{filters}x{k}] * [{k}x{positions}].");
        if (firstFilter == endFilter || firstPosition == endPosition) return;
        int unit = lanes ? LanePositions : ProductPositions;
        int block = Math.Min(endPosition - firstPosition, Math.Max(unit, BlockValues / k / unit * unit));
        bool simd = Avx512F.IsSupported && Vector512.IsHardwareAccelerated, avx2 = !simd && GemmAvx2.IsSupported;
        fixed (float* pw = weight, px = x, ps = scale, pt = shift, pb = bias, po = output, normalised = ThreadScratch.AtLeast(ref t_block, (long)k * block))
        {
            for (int j0 = firstPosition; j0 < endPosition; j0 += block)
            {
                int count = Math.Min(block, endPosition - j0);
                if (simd) Normalise(px + j0, positions, ps, pt, normalised, k, count);
                else if (avx2) NormaliseAvx2(px + j0, positions, ps, pt, normalised, k, count);
                else NormalisePortable(px + j0, positions, ps, pt, normalised, k, count);
                float* to = po + (long)firstFilter * positions + j0;
                if (avx2 && lanes) GemmAvx2.MultiplyPanels(pw + (long)firstFilter * k, normalised, ldb: count, to, ldc: positions, endFilter - firstFilter, count, k,
                    pb + firstFilter, activation);
                else if (avx2) GemmAvx2.Multiply(pw + (long)firstFilter * k, normalised, ldb: count, to, ldc: positions, endFilter - firstFilter, count, k,
                    rowStep: k, colStep: 1, accumulate: false, pb + firstFilter, activation);
                else if (!simd) ProductPortable(pw, lanes, normalised, pb, po + j0, positions, k, count, firstFilter, endFilter, activation);
                else if (lanes) FilterLanes.Run(pw, normalised, count, pb, po + j0, positions, k, count, firstFilter, endFilter, activation);
                else GemmAvx512.Multiply(pw + (long)firstFilter * k, normalised, ldb: count, to, ldc: positions,
                    endFilter - firstFilter, count, k, rowStep: k, colStep: 1, accumulate: false, pb + firstFilter, activation);
            }
        }
    }

    /// <summary>This thread's normalised block, grown once.</summary>
    [ThreadStatic] private static float[]? t_block;

    /// <summary>Columns <c>[0, count)</c> of <paramref name="x"/> (rows <paramref name="stride"/> apart), normalised and
    /// rectified, into <paramref name="normalised"/> (rows <paramref name="count"/> apart): 16 at a time.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Normalise(float* x, int stride, float* scale, float* shift, float* normalised, int k, int count)
    {
        int whole = count & ~15;
        var tail = LaneMask.First(count - whole);
        for (int p = 0; p < k; p++)
        {
            float* from = x + (long)p * stride, to = normalised + (long)p * count;
            var s = Vector512.Create(scale[p]);
            var t = Vector512.Create(shift[p]);
            int j = 0;
            for (; j < whole; j += 16)
                BatchNorm.Normalize(Vector512.Load(from + j), s, t, FusedActivation.Relu).Store(to + j);
            if (j < count)
                Avx512F.MaskStore(to + j, tail, BatchNorm.Normalize(Avx512F.MaskLoad(from + j, tail, Vector512<float>.Zero), s, t, FusedActivation.Relu));
        }
    }

    /// <summary><see cref="Normalise"/> 8 values at a time (AVX2), the last few of each row one at a time.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void NormaliseAvx2(float* x, int stride, float* scale, float* shift, float* normalised, int k, int count)
    {
        for (int p = 0; p < k; p++)
        {
            float* from = x + (long)p * stride, to = normalised + (long)p * count;
            var s = Vector256.Create(scale[p]);
            var t = Vector256.Create(shift[p]);
            int j = 0;
            for (; j + 8 <= count; j += 8)
                BatchNorm.Normalize(Vector256.Load(from + j), s, t, FusedActivation.Relu).Store(to + j);
            for (; j < count; j++) to[j] = BatchNorm.Normalize(from[j], scale[p], shift[p], FusedActivation.Relu);
        }
    }

    /// <summary><see cref="Normalise"/> one value at a time.</summary>
    private static void NormalisePortable(float* x, int stride, float* scale, float* shift, float* normalised, int k, int count)
    {
        for (int p = 0; p < k; p++)
            for (int j = 0; j < count; j++)
                normalised[(long)p * count + j] = BatchNorm.Normalize(x[(long)p * stride + j], scale[p], shift[p], FusedActivation.Relu);
    }

    /// <summary>Each output's chain from the normalised block: one fused multiply-add per term from zero, then the bias,
    /// then the activation (the weights as rows, or as panels).</summary>
    private static void ProductPortable(float* weight, bool lanes, float* normalised, float* bias, float* output, int positions, int k, int count,
        int firstFilter, int endFilter, FusedActivation activation)
    {
        for (int f = firstFilter; f < endFilter; f++)
        {
            for (int j = 0; j < count; j++)
            {
                float acc = 0f;
                for (int p = 0; p < k; p++)
                {
                    float w = lanes ? weight[(long)(f / FilterLanes.PanelFilters) * FilterLanes.PanelFilters * k + (long)p * FilterLanes.PanelFilters + f % FilterLanes.PanelFilters]
                        : weight[(long)f * k + p];
                    acc = MathF.FusedMultiplyAdd(w, normalised[(long)p * count + j], acc);
                }
                output[(long)f * positions + j] = Activate.Apply(acc + bias[f], activation);
            }
        }
    }
}
