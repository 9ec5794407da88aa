using System.Collections.Generic;
using CnnGen.Generator.Model;

namespace CnnGen.Generator.Analysis;

/// <summary>
/// The tail of a network whose evaluation passes run it once for a block of images instead of once per micro-batch: the
/// dense layers at its end (with the dropouts and activations between them), when their weights are large. A
/// micro-batch of one image (the 224x224 networks') reads all of a dense layer's weights for one image's few hundred
/// values: MobileNetV2's classifier streams its 5 MB from memory for every image (about 285 us of a 7 ms pass on one
/// thread). Each worker of a batch's evaluation pass instead runs the layers before the tail (the head) a micro-batch at
/// a time, keeps the head's last output of up to <see cref="Images"/> images, and then runs the tail on all of them: the classifier
/// alone (<c>Gemm.MultiplyTransposedB</c>, 1000 x 1280, weights evicted first, one thread, medians of 15) took 140 us
/// for one image, 78 us each for 32 images one at a time, and 37 us each for 32 images in one call. Every image's
/// values are the same: a dense layer's product computes each value from its own row and weights alike for any number
/// of images, and the rest of the tail works value by value.
/// </summary>
internal static class BatchedTail
{
    /// <summary>Images whose head outputs the tail runs together, at most.</summary>
    public const int Images = 64;

    /// <summary>Bytes of dense weights from which the tail is worth its own block: a core's second-level cache holds less
    /// than that alongside the pass's own data, so each image would read them from further out.</summary>
    public const long WeightBytes = 1L << 20;

    /// <summary>
    /// Where the batched tail starts among <paramref name="body"/> (the layers the passes run), or -1 when the network has
    /// none: the longest run of dense, dropout and activation layers at the end, each reading the layer before it (none
    /// computed inside another), that holds dense weights of at least <see cref="WeightBytes"/> and leaves a head, and
    /// only when the inference micro-batch (<paramref name="microBatch"/>) is smaller than <see cref="Images"/> and the
    /// logits are the last layer's output (<paramref name="outputLayer"/>: a final softmax may read an earlier layer, whose
    /// buffer then holds one micro-batch).
    /// </summary>
    public static int Start(IReadOnlyList<LayerSpec> body, int microBatch, int outputLayer)
    {
        if (microBatch >= Images || body.Count == 0 || outputLayer != body[body.Count - 1].Index) return -1;
        int start = body.Count;
        long weights = 0;
        while (start > 1 && InTail(body[start - 1]) && body[start - 1].InputIndex == body[start - 2].Index)
        {
            start--;
            if (body[start].Op is DenseOp dense) weights += 4L * body[start].Input.Length * dense.Units;
        }
        return start < body.Count && weights >= WeightBytes ? start : -1;
    }

    private static bool InTail(LayerSpec l) => l.InferredBy < 0 && l.Kind switch
    {
        LayerKind.Dense or LayerKind.Dropout or LayerKind.ReLU or LayerKind.ReLU6 or LayerKind.LeakyReLU or LayerKind.ELU
            or LayerKind.Sigmoid or LayerKind.Tanh => true,
        _ => false,
    };
}
