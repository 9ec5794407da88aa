using System.Numerics.Tensors;

namespace CnnGen.Data;

/// <summary>
/// Labelled images in memory: <see cref="Images"/> holds <see cref="Count"/> images of
/// <see cref="Channels"/> x <see cref="Height"/> x <see cref="Width"/> floats each (row-major, pixels in [0, 1]
/// as loaded), <see cref="Labels"/> one class in [0, <see cref="ClassCount"/>) per image.
/// </summary>
public sealed class Dataset
{
    public Dataset(float[] images, int[] labels, int channels, int height, int width, int classCount)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentOutOfRangeException.ThrowIfLessThan(channels, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(classCount, 1);
        int imageLength = checked(channels * height * width);
        if ((long)labels.Length * imageLength != images.Length)
            throw new ArgumentException($"{images.Length} image values do not make {labels.Length} images of {channels}x{height}x{width}", nameof(images));
        int bad = FirstLabelOutOfRange(labels, classCount);
        if (bad >= 0)
            throw new ArgumentException($"label {bad} is {labels[bad]}, outside [0, {classCount})", nameof(labels));
        Images = images;
        Labels = labels;
        Channels = channels;
        Height = height;
        Width = width;
        ClassCount = classCount;
    }

    public float[] Images { get; }
    public int[] Labels { get; }
    public int Count => Labels.Length;
    public int Channels { get; }
    public int Height { get; }
    public int Width { get; }
    public int ClassCount { get; }

    /// <summary>Values per image: channels x height x width.</summary>
    public int ImageLength => Channels * Height * Width;

    /// <summary>The <paramref name="index"/>-th image's values.</summary>
    public Span<float> Image(int index) => Images.AsSpan(checked(index * ImageLength), ImageLength);

    /// <summary>
    /// Loads an IDX image file (N x H x W, or N x C x H x W) and an IDX label file (N). Unsigned-byte pixels are
    /// scaled to [0, 1]. Checks that the counts agree and every label is in [0, <paramref name="classCount"/>);
    /// either the whole dataset loads or a <see cref="DatasetException"/> naming the file and problem is thrown.
    /// </summary>
    public static Dataset LoadIdx(string imagesPath, string labelsPath, int classCount)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(classCount, 1);
        var images = IdxReader.ReadFloats(imagesPath, scaleBytesToUnit: true);
        int[] dims = images.Dimensions;
        if (dims.Length is not (3 or 4))
            throw new DatasetException(imagesPath, $"has {dims.Length} dimensions [{string.Join(", ", dims)}]; images need 3 (N, H, W) or 4 (N, C, H, W)");
        int channels = dims.Length == 4 ? dims[1] : 1;
        int height = dims[^2], width = dims[^1];
        if (channels == 0 || height == 0 || width == 0)
            throw new DatasetException(imagesPath, $"has empty images [{string.Join(", ", dims)}]");

        var labels = IdxReader.ReadInts(labelsPath);
        if (labels.Dimensions.Length != 1)
            throw new DatasetException(labelsPath, $"has {labels.Dimensions.Length} dimensions [{string.Join(", ", labels.Dimensions)}]; labels need 1");
        if (labels.Count != images.Count)
            throw new DatasetException(labelsPath, $"holds {labels.Count} labels but {Path.GetFileName(imagesPath)} holds {images.Count} images");
        int bad = FirstLabelOutOfRange(labels.Values, classCount);
        if (bad >= 0)
            throw new DatasetException(labelsPath, $"label {bad} is {labels.Values[bad]}, outside [0, {classCount})");
        return new Dataset(images.Values, labels.Values, channels, height, width, classCount);
    }

    /// <summary>The first <paramref name="count"/> images (a copy).</summary>
    public Dataset Subset(int count) => Subset(0, count);

    /// <summary><paramref name="count"/> images from <paramref name="start"/> (a copy).</summary>
    public Dataset Subset(int start, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(start);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (start + (long)count > Count)
            throw new ArgumentOutOfRangeException(nameof(count), $"images {start}..{start + count} run past the {Count} in the dataset");
        return new Dataset(
            Images.AsSpan(start * ImageLength, count * ImageLength).ToArray(),
            Labels.AsSpan(start, count).ToArray(),
            Channels, Height, Width, ClassCount);
    }

    /// <summary>
    /// The images of the given classes, in their original order, relabelled 0..k-1 in the order
    /// <paramref name="classes"/> lists them (a copy): for fine-tuning on some classes.
    /// </summary>
    public Dataset Where(params int[] classes)
    {
        ArgumentNullException.ThrowIfNull(classes);
        if (classes.Length == 0) throw new ArgumentException("no classes given", nameof(classes));
        var newLabel = new int[ClassCount];
        Array.Fill(newLabel, -1);
        for (int i = 0; i < classes.Length; i++)
        {
            int c = classes[i];
            if ((uint)c >= (uint)ClassCount)
                throw new ArgumentOutOfRangeException(nameof(classes), $"class {c} is outside [0, {ClassCount})");
            if (newLabel[c] >= 0)
                throw new ArgumentException($"class {c} is listed twice", nameof(classes));
            newLabel[c] = i;
        }

        int kept = 0;
        foreach (int label in Labels) if (newLabel[label] >= 0) kept++;
        var images = new float[(long)kept * ImageLength];
        var labels = new int[kept];
        int k = 0;
        for (int i = 0; i < Count; i++)
        {
            int mapped = newLabel[Labels[i]];
            if (mapped < 0) continue;
            Image(i).CopyTo(images.AsSpan(k * ImageLength, ImageLength));
            labels[k++] = mapped;
        }
        return new Dataset(images, labels, Channels, Height, Width, classes.Length);
    }

    /// <summary>The mean of all pixel values (one scalar over all channels), summed in double precision.</summary>
    public float ComputeMean()
    {
        if (Images.Length == 0) return 0f;
        double sum = 0;
        for (int i = 0; i < Count; i++) sum += TensorPrimitives.Sum<float>(Image(i));
        return (float)(sum / Images.Length);
    }

    /// <summary>Subtracts <paramref name="mean"/> from every pixel, in place (use the training set's mean for both sets).</summary>
    public void SubtractMean(float mean) => TensorPrimitives.Subtract(Images, mean, Images);

    private static int FirstLabelOutOfRange(int[] labels, int classCount)
    {
        for (int i = 0; i < labels.Length; i++)
            if ((uint)labels[i] >= (uint)classCount) return i;
        return -1;
    }
}
