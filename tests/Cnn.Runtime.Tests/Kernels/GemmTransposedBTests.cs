using CnnGen.Kernels;
using Xunit;

namespace CnnGen.Tests.Kernels;

/// <summary>
/// <see cref="Gemm.MultiplyTransposedB"/> (a dense layer's product, <c>C = A * B^T</c>) gives every element exactly the
/// bits of <see cref="Gemm.Dot"/> of its row of A and row of B, on one row of A (a dense layer's one image: blocks of
/// eight rows of B, then single rows) and on several (blocks of two rows of A by four of B, B's rows taken in chunks of
/// about 256 KB), with depths of whole vectors and with a masked last one, storing and accumulating; and so with B read
/// from memory (<c>bFromMemory</c>: one row of A against each row of B in turn; on several rows of A it changes nothing).
/// Without AVX-512, depths of whole chunks of 16 go four rows of B at a time, then single rows.
/// </summary>
public class GemmTransposedBTests
{
    [Theory]
    [InlineData(1, 1000, 1280, false)] // MobileNetV2's classifier: 125 blocks of eight rows
    [InlineData(1, 1000, 512, true)]   // ResNet-18's fc, accumulating
    [InlineData(1, 13, 19, false)]     // one block of eight and five single rows; a masked last vector
    [InlineData(1, 7, 40, true)]       // no block of eight: seven single rows
    [InlineData(1, 24, 3, false)]      // depth below one vector: only the masked one
    [InlineData(3, 21, 33, false)]     // two rows of A by four of B, then one row of A by eight
    [InlineData(2, 9, 16, true)]
    [InlineData(1, 1001, 48, false)]   // without AVX-512: 250 blocks of four rows of B, then a single row
    [InlineData(32, 1000, 1280, false)] // MobileNetV2's classifier on a block of 32 images: B in 20 chunks of 48 rows and a last one of 40
    [InlineData(5, 70, 4001, true)]     // chunks of 16 rows of B (the last one 6), an odd row of A, a masked last vector
    public void EveryElementIsTheDotOfItsRows(int m, int n, int k, bool accumulate)
    {
        foreach (bool bFromMemory in new[] { false, true })
            Check(m, n, k, accumulate, bFromMemory);
    }

    private static void Check(int m, int n, int k, bool accumulate, bool bFromMemory)
    {
        var random = new Random(m * 1000 + n * 7 + k);
        float[] a = Values(random, m * k), b = Values(random, n * k), c = Values(random, m * n);
        var expected = new float[m * n];
        for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++)
        {
            float dot = Gemm.Dot(a.AsSpan(i * k, k), b.AsSpan(j * k, k));
            expected[i * n + j] = accumulate ? c[i * n + j] + dot : dot;
        }

        Gemm.MultiplyTransposedB(a, b, c, m, n, k, accumulate, bFromMemory);

        for (int e = 0; e < m * n; e++)
            Assert.True(BitConverter.SingleToInt32Bits(expected[e]) == BitConverter.SingleToInt32Bits(c[e]),
                $"C[{e / n}, {e % n}] (B from memory: {bFromMemory}): {c[e]:R}, expected {expected[e]:R}");
    }

    private static float[] Values(Random random, int count)
    {
        var values = new float[count];
        for (int i = 0; i < count; i++) values[i] = (float)(random.NextDouble() * 2 - 1);
        return values;
    }
}
