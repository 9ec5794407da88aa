namespace CnnGen.Samples.Web;

/// <summary>Class probabilities from a network's last output.</summary>
internal static class Probabilities
{
    /// <summary>The output itself when the network ends in a softmax, else the softmax of its logits.</summary>
    public static float[] Of(INetwork network, float[] output)
    {
        if (network.Layers[^1].Kind == "Softmax") return output;
        var probabilities = new float[output.Length];
        Kernels.SoftmaxCrossEntropy.Softmax(output, probabilities);
        return probabilities;
    }
}
