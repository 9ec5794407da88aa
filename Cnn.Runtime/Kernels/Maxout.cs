using System.Runtime.CompilerServices;

namespace CnnGen.Kernels;

/// <summary>
/// Maxout over consecutive groups of channels: output channel j at position p is the largest of input channels
/// <c>j*pieces .. j*pieces + pieces - 1</c> at p (the first on ties; a NaN wins, as in max pooling). The backward pass
/// routes each output's gradient to the channel that won.
/// </summary>
public static class Maxout
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Forward(ReadOnlySpan<float> input, Span<float> output, Span<int> winner, int images, int outChannels, int pieces, int plane)
    {
        int inLength = outChannels * pieces * plane, outLength = outChannels * plane;
        if (input.Length < (long)images * inLength || output.Length < (long)images * outLength || winner.Length < (long)images * outLength)
            throw new ArgumentException("Maxout.Forward: spans too short for the given shape.");
        for (int b = 0; b < images; b++)
        {
            var x = input.Slice(b * inLength, inLength);
            var y = output.Slice(b * outLength, outLength);
            var w = winner.Slice(b * outLength, outLength);
            for (int j = 0; j < outChannels; j++)
            for (int p = 0; p < plane; p++)
            {
                int best = j * pieces * plane + p;
                float max = x[best];
                for (int k = 1; k < pieces; k++)
                {
                    int at = (j * pieces + k) * plane + p;
                    float v = x[at];
                    if (v > max || float.IsNaN(v)) { max = v; best = at; }
                }
                y[j * plane + p] = max;
                w[j * plane + p] = best;
            }
        }
    }

    /// <summary><paramref name="inputGradient"/> is overwritten: zero but at each winner.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Backward(ReadOnlySpan<float> outputGradient, ReadOnlySpan<int> winner, Span<float> inputGradient, int images, int outChannels, int pieces, int plane)
    {
        int inLength = outChannels * pieces * plane, outLength = outChannels * plane;
        if (inputGradient.Length < (long)images * inLength || outputGradient.Length < (long)images * outLength || winner.Length < (long)images * outLength)
            throw new ArgumentException("Maxout.Backward: spans too short for the given shape.");
        for (int b = 0; b < images; b++)
        {
            var dx = inputGradient.Slice(b * inLength, inLength);
            dx.Clear();
            var dy = outputGradient.Slice(b * outLength, outLength);
            var w = winner.Slice(b * outLength, outLength);
            for (int o = 0; o < outLength; o++) dx[w[o]] += dy[o];
        }
    }
}
