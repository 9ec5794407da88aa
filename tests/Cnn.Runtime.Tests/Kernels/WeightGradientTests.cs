using CnnGen.Kernels;
using Xunit;

namespace CnnGen.Tests.Kernels;

/// <summary>
/// <see cref="Gemm.AccumulateTransposedB"/> (a convolution's weight gradient over images) gives exactly the bits of
/// its documented order, computed here one scalar at a time: 16 lane sums per output, lane l taking the products at
/// positions l, l + 16, ... of image 0, then image 1, ..., the last chunk of each image padded by zeros, folded once
/// and added to what C held. Shapes cover partial blocks of rows and columns, partial chunks, more than 64 rows and
/// enough images to split them into groups; for the blocks of 3 rows of A against 8 rows of B, rows of B in whole
/// blocks of 8 and with 1 to 7 left over, rows of A not a multiple of 3 and past one chunk of 48, rows longer than one
/// segment of 1024 positions (split at a whole chunk of 16, the last partial) and short rows that put several images in
/// one segment.
/// </summary>
public class WeightGradientTests
{
    [Theory]
    [InlineData(1, 1, 1, 1)]
    [InlineData(3, 5, 17, 2)]
    [InlineData(16, 27, 1024, 3)]       // the first convolution of a CIFAR network
    [InlineData(16, 144, 1024, 9)]      // more images than fit in one group
    [InlineData(70, 6, 40, 2)]          // rows past one chunk of 64
    [InlineData(128, 1152, 64, 1)]
    [InlineData(6, 1, 33, 4)]           // one column: a bias gradient
    [InlineData(5, 9, 300, 40)]
    [InlineData(32, 288, 1024, 1)]      // the CIFAR VGG's second convolution: blocks of 8 only
    [InlineData(16, 144, 2100, 2)]      // rows of three segments, the last one partial
    [InlineData(4, 15, 1040, 3)]        // 8 rows of B and 7 left over; a segment boundary then 16 positions
    [InlineData(50, 16, 1030, 2)]       // rows past one chunk of 48; a last segment of only a partial chunk
    [InlineData(49, 24, 50, 23)]        // many images per segment, a partial last chunk in each image
    [InlineData(2, 11, 7, 5)]           // fewer rows of A than one block; rows shorter than a chunk
    [InlineData(64, 576, 64, 7)]        // the CIFAR ResNet's 64 -> 64 convolutions
    public void MatchesTheLaneOrderBitForBit(int m, int n, int k, int count)
    {
        var random = new Random(m * 1000 + n * 10 + k + count);
        int aStride = m * k + 3, bStride = n * k + 5;
        float[] a = Random(random, (count - 1) * aStride + m * k), b = Random(random, (count - 1) * bStride + n * k);
        float[] start = Random(random, m * n);
        var actual = (float[])start.Clone();
        Gemm.AccumulateTransposedB(a, aStride, b, bStride, actual, m, n, k, count);
        for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++)
        {
            float expected = start[i * n + j] + LaneOrderSum(a, aStride, b, bStride, i, j, k, count);
            Assert.True(BitConverter.SingleToInt32Bits(expected) == BitConverter.SingleToInt32Bits(actual[i * n + j]),
                $"[{m}x{k}]x[{n}x{k}]^T over {count}: C[{i}, {j}] is {actual[i * n + j]:R}, the lane order gives {expected:R}");
        }
    }

    [Fact]
    public void BiasGradientFromARowOfOnesIsTheRowSum()
    {
        // The generated code's bias gradient: B is one row of ones, shared by every image (stride 0).
        int m = 3, k = 20, count = 2;
        var a = new float[count * m * k];
        for (int i = 0; i < a.Length; i++) a[i] = i % 7 - 3;
        var c = new float[m];
        Gemm.AccumulateTransposedB(a, m * k, Ones.Get(k), 0, c, m, 1, k, count);
        for (int i = 0; i < m; i++)
        {
            float sum = 0;
            for (int s = 0; s < count; s++)
                for (int p = 0; p < k; p++) sum += a[s * m * k + i * k + p];
            Assert.Equal(sum, c[i]);
        }
    }

    private static float LaneOrderSum(float[] a, int aStride, float[] b, int bStride, int i, int j, int k, int count)
    {
        var lanes = new float[16];
        for (int s = 0; s < count; s++)
            for (int chunk = 0; chunk < k; chunk += 16)
                for (int l = 0; l < 16; l++)
                {
                    int p = chunk + l;
                    float x = p < k ? a[s * aStride + i * k + p] : 0f, y = p < k ? b[s * bStride + j * k + p] : 0f;
                    lanes[l] = MathF.FusedMultiplyAdd(x, y, lanes[l]);
                }
        var v8 = new float[8];
        for (int l = 0; l < 8; l++) v8[l] = lanes[l] + lanes[l + 8];
        float s0 = v8[0] + v8[4], s1 = v8[1] + v8[5], s2 = v8[2] + v8[6], s3 = v8[3] + v8[7];
        return (s0 + s2) + (s1 + s3);
    }

    private static float[] Random(Random random, int length)
    {
        var values = new float[length];
        for (int i = 0; i < length; i++) values[i] = (float)(random.NextDouble() * 2 - 1);
        return values;
    }
}
