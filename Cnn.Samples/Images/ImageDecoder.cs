using StbImageSharp;

namespace CnnGen.Samples.Images;

/// <summary>
/// Decodes PNG (every colour type and bit depth, interlaced too), JPEG and BMP with StbImageSharp, and PGM/PPM with
/// <see cref="Netpbm"/>, into values in [0, 1]. The header's dimensions are checked against
/// <see cref="ImageLimits.MaxPixels"/> before decoding; anything malformed is an <see cref="InvalidDataException"/>
/// that names the problem.
/// </summary>
internal static class ImageDecoder
{
    /// <summary>Decodes <paramref name="bytes"/> to <paramref name="channels"/> values per pixel: 3 gives RGB, any
    /// other count the grey level (luminance) in every channel.</summary>
    public static Picture Decode(byte[] bytes, int channels)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        ArgumentOutOfRangeException.ThrowIfLessThan(channels, 1);
        var format = ImageFormats.Sniff(bytes);
        if (format == ImageFormat.Unknown)
            throw new InvalidDataException(bytes.Length == 0 ? "the image is empty (0 bytes)" : $"not a PNG, JPEG, BMP, PGM or PPM image (it starts with {Start(bytes)})");
        if (format == ImageFormat.Netpbm) return Netpbm.Decode(bytes, channels);

        string name = ImageFormats.Name(format);
        // The library's own header reader gives up on sizes it cannot multiply: read those first, to say how large.
        var declared = HeaderFields.DeclaredSize(bytes, format);
        if (declared is { } size) ImageLimits.Check(size.Width, size.Height, name);
        ImageInfo? info;
        try
        {
            using var stream = new MemoryStream(bytes, writable: false);
            info = ImageInfo.FromStream(stream);
        }
        catch (Exception e)
        {
            throw new InvalidDataException($"{name} header cannot be read: {Reason(e)}", e);
        }
        if (info is null) throw new InvalidDataException($"{name} header cannot be read: the file is damaged or truncated");
        ImageLimits.Check(info.Value.Width, info.Value.Height, name);
        if (format == ImageFormat.Bmp) HeaderFields.CheckBmpLength(bytes);

        bool rgb = channels == 3;
        ImageResult result;
        try
        {
            result = ImageResult.FromMemory(bytes, rgb ? ColorComponents.RedGreenBlue : ColorComponents.Grey);
        }
        catch (Exception e)
        {
            // The library reports damaged data with several exception types: all of them mean a bad file.
            throw new InvalidDataException($"{name} image cannot be decoded: {Reason(e)}", e);
        }
        return ToPlanes(result, rgb ? 3 : 1, channels);
    }

    /// <summary>Interleaved bytes to C,H,W planes of values in [0, 1].</summary>
    private static Picture ToPlanes(ImageResult result, int decoded, int channels)
    {
        int pixels = result.Width * result.Height;
        if (result.Data is null || result.Data.Length < (long)pixels * decoded)
            throw new InvalidDataException($"image decoded to {result.Data?.Length ?? 0} bytes, fewer than {result.Width}x{result.Height} pixels need");
        var planes = new float[channels * pixels];
        var data = result.Data;
        for (int p = 0; p < pixels; p++)
            for (int c = 0; c < channels; c++)
                planes[c * pixels + p] = data[p * decoded + (decoded == 3 ? c : 0)] / 255f;
        return new Picture(result.Width, result.Height, channels, planes);
    }

    /// <summary>The library's reason, without the padding of its fixed-size message buffer; a plain one when it gives none.</summary>
    private static string Reason(Exception e)
    {
        string reason = new string(e.Message.Where(c => !char.IsControl(c)).ToArray()).Trim();
        return reason.Length == 0 ? "the data is damaged or truncated" : $"{reason} (the data is damaged or truncated)";
    }

    /// <summary>The first bytes in hexadecimal, to show what a file is instead.</summary>
    public static string Start(byte[] bytes)
    {
        var head = bytes.AsSpan(0, Math.Min(8, bytes.Length));
        return string.Join(" ", head.ToArray().Select(b => b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture)));
    }
}
