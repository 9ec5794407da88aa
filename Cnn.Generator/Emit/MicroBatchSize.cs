using System.Collections.Generic;
using System.Linq;
using CnnGen.Generator.Emit.Layers;
using CnnGen.Generator.Model;

namespace CnnGen.Generator.Emit;

/// <summary>
/// Images per micro-batch (the images run through all layers together), chosen at compile time from two costs. A
/// micro-batch's buffers that fit the cache stay there from one layer to the next (at most <see cref="CacheBudget"/>
/// bytes of them): that decides inference's micro-batch. A gradient pass keeps every layer's outputs for backward, so its
/// buffers leave the cache anyway, while every micro-batch reads all of the weights again, and Winograd's transforms of
/// them (forward and the input gradient's): when those are large against one image's buffers, micro-batches of one image
/// read mostly weights. So a gradient pass's micro-batch holds at least enough images that the weights it reads are at
/// most half the bytes of its images' buffers, within <see cref="MemoryBudget"/> bytes of buffers. On the CIFAR VGG
/// (10 MB of weights and transforms, 2 MB of buffers per image), training ran 1.1-1.4 times as fast with micro-batches of
/// 12 images as with 1, and as fast as with 16; its inference, by contrast, slowed down with micro-batches of 11 images
/// (batch 256: 1,650-1,780 images/s against 2,300-2,440), as did the CIFAR ResNet's with 4.
/// </summary>
internal static class MicroBatchSize
{
    /// <summary>Bytes of one micro-batch's buffers meant to stay in the second-level cache.</summary>
    public const long CacheBudget = 768 * 1024;

    /// <summary>Most bytes of buffers the weights' rule may ask for (it never makes a micro-batch smaller than the cache's rule).</summary>
    public const long MemoryBudget = 64L << 20;

    /// <summary>The most images in one micro-batch.</summary>
    public const int Most = 64;

    /// <summary>Bytes one image's buffers take: those sized per image that count towards the cache.</summary>
    public static long BytesPerImage(IEnumerable<Scratch> buffers) =>
        4 * buffers.Where(b => (b.PerBatch || b.PerBatchWhenTraining) && !b.LeftOutOfMicroBatch).Sum(b => b.PerImage);

    /// <summary>Bytes of weights a gradient pass's micro-batch reads: the parameters, plus 36 values per channel and filter
    /// of each convolution that runs Winograd forward (its transformed weights) and of each whose input gradient, where
    /// one is needed, does (the flipped weights' transform).</summary>
    public static long WeightBytes(NetworkSpec spec, System.Func<LayerSpec, bool> needsInputGradient)
    {
        long values = spec.ParameterCount;
        foreach (var l in spec.Layers)
        {
            if (l.Op is not ConvOp conv) continue;
            long transform = 36L * l.Input.Channels * conv.Filters;
            if (l.WinogradInference) values += transform;
            if (l.WinogradInputGradient && needsInputGradient(l)) values += transform;
        }
        return 4 * values;
    }

    /// <summary>Inference's images per micro-batch: as many as fit <see cref="CacheBudget"/>, and at least the images from
    /// which every Winograd layer runs Winograd (<paramref name="winogradImages"/>: <c>WinogradChoice.FromImages</c>, 2 for
    /// ResNet-18's 512 -> 512 layers on 7 x 7 maps, whose 37.7 MB of transformed weights one image's 4 tiles do not pay
    /// for); from 1 to <see cref="Most"/>. With micro-batches of one image those layers ran im2col and a product on every
    /// image of a batch: out of cache, 1,253 us per image for Winograd with one image per call, 682 with two, 596 with
    /// four, against about 1,200 for the product.</summary>
    public static int ForInference(long bytesPerImage, int winogradImages = 1) => Clamp(System.Math.Max(ForCache(bytesPerImage), winogradImages));

    /// <summary>The most images any Winograd layer of the network needs per call to run Winograd (1 when none needs more).</summary>
    public static int WinogradImages(NetworkSpec spec) =>
        spec.Layers.Where(l => l.WinogradInference).Select(l => l.WinogradFromImages).DefaultIfEmpty(1).Max();

    /// <summary>A gradient pass's images per micro-batch: as many as fit <see cref="CacheBudget"/>, or, if more, as many as
    /// make the weights read at most half of the buffers' bytes (within <see cref="MemoryBudget"/>); from 1 to <see cref="Most"/>.</summary>
    public static int ForGradients(long bytesPerImage, long weightBytes) => Clamp(System.Math.Max(ForCache(bytesPerImage), ForWeights(bytesPerImage, weightBytes)));

    private static long ForCache(long bytesPerImage) => CacheBudget / System.Math.Max(1, bytesPerImage);

    private static long ForWeights(long bytesPerImage, long weightBytes)
    {
        long perImage = System.Math.Max(1, bytesPerImage);
        return System.Math.Min((2 * weightBytes + perImage - 1) / perImage, MemoryBudget / perImage);
    }

    private static int Clamp(long images) => (int)System.Math.Max(1, System.Math.Min(Most, images));
}
