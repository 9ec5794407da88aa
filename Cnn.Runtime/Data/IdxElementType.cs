namespace CnnGen.Data;

/// <summary>The element type code, third byte of an IDX file's magic number.</summary>
public enum IdxElementType : byte
{
    UInt8 = 0x08,
    Int8 = 0x09,
    Int16 = 0x0B,
    Int32 = 0x0C,
    Float32 = 0x0D,
    Float64 = 0x0E,
}

internal static class IdxElementTypes
{
    public static bool IsKnown(byte code) => code is 0x08 or 0x09 or 0x0B or 0x0C or 0x0D or 0x0E;

    public static int Size(IdxElementType type) => type switch
    {
        IdxElementType.UInt8 or IdxElementType.Int8 => 1,
        IdxElementType.Int16 => 2,
        IdxElementType.Int32 or IdxElementType.Float32 => 4,
        IdxElementType.Float64 => 8,
        _ => throw new ArgumentOutOfRangeException(nameof(type)),
    };

    public static bool IsInteger(IdxElementType type) => type is not (IdxElementType.Float32 or IdxElementType.Float64);
}
