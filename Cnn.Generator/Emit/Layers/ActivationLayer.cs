using System.Globalization;
using CnnGen.Generator.Model;

namespace CnnGen.Generator.Emit.Layers;

/// <summary>
/// Element-wise activations (seeds 000 and 002), each forward formula next to its derivative:
/// ReLU <c>max(0, x)</c>, <c>dx = x &gt; 0 ? dy : 0</c>; ReLU6 <c>min(max(0, x), 6)</c>, <c>dx = 0 &lt; x &lt; 6 ? dy : 0</c>; LeakyReLU <c>x &gt; 0 ? x : a*x</c>, <c>dx = x &gt; 0 ? dy : a*dy</c>;
/// ELU <c>x &gt; 0 ? x : a*(e^x - 1)</c>, <c>dx = x &gt; 0 ? dy : dy*(y + a)</c>; Sigmoid <c>1/(1+e^-x)</c>, <c>dx = dy*y*(1-y)</c>;
/// Tanh <c>dx = dy*(1-y^2)</c>. A final Softmax is not a layer here: the passes fuse it with the loss. When one image is split
/// over the threads, a large activation runs by ranges of values, each with the operations of the whole layer.
/// </summary>
internal sealed class ActivationLayer : LayerEmitter
{
    public static readonly ActivationLayer Instance = new();

    private static string F(float value) => value.ToString("R", CultureInfo.InvariantCulture) + "f";

    public override void Forward(SourceWriter w, LayerSpec l, NetworkSpec network)
    {
        long length = l.Input.Length;
        bool skippedInInference = l.InferredBy >= 0 && !l.InferredOnlyWhenFolded;
        bool split = ImageSplit.WorthByValues(l) && !skippedInInference;
        OpenForward(w, l);
        bool skippedInGradientPass = l.GradientPassAppliedBy >= 0;
        if (skippedInInference && skippedInGradientPass && l.InferredBy == l.GradientPassAppliedBy)
            w.Line($"if (!ws.KeepForBackward || !ws.WritesEveryOutput) return; // {network.Layers[l.InferredBy].Name} applied this ReLU as it stored its output, in inference and in a gradient pass");
        else
        {
            if (skippedInInference)
                w.Line($"if (!ws.KeepForBackward) return; // in inference {network.Layers[l.InferredBy].Name} applied this ReLU as it stored its output");
            if (skippedInGradientPass)
                w.Line($"if (ws.KeepForBackward && !ws.WritesEveryOutput) return; // in a gradient pass {network.Layers[l.GradientPassAppliedBy].Name} applied this ReLU as it stored its output");
        }
        if (split) ImageSplit.EmitRunAndReturn(w, ValuesMethod(l), "outp", length, ImageSplit.ValueBlock);
        w.Line($"var x = inp.Slice(0, batch * {length});");
        w.Line("var y = outp.Slice(0, x.Length);");
        EmitActivation(w, l);
        w.Close();
        if (!split) return;
        ImageSplit.OpenRange(w, ValuesMethod(l), $"Values [start, end) of each image of {l.Name}: the same operations as the whole layer.");
        w.Open("for (int b = 0; b < batch; b++)");
        w.Line($"var x = inp.Slice(b * {length} + start, end - start);");
        w.Line($"var y = outp.Slice(b * {length} + start, x.Length);");
        EmitActivation(w, l);
        w.Close();
        w.Close();
    }

    private static string ValuesMethod(LayerSpec l) => "ForwardValues_" + l.Id;

    /// <summary><c>y = f(x)</c> for the spans <c>x</c> and <c>y</c>, value by value.</summary>
    private static void EmitActivation(SourceWriter w, LayerSpec l)
    {
        switch (l.Kind)
        {
            case LayerKind.ReLU:
                w.Line($"{Kernels}.Activations.Relu(x, y); // x < 0 ? 0 : x; NaN stays NaN");
                break;
            case LayerKind.ReLU6:
                w.Line($"{Kernels}.Relu6.Forward(x, y); // x < 0 ? 0 : x > 6 ? 6 : x; NaN stays NaN");
                break;
            case LayerKind.LeakyReLU:
                w.Line($"{Kernels}.Activations.LeakyRelu(x, y, {F(((LeakyReluOp)l.Op).Slope)}); // x > 0 ? x : slope * x");
                break;
            case LayerKind.ELU:
                w.Line("for (int i = 0; i < x.Length; i++)");
                w.Line($"    y[i] = x[i] > 0f ? x[i] : {F(((EluOp)l.Op).Alpha)} * (global::System.MathF.Exp(x[i]) - 1f);");
                break;
            case LayerKind.Sigmoid:
                w.Line("for (int i = 0; i < x.Length; i++)");
                w.Line("    y[i] = 1f / (1f + global::System.MathF.Exp(-x[i]));");
                break;
            case LayerKind.Tanh:
                w.Line("for (int i = 0; i < x.Length; i++)");
                w.Line("    y[i] = global::System.MathF.Tanh(x[i]);");
                break;
            default:
                // Softmax before the end is rejected at compile time (CNN0013); the final one is fused with the loss.
                w.Line("x.CopyTo(y);");
                break;
        }
    }

    public override void Backward(SourceWriter w, LayerSpec l, bool needInputGradient, NetworkSpec network)
    {
        OpenBackward(w, l);
        if (l.BackwardAppliedBy >= 0)
        {
            // RunBackward does not call it; a replay of every layer's methods may.
            var by = network.Layers[l.BackwardAppliedBy];
            w.Line(by.Kind == LayerKind.MaxPool
                ? $"// Nothing to do: {by.Name}, the max pool after this ReLU, applies its mask as it routes the gradient (MaxPoolReluBackward), into this layer's input gradient."
                : by.Kind == LayerKind.BatchNorm
                ? $"// Nothing to do: {by.Name}, the BatchNorm before this ReLU, applies its mask to this layer's output gradient in place (MaskAndAddGradientSums) as its own backward pass starts."
                : $"// Nothing to do: {by.Name}, the sum before this ReLU, applies its mask to this layer's output gradient in place as its own backward pass starts.");
            w.Close();
            return;
        }
        if (needInputGradient)
        {
            ReturnWithoutInputGradient(w);
            w.Line($"int n = batch * {l.Input.Length};");
            string? call = l.Op switch
            {
                LeakyReluOp leaky => $"LeakyReluBackward(inp[..n], dout[..n], dinp[..n], {F(leaky.Slope)}); // dx = x > 0 ? dy : slope * dy",
                EluOp elu => $"EluBackward(inp[..n], outp[..n], dout[..n], dinp[..n], {F(elu.Alpha)}); // dx = x > 0 ? dy : dy * (y + alpha)",
                _ => null,
            } ?? l.Kind switch
            {
                LayerKind.ReLU when l.GradientPassAppliedBy >= 0 =>
                    "ReluBackward(outp[..n], dout[..n], dinp[..n]); // dx = y > 0 ? dy : 0, y = max(x, 0) being > 0 exactly where x is: the layer before wrote y, not x",
                LayerKind.ReLU => "ReluBackward(inp[..n], dout[..n], dinp[..n]); // dx = x > 0 ? dy : 0",
                LayerKind.Sigmoid => "SigmoidBackward(outp[..n], dout[..n], dinp[..n]); // dx = dy * y * (1 - y)",
                LayerKind.Tanh => "TanhBackward(outp[..n], dout[..n], dinp[..n]); // dx = dy * (1 - y^2)",
                _ => null,
            };
            if (l.Kind == LayerKind.ReLU6) w.Line($"{Kernels}.Relu6.Backward(inp[..n], dout[..n], dinp[..n]); // dx = 0 < x < 6 ? dy : 0");
            else if (call is null) w.Line("dout[..n].CopyTo(dinp);");
            else w.Line($"{Kernels}.Activations.{call}");
        }
        w.Close();
    }
}
