using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace CnnGen.Kernels;

public static unsafe partial class DepthwiseConv
{
    /// <summary>Whether <see cref="ExpandedBlocks"/> computes an expansion followed by this depthwise convolution: 3x3 at
    /// stride 1 or 2, on AVX-512 with expanded channels a multiple of sixteen (<see cref="ExpandedBlocksAvx512"/>), on
    /// AVX2 without AVX-512 a multiple of eight (<see cref="ExpandedBlocksAvx2"/>).</summary>
    internal static bool ExpandsChannelLast(int channels, int kernel, int stride)
    {
        if (kernel != 3 || (stride != 1 && stride != 2)) return false;
        if (Avx512F.IsSupported && Vector512.IsHardwareAccelerated) return channels % WideBlockChannels == 0;
        return Avx2.IsSupported && Fma.IsSupported && channels % BlockChannels == 0;
    }

    /// <summary><see cref="ExpandDepthwise"/>'s output rows [<paramref name="firstRow"/>, <paramref name="endRow"/>) by
    /// this machine's channel-last kernel; the caller has checked <see cref="ExpandsChannelLast"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void ExpandedBlocks(float* input, int inChannels, float* expandWeight, float* expandBias, FusedActivation expandActivation,
        float* weight, float* bias, float* output, int channels, int height, int width, int stride, int padding, int outHeight, int outWidth,
        FusedActivation activation, int bandRows, int firstRow, int endRow)
    {
        if (Avx512F.IsSupported && Vector512.IsHardwareAccelerated)
            ExpandedBlocksAvx512(input, inChannels, expandWeight, expandBias, expandActivation, weight, bias, output, channels, height, width,
                stride, padding, outHeight, outWidth, activation, bandRows, firstRow, endRow);
        else
            ExpandedBlocksAvx2(input, inChannels, expandWeight, expandBias, expandActivation, weight, bias, output, channels, height, width,
                stride, padding, outHeight, outWidth, activation, bandRows, firstRow, endRow);
    }
}
