using System.Text.Json;

namespace CnnGen.Samples.Json;

/// <summary>Floats written to JSON, which has no number for infinity or NaN: such a value is written as null.</summary>
internal static class FiniteJson
{
    /// <summary>The property <paramref name="name"/>: the value, or null when it is not finite.</summary>
    public static void WriteValue(Utf8JsonWriter json, string name, float value)
    {
        if (float.IsFinite(value)) json.WriteNumber(name, value);
        else json.WriteNull(name);
    }

    /// <summary>The array <paramref name="name"/>: each value, or null for one that is not finite.</summary>
    public static void WriteValues(Utf8JsonWriter json, string name, ReadOnlySpan<float> values)
    {
        json.WriteStartArray(name);
        foreach (float v in values)
        {
            if (float.IsFinite(v)) json.WriteNumberValue(v);
            else json.WriteNullValue();
        }
        json.WriteEndArray();
    }
}
