namespace CnnGen.Data;

/// <summary>The contents of one IDX file: its element type, its dimensions and its values in row-major order.</summary>
public sealed record IdxArray<T>(string Path, IdxElementType ElementType, int[] Dimensions, T[] Values)
{
    /// <summary>Items along the first dimension (images or labels).</summary>
    public int Count => Dimensions[0];

    /// <summary>Values per item: the product of all dimensions after the first (1 for a vector).</summary>
    public int ItemLength
    {
        get
        {
            int product = 1;
            for (int i = 1; i < Dimensions.Length; i++) product *= Dimensions[i];
            return product;
        }
    }
}
