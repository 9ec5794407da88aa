using System.Text;
using CnnGen.Checkpoints;

namespace CnnGen.Onnx;

/// <summary>
/// Imports someone else's ONNX model as a CnnGen network: <see cref="Read(string)"/> understands the whole graph (or
/// throws an <see cref="OnnxImportException"/> naming the node it cannot declare), <see cref="Save"/> writes the C#
/// declaration (<c>Name.cs</c>) and the weights (<c>Name.safetensors</c>, under the generated class's tensor names, ready
/// for <c>Checkpoint.Load</c>).
/// </summary>
public static class OnnxImport
{
    /// <summary>Reads and converts the model at <paramref name="path"/>.</summary>
    public static ImportedNetwork Read(string path) =>
        OnnxGraphImporter.Import(OnnxModelReader.Read(path), Path.GetFileName(path));

    /// <summary>Converts a model held in memory; <paramref name="source"/> names it in the declaration's comment.</summary>
    public static ImportedNetwork FromBytes(ReadOnlyMemory<byte> bytes, string source = "model.onnx") =>
        OnnxGraphImporter.Import(OnnxModelReader.Read(bytes), source);

    /// <summary>The weights as safetensors bytes, the tensors in declaration order.</summary>
    public static byte[] WeightBytes(ImportedNetwork network, string className)
    {
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [CheckpointKeys.Network] = className,
            ["imported_from"] = network.Source,
        };
        using var stream = new MemoryStream();
        SafeTensorsWriter.Write(stream, network.Tensors, metadata);
        return stream.ToArray();
    }

    /// <summary>
    /// Writes <c>className.cs</c> and <c>className.safetensors</c> into <paramref name="directory"/> (created if need be),
    /// each atomically, after both are complete in memory and both places were found writable. Returns their paths.
    /// </summary>
    public static (string Declaration, string Weights) Save(ImportedNetwork network, string className, string @namespace, string directory)
    {
        string declaration = DeclarationWriter.Write(network, className, @namespace);
        byte[] weights = WeightBytes(network, className);
        string csPath = Path.Combine(directory, className + ".cs");
        string weightsPath = Path.Combine(directory, className + ".safetensors");
        AtomicFile.CheckWritable(csPath);
        AtomicFile.CheckWritable(weightsPath);
        AtomicFile.Write(weightsPath, stream => stream.Write(weights));
        AtomicFile.Write(csPath, stream => stream.Write(Encoding.UTF8.GetBytes(declaration)));
        return (csPath, weightsPath);
    }
}
