using CnnGen.Generator.Model;

namespace CnnGen.Generator.Emit.Layers;

/// <summary>
/// Global average pooling (PyTorch's <c>AdaptiveAvgPool2d(1)</c>): forward <c>y[c] = mean of plane c</c>; backward spreads
/// each output's gradient evenly over its plane, <c>dx = dy[c] / (H * W)</c>.
/// </summary>
internal sealed class GlobalAvgPoolLayer : LayerEmitter
{
    public static readonly GlobalAvgPoolLayer Instance = new();

    public override void Forward(SourceWriter w, LayerSpec l, NetworkSpec network)
    {
        OpenForward(w, l);
        w.Line($"{Kernels}.GlobalPooling.AverageForward(inp, outp, planes: batch * {l.Input.Channels}, plane: {l.Spatial});");
        w.Close();
    }

    public override void Backward(SourceWriter w, LayerSpec l, bool needInputGradient)
    {
        OpenBackward(w, l);
        if (needInputGradient)
        {
            ReturnWithoutInputGradient(w);
            w.Line($"{Kernels}.GlobalPooling.AverageBackward(dout, dinp, planes: batch * {l.Input.Channels}, plane: {l.Spatial});");
        }
        w.Close();
    }
}
