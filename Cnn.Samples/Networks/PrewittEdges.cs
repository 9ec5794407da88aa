namespace CnnGen.Samples.Networks;

/// <summary>
/// Seed 001's hand-designed filters: one convolution whose two 3x3 kernels are set to Prewitt's edge detectors
/// (horizontal change and vertical change), to compare with the filters a trained network learns by itself.
/// </summary>
[Input(1, 28, 28)]
[Conv(3, 2, Padding = 1, Frozen = true, Name = "prewitt")]
public partial class PrewittEdges
{
    /// <summary>Responds to a change from left to right (a vertical edge).</summary>
    public static readonly float[] Horizontal = [-1, 0, 1, -1, 0, 1, -1, 0, 1];

    /// <summary>Responds to a change from top to bottom (a horizontal edge).</summary>
    public static readonly float[] Vertical = [-1, -1, -1, 0, 0, 0, 1, 1, 1];

    /// <summary>The network with Prewitt's kernels and zero biases.</summary>
    public static PrewittEdges Create()
    {
        var network = new PrewittEdges();
        var weight = network.Parameter("prewitt.weight");
        Horizontal.CopyTo(weight);
        Vertical.CopyTo(weight[9..]);
        network.Parameter("prewitt.bias").Clear();
        return network;
    }
}
