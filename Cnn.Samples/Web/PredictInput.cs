using System.Buffers.Binary;
using CnnGen.Samples.Images;

namespace CnnGen.Samples.Web;

/// <summary>
/// The body of <c>POST /predict</c> as the network's input: a PNG, JPEG, BMP, PGM or PPM picture (known by its
/// Content-Type or, when that is absent or generic, by its first bytes), resized and converted to the network's input
/// as <c>predict</c> does; or raw little-endian float32 grey levels (<c>application/octet-stream</c>, exactly the
/// network's input length). The training set's mean is not yet subtracted.
/// </summary>
internal static class PredictInput
{
    /// <summary>A decoded input and what it was (e.g. <c>PNG 56x56</c>), or the status and message of a refusal.</summary>
    public sealed record Result(float[]? Input, string Source, int Status, string? Problem)
    {
        public static Result Refuse(int status, string problem) => new(null, "", status, problem);
    }

    public const string AcceptedTypes = "image/png, image/jpeg, image/bmp, image/x-portable-graymap, image/x-portable-pixmap, or application/octet-stream";

    public static Result Read(byte[] body, string? mediaType, INetwork network, bool invert)
    {
        int length = network.InputLength;
        string floats = $"{length} little-endian float32 grey levels ({4 * length} bytes)";
        if (body.Length == 0)
            return Result.Refuse(400, $"The request body is empty: send a PNG, JPEG, BMP, PGM or PPM picture, or {floats} as application/octet-stream.");

        string type = mediaType?.ToLowerInvariant() ?? "";
        var sniffed = ImageFormats.Sniff(body);
        var declared = ImageFormats.FromMediaType(type);
        bool generic = type is "" or "application/octet-stream" or "application/x-www-form-urlencoded";
        if (declared == ImageFormat.Unknown && !generic)
            return Result.Refuse(415, $"Content-Type {mediaType} is not read here: send {AcceptedTypes}.");
        if (declared == ImageFormat.Unknown && sniffed == ImageFormat.Unknown)
        {
            if (type == "application/octet-stream") return Floats(body, network, invert);
            return Result.Refuse(415, $"The body is not a PNG, JPEG, BMP, PGM or PPM picture and its Content-Type ({(type == "" ? "none" : mediaType)}) names none: send {AcceptedTypes}.");
        }
        return Picture(body, network, invert, declared == ImageFormat.Unknown ? sniffed : declared);
    }

    private static Result Picture(byte[] body, INetwork network, bool invert, ImageFormat format)
    {
        Picture picture;
        try
        {
            picture = ImageDecoder.Decode(body, network.InputChannels);
        }
        catch (InvalidDataException e)
        {
            return Result.Refuse(400, $"The body is not a readable {ImageFormats.Name(format)} picture: {e.Message}.");
        }
        float[] input = ImageInput.ToInput(picture, network.InputHeight, network.InputWidth, invert);
        return new Result(input, $"{ImageFormats.Name(ImageFormats.Sniff(body))} {picture.Width}x{picture.Height}", 200, null);
    }

    private static Result Floats(byte[] body, INetwork network, bool invert)
    {
        int length = network.InputLength;
        if (body.Length != 4 * length)
            return Result.Refuse(400, $"An application/octet-stream body holds {length} little-endian float32 grey levels ({4 * length} bytes, " +
                                      $"{network.InputChannels}x{network.InputHeight}x{network.InputWidth}); this one has {body.Length} bytes.");
        var input = new float[length];
        for (int i = 0; i < length; i++)
        {
            float value = BinaryPrimitives.ReadSingleLittleEndian(body.AsSpan(4 * i));
            if (!float.IsFinite(value)) return Result.Refuse(400, $"Value {i} ({Text(value)}) is not a finite number.");
            if (value is < 0 or > 1) return Result.Refuse(400, $"Value {i} ({Text(value)}) is outside 0..1: grey levels run from 0 (black) to 1 (white).");
            input[i] = invert ? 1f - value : value;
        }
        return new Result(input, $"float32 x{length}", 200, null);
    }

    private static string Text(float value) => value.ToString("R", System.Globalization.CultureInfo.InvariantCulture);
}
