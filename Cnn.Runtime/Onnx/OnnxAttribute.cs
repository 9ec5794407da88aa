namespace CnnGen.Onnx;

/// <summary>One attribute of an ONNX node: an integer, a float, a list of integers or a string.</summary>
public sealed record OnnxAttribute
{
    private OnnxAttribute(string name) => Name = name;

    public string Name { get; }
    public long? Int { get; private init; }
    public float? Float { get; private init; }
    public IReadOnlyList<long>? Ints { get; private init; }
    public string? Text { get; private init; }

    public static OnnxAttribute Of(string name, long value) => new(name) { Int = value };
    public static OnnxAttribute Of(string name, float value) => new(name) { Float = value };
    public static OnnxAttribute Of(string name, params long[] values) => new(name) { Ints = values };
    public static OnnxAttribute Of(string name, string value) => new(name) { Text = value };
}
