using CnnGen.Generator.Model;

namespace CnnGen.Generator.Emit.Layers;

/// <summary>
/// Global average pooling (PyTorch's <c>AdaptiveAvgPool2d(1)</c>): forward <c>y[c] = mean of plane c</c>; backward spreads
/// each output's gradient evenly over its plane, <c>dx = dy[c] / (H * W)</c>. When one image is split over the threads,
/// a large one runs by ranges of channels.
/// </summary>
internal sealed class GlobalAvgPoolLayer : LayerEmitter
{
    public static readonly GlobalAvgPoolLayer Instance = new();

    public override void Forward(SourceWriter w, LayerSpec l, NetworkSpec network)
    {
        bool split = ImageSplit.WorthByValues(l);
        OpenForward(w, l);
        SumInRanges.EmitPoolReturn(w, network, l);
        if (split) ImageSplit.EmitRunAndReturn(w, PlanesMethod(l), "outp", l.Input.Channels, ImageSplit.MeanBlock);
        w.Line($"{Kernels}.GlobalPooling.AverageForward(inp, outp, planes: batch * {l.Input.Channels}, plane: {l.Spatial});");
        w.Close();
        if (!split) return;
        ImageSplit.OpenRange(w, PlanesMethod(l), $"Channels [start, end) of each image of {l.Name}: the same sums as the whole layer.");
        w.Open("for (int b = 0; b < batch; b++)");
        w.Line($"int first = b * {l.Input.Channels} + start;");
        w.Line($"{Kernels}.GlobalPooling.AverageForward(inp.Slice(first * {l.Spatial}), outp.Slice(first), planes: end - start, plane: {l.Spatial});");
        w.Close();
        w.Close();
    }

    private static string PlanesMethod(LayerSpec l) => "ForwardPlanes_" + l.Id;

    public override void Backward(SourceWriter w, LayerSpec l, bool needInputGradient, NetworkSpec network)
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
