namespace CnnGen.Onnx;

/// <summary>An ONNX file that cannot be imported: broken or hostile bytes, or a graph CnnGen cannot declare. The message
/// names the problem (the field, tensor or node, with its op type and index).</summary>
public sealed class OnnxImportException : Exception
{
    public OnnxImportException(string message) : base(message) { }

    public OnnxImportException(string message, Exception inner) : base(message, inner) { }
}
