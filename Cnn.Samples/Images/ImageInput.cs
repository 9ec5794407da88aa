using CnnGen.Data;

namespace CnnGen.Samples.Images;

/// <summary>Reads one image for prediction and turns it into the network's input: grey levels (or RGB) in [0, 1], at
/// the network's height and width, before the training set's mean is subtracted.</summary>
internal static class ImageInput
{
    /// <summary>A picture file (PNG, JPEG, BMP, PGM, PPM) or an image of an IDX file (<paramref name="index"/>).</summary>
    public static float[] Read(string path, int index, int channels, int height, int width, bool invert)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"no such file: {path}");
        long length = new FileInfo(path).Length;
        Picture picture;
        var head = new byte[8];
        int read;
        using (var f = File.OpenRead(path)) read = f.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        if (ImageFormats.Sniff(head.AsSpan(0, read)) != ImageFormat.Unknown)
        {
            if (length > ImageLimits.MaxFileBytes)
                throw new InvalidDataException($"the picture has {length:N0} bytes; at most {ImageLimits.MaxFileBytes:N0} are read");
            picture = ImageDecoder.Decode(File.ReadAllBytes(path), channels);
        }
        else if (read >= 2 && (head[0], head[1]) is not ((0, 0) or (0x1f, 0x8b)))  // IDX files start with two zero bytes, or gzip's
        {
            throw new InvalidDataException($"not a PNG, JPEG, BMP, PGM or PPM picture, nor an IDX file of images (it starts with {ImageDecoder.Start(head[..read])})");
        }
        else
        {
            var idx = IdxReader.ReadFloats(path, scaleBytesToUnit: true);
            if (idx.Dimensions.Length != 3) throw new InvalidDataException($"not a PNG, JPEG, BMP, PGM or PPM picture, nor an IDX file of images (3 dimensions; this one has {idx.Dimensions.Length})");
            int count = idx.Dimensions[0], h = idx.Dimensions[1], w = idx.Dimensions[2];
            if (index < 0 || index >= count) throw new ArgumentException($"--index {index} is outside [0, {count})");
            var grey = idx.Values.AsSpan(index * h * w, h * w);
            var planes = new float[channels * h * w];
            for (int c = 0; c < channels; c++) grey.CopyTo(planes.AsSpan(c * h * w));
            picture = new Picture(w, h, channels, planes);
        }
        return ToInput(picture, height, width, invert);
    }

    /// <summary>Resizes to the network's input (area averaging) and optionally inverts the levels (Fashion-MNIST
    /// shows light objects on black).</summary>
    public static float[] ToInput(Picture picture, int height, int width, bool invert)
    {
        var input = picture.Resize(width, height).Pixels;
        if (ReferenceEquals(input, picture.Pixels)) input = (float[])input.Clone();
        if (invert)
            for (int i = 0; i < input.Length; i++) input[i] = 1f - input[i];
        return input;
    }
}
