using CnnGen.Kernels;
using Xunit;

namespace CnnGen.Tests.Kernels;

/// <summary>
/// What the in-place 3x3 depthwise kernels (padding 1; <see cref="Depthwise3x3"/> at stride 1,
/// <see cref="Depthwise3x3Stride2"/> at stride 2) are checked against: a plain scalar reference of their chain (a fused
/// multiply-add chain in (ky, kx) order from zero, padding as <c>w * 0</c>, then the bias and the activation) and the
/// general kernel, <see cref="DepthwiseConv.Forward"/>, both bit for bit; channels outside the range left untouched.
/// </summary>
internal static class Depthwise3x3Chain
{
    /// <summary>What an output holds before a kernel runs, so a value a kernel did not write shows.</summary>
    public const float Untouched = -12345f;

    public static float[] Values(Random random, int length, float scale)
    {
        var values = new float[length];
        for (int i = 0; i < length; i++) values[i] = (float)(random.NextDouble() * 2 - 1) * scale;
        return values;
    }

    /// <summary>Output rows or columns of a 3x3 padding-1 convolution of this stride over <paramref name="size"/>.</summary>
    public static int OutSize(int size, int stride) => (size - 1) / stride + 1;

    /// <summary>The plain reference: one output's chain read straight from the input.</summary>
    public static float Reference(int stride, int height, int width, float[] input, float[] weight, float[] bias, int ch, int oy, int ox,
        FusedActivation activation)
    {
        float acc = 0f;
        for (int ky = 0; ky < 3; ky++)
        for (int kx = 0; kx < 3; kx++)
        {
            int y = stride * oy + ky - 1, x = stride * ox + kx - 1;
            float value = y >= 0 && y < height && x >= 0 && x < width ? input[(ch * height + y) * width + x] : 0f;
            acc = MathF.FusedMultiplyAdd(weight[ch * 9 + ky * 3 + kx], value, acc);
        }
        float v = acc + bias[ch];
        return activation switch
        {
            FusedActivation.Relu => v < 0f ? 0f : v,
            FusedActivation.Relu6 => v < 0f ? 0f : v > 6f ? 6f : v,
            _ => v,
        };
    }

    /// <summary>Runs <paramref name="kernel"/> (input, weight, bias, output) on random values of this shape and asserts
    /// its outputs in channels [first, end) have the reference's and the general kernel's bits, and the others are
    /// untouched.</summary>
    public static void AssertSameBits(string shape, int stride, int channels, int height, int width, int first, int end, FusedActivation activation,
        Random random, Action<float[], float[], float[], float[]> kernel)
    {
        int outHeight = OutSize(height, stride), outWidth = OutSize(width, stride), outPlane = outHeight * outWidth;
        float[] input = Values(random, channels * height * width, 4f), weight = Values(random, channels * 9, 1f), bias = Values(random, channels, 1f);
        var output = new float[channels * outPlane];
        Array.Fill(output, Untouched);
        kernel(input, weight, bias, output);
        var general = new float[channels * outPlane];
        Array.Fill(general, Untouched);
        DepthwiseConv.Forward(input, weight, bias, general, new float[DepthwiseConv.ScratchLength(height, width, 3, stride, 1, outWidth)],
            channels, height, width, 3, stride, 1, outHeight, outWidth, first, end, activation);
        for (int ch = 0; ch < channels; ch++)
        for (int oy = 0; oy < outHeight; oy++)
        for (int ox = 0; ox < outWidth; ox++)
        {
            int i = ch * outPlane + oy * outWidth + ox;
            if (ch < first || ch >= end)
            {
                Assert.True(output[i] == Untouched, $"{shape}: channel {ch} outside the range was written");
                continue;
            }
            float expected = Reference(stride, height, width, input, weight, bias, ch, oy, ox, activation);
            Assert.True(BitConverter.SingleToInt32Bits(expected) == BitConverter.SingleToInt32Bits(output[i]),
                $"{shape} {activation}: out[{ch}, {oy}, {ox}] is {output[i]:R}, the plain chain gives {expected:R}");
            Assert.True(BitConverter.SingleToInt32Bits(general[i]) == BitConverter.SingleToInt32Bits(output[i]),
                $"{shape} {activation}: out[{ch}, {oy}, {ox}] is {output[i]:R}, DepthwiseConv gives {general[i]:R}");
        }
    }
}
