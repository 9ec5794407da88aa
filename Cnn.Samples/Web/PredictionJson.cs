using System.Text.Json;
using CnnGen.Samples.Json;

namespace CnnGen.Samples.Web;

/// <summary>The answer of <c>POST /predict</c>: {network, input, predicted, top: [{class, name, probability}],
/// probabilities, inferenceMicroseconds}; <c>name</c> only where the model has names for its classes.</summary>
internal static class PredictionJson
{
    public static byte[] Write(INetwork network, string source, IReadOnlyList<string> classNames, float[] probabilities, int top, double microseconds)
    {
        var ranked = Enumerable.Range(0, probabilities.Length).OrderByDescending(c => probabilities[c]).ThenBy(c => c).Take(top).ToArray();
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("network", network.Name);
            json.WriteString("input", source);
            json.WriteNumber("predicted", ranked[0]);
            if (ranked[0] < classNames.Count) json.WriteString("name", classNames[ranked[0]]);
            json.WriteStartArray("top");
            foreach (int c in ranked)
            {
                json.WriteStartObject();
                json.WriteNumber("class", c);
                if (c < classNames.Count) json.WriteString("name", classNames[c]);
                FiniteJson.WriteValue(json, "probability", probabilities[c]);
                json.WriteEndObject();
            }
            json.WriteEndArray();
            FiniteJson.WriteValues(json, "probabilities", probabilities);
            json.WriteNumber("inferenceMicroseconds", Math.Round(microseconds, 1));
            json.WriteEndObject();
        }
        return buffer.ToArray();
    }
}
