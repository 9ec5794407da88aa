using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace CnnGen.Checkpoints;

/// <summary>float32 values as the little-endian bytes that safetensors and ONNX files store.</summary>
internal static class LittleEndianFloats
{
    /// <summary>Writes <paramref name="values"/> into <paramref name="target"/> (4 bytes each).</summary>
    public static void Write(ReadOnlySpan<float> values, Span<byte> target)
    {
        if (BitConverter.IsLittleEndian)
            MemoryMarshal.AsBytes(values).CopyTo(target);
        else
            for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(target.Slice(4 * i), values[i]);
    }

    /// <summary>Reads <paramref name="target"/>'s length of values from <paramref name="source"/> (4 bytes each).</summary>
    public static void Read(ReadOnlySpan<byte> source, Span<float> target)
    {
        if (BitConverter.IsLittleEndian)
            MemoryMarshal.Cast<byte, float>(source.Slice(0, 4 * target.Length)).CopyTo(target);
        else
            for (int i = 0; i < target.Length; i++) target[i] = BinaryPrimitives.ReadSingleLittleEndian(source.Slice(4 * i));
    }

    public static byte[] ToBytes(ReadOnlySpan<float> values)
    {
        var bytes = new byte[4L * values.Length];
        Write(values, bytes);
        return bytes;
    }
}
