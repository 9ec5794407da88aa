using System.Text.Json;
using CnnGen.Samples.Json;

namespace CnnGen.Samples.Web;

/// <summary>The body of <c>POST /activations</c> (a JSON array of grey levels) and its answer (every layer's output).</summary>
internal static class ActivationsJson
{
    /// <summary>The grey levels of a request body, or what is wrong with it.</summary>
    public static (float[]? Input, string? Problem) Parse(ReadOnlySpan<byte> body, INetwork network)
    {
        int expected = network.InputLength;
        string shape = $"{network.InputChannels}x{network.InputHeight}x{network.InputWidth}";
        string wanted = $"a JSON array of {expected} grey levels from 0 (black) to 1 (white), one {shape} image row by row";
        if (body.IsEmpty) return (null, $"The request body is empty: send {wanted}.");
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body.ToArray());
        }
        catch (JsonException e)
        {
            return (null, $"The request body is not valid JSON ({e.Message}): send {wanted}.");
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Array)
                return (null, $"The request body is {Describe(root.ValueKind)}, not an array: send {wanted}.");
            int count = root.GetArrayLength();
            if (count != expected)
                return (null, $"Expected {expected} values ({shape}), got {count}.");
            var input = new float[expected];
            int i = 0;
            foreach (var element in root.EnumerateArray())
            {
                if (element.ValueKind != JsonValueKind.Number)
                    return (null, $"Value {i} is {Describe(element.ValueKind)}, not a number.");
                if (!element.TryGetDouble(out double value) || !double.IsFinite(value))
                    return (null, $"Value {i} ({element.GetRawText()}) is not a finite number.");
                if (value is < 0 or > 1)
                    return (null, $"Value {i} ({element.GetRawText()}) is outside 0..1: grey levels run from 0 (black) to 1 (white).");
                input[i++] = (float)value;
            }
            return (input, null);
        }
    }

    private static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "a JSON object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        _ => "null",
    };

    /// <summary>{network, input, mean, classes, predicted, probabilities, layers: [{name, kind, channels, height, width,
    /// min, max, values}]}; a value that is not finite is written as null.</summary>
    public static byte[] Write(INetwork network, float mean, IReadOnlyList<string> classNames, float[][] activations)
    {
        var layers = network.Layers;
        float[] probabilities = Probabilities.Of(network, activations[^1]);
        int predicted = Kernels.SoftmaxCrossEntropy.ArgMax(probabilities);

        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("network", network.Name);
            json.WriteStartObject("input");
            json.WriteNumber("channels", network.InputChannels);
            json.WriteNumber("height", network.InputHeight);
            json.WriteNumber("width", network.InputWidth);
            json.WriteEndObject();
            json.WriteNumber("mean", mean);
            json.WriteStartArray("classes");
            foreach (var name in classNames) json.WriteStringValue(name);
            json.WriteEndArray();
            json.WriteNumber("predicted", predicted);
            FiniteJson.WriteValues(json, "probabilities", probabilities);
            json.WriteStartArray("layers");
            for (int l = 0; l < layers.Count; l++)
            {
                var layer = layers[l];
                var values = activations[l];
                float min = float.PositiveInfinity, max = float.NegativeInfinity;
                foreach (float v in values)
                {
                    if (!float.IsFinite(v)) continue;
                    min = Math.Min(min, v);
                    max = Math.Max(max, v);
                }
                json.WriteStartObject();
                json.WriteString("name", layer.Name);
                json.WriteString("kind", layer.Kind);
                json.WriteNumber("channels", layer.OutputChannels);
                json.WriteNumber("height", layer.OutputHeight);
                json.WriteNumber("width", layer.OutputWidth);
                FiniteJson.WriteValue(json, "min", min);
                FiniteJson.WriteValue(json, "max", max);
                FiniteJson.WriteValues(json, "values", values);
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        return buffer.ToArray();
    }
}
