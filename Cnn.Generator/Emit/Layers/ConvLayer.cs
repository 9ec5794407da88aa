using System.Collections.Generic;
using CnnGen.Generator.Model;

namespace CnnGen.Generator.Emit.Layers;

/// <summary>
/// Convolution as im2col + one matrix product per image (seed 001):
/// forward <c>out[F, P] = weight[F, K] * col[K, P] + bias</c> with <c>K = C*k*k</c>, <c>P = OH*OW</c>;
/// backward <c>dweight += dout * col^T</c>, <c>dbias += row sums of dout</c>, <c>dinp = col2im(weight^T * dout)</c>
/// (col2im of that product is seed 001's full convolution of dout with the kernel rotated 180 degrees).
/// </summary>
internal sealed class ConvLayer : LayerEmitter
{
    public static readonly ConvLayer Instance = new();

    private static ConvOp Op(LayerSpec l) => (ConvOp)l.Op;

    /// <summary>A 1x1 kernel with stride 1 and no padding needs no im2col: the input already is the matrix.</summary>
    private static bool IsPointwise(LayerSpec l) => Op(l) is { Kernel: 1, Stride: 1, Padding: 0 };

    private static long ColLength(LayerSpec l) => (long)l.Input.Channels * Op(l).Kernel * Op(l).Kernel * l.Output.Height * l.Output.Width;

    public override IEnumerable<Scratch> Buffers(LayerSpec l, bool needInputGradient)
    {
        // The columns of every image are kept while training, so the backward pass need not rebuild them.
        if (!IsPointwise(l)) yield return new Scratch("_col_" + l.Id, "float", ColLength(l), PerBatch: false, BackwardOnly: false, PerBatchWhenTraining: true);
        int padding = Op(l).Padding;
        if (l.WinogradInference)
            foreach (var buffer in WinogradConv.Buffers(l)) yield return buffer;
        else if (l.DirectInference && padding > 0)
            yield return new Scratch("_pad_" + l.Id, "float", (long)l.Input.Channels * (l.Input.Height + 2 * padding) * (l.Input.Width + 2 * padding), PerBatch: false, BackwardOnly: false);
        if (needInputGradient && !IsPointwise(l)) yield return new Scratch("_dcol_" + l.Id, "float", ColLength(l), PerBatch: false, BackwardOnly: true);
    }

    private static string Pack(LayerSpec l, string x) => Pack(l, Op(l), x);

    private static string Pack(LayerSpec l, ConvOp c, string x) =>
        $"{Kernels}.Im2Col.Pack({x}, col, channels: {l.Input.Channels}, height: {l.Input.Height}, width: {l.Input.Width}, " +
        $"kernel: {c.Kernel}, stride: {c.Stride}, padding: {c.Padding}, outHeight: {l.Output.Height}, outWidth: {l.Output.Width}{DilationArgument(c)});";

    /// <summary>The im2col kernels' dilation argument, written only for a dilated convolution.</summary>
    internal static string DilationArgument(ConvOp c) => c.Dilation == 1 ? "" : $", dilation: {c.Dilation}";

    public override void Forward(SourceWriter w, LayerSpec l, NetworkSpec network)
    {
        var c = Op(l);
        int inLen = (int)l.Input.Length, outLen = (int)l.Output.Length, positions = l.Output.Height * l.Output.Width;
        int k = l.Input.Channels * c.Kernel * c.Kernel;
        var folded = l.FoldedBatchNorm >= 0 ? network.Layers[l.FoldedBatchNorm] : null;
        var fusedRelu = l.FusedRelu >= 0 ? network.Layers[l.FusedRelu] : null;
        OpenForward(w, l);
        w.Line($"var weight = {Weight(l)}; // [{c.Filters}, {l.Input.Channels}, {c.Kernel}, {c.Kernel}] = [{c.Filters}, {k}]");
        w.Line($"var bias = {Bias(l)};");
        if (folded is not null) EmitFold(w, l, folded);
        if (l.DirectInference)
        {
            bool relu = fusedRelu is not null && !l.FusedReluNeedsFold;
            bool reluAfterFold = fusedRelu is not null && l.FusedReluNeedsFold;
            w.Open("if (!ws.KeepForBackward)");
            w.Line(relu
                ? $"// Inference: direct convolution with {fusedRelu!.Name} fused (written to its output); same result as the im2col path below."
                : reluAfterFold
                ? $"// Inference: direct convolution; with {folded!.Name} folded in, {fusedRelu!.Name} is fused too (written to its output)."
                : "// Inference: direct convolution, same result as the im2col path below.");
            string target = "outp", reluArg = "";
            if (relu)
            {
                w.Line($"var fused = new global::System.Span<float>(ws._act_{fusedRelu!.Id});");
                target = "fused";
                reluArg = ", relu: true";
            }
            else if (reluAfterFold)
            {
                w.Line($"var fused = ws.Folded ? new global::System.Span<float>(ws._act_{fusedRelu!.Id}) : outp;");
                target = "fused";
                reluArg = ", relu: ws.Folded";
            }
            if (l.WinogradInference) WinogradConv.EmitForward(w, l, target, reluArg);
            else
            {
                w.Line("for (int b = 0; b < batch; b++)");
                w.Line($"    {Kernels}.DirectConv.Forward(inp.Slice(b * {inLen}, {inLen}), weight, bias, {target}.Slice(b * {outLen}, {outLen}), " +
                       $"{(c.Padding > 0 ? $"ws._pad_{l.Id}" : "default")}, channels: {l.Input.Channels}, height: {l.Input.Height}, width: {l.Input.Width}, " +
                       $"filters: {c.Filters}, kernel: {c.Kernel}, padding: {c.Padding}, outHeight: {l.Output.Height}, outWidth: {l.Output.Width}{reluArg});");
            }
            w.Line("return;");
            w.Close();
        }
        w.Open("for (int b = 0; b < batch; b++)");
        w.Line($"var x = inp.Slice(b * {inLen}, {inLen});");
        w.Line($"var y = outp.Slice(b * {outLen}, {outLen});");
        if (!IsPointwise(l))
            w.Line($"var col = new global::System.Span<float>(ws._col_{l.Id}, ws.KeepForBackward ? b * {ColLength(l)} : 0, {ColLength(l)}); // [{k}, {positions}], kept for backward while training");
        if (IsPointwise(l)) w.Line($"{Kernels}.Gemm.Multiply(weight, x, y, m: {c.Filters}, n: {positions}, k: {k});");
        else
        {
            w.Line(Pack(l, "x"));
            w.Line($"{Kernels}.Gemm.Multiply(weight, col, y, m: {c.Filters}, n: {positions}, k: {k});");
        }
        w.Line($"{Kernels}.Elementwise.AddBias(y, bias, rows: {c.Filters}, columns: {positions});");
        w.Close();
        w.Close();
    }

    public override void Backward(SourceWriter w, LayerSpec l, bool needInputGradient)
    {
        var c = Op(l);
        int inLen = (int)l.Input.Length, outLen = (int)l.Output.Length, positions = l.Output.Height * l.Output.Width;
        int k = l.Input.Channels * c.Kernel * c.Kernel;
        string cols = IsPointwise(l) ? "inp" : $"ws._col_{l.Id}";
        int colStride = IsPointwise(l) ? inLen : (int)ColLength(l);
        OpenBackward(w, l);
        w.Open($"if (!_frozen[{l.Index}])");
        w.Line($"// dweight[f, k] += sum over images and positions of dy[f, p] * col[k, p] (columns kept by forward)");
        w.Line($"{Kernels}.Gemm.AccumulateTransposedB(dout, {outLen}, {cols}, {colStride}, {DWeight(l)}, m: {c.Filters}, n: {k}, k: {positions}, count: batch);");
        if (c.Bias)
        {
            w.Line($"// dbias[f] += sum over images and positions of dy[f, p] (a product with a row of ones)");
            w.Line($"{Kernels}.Gemm.AccumulateTransposedB(dout, {outLen}, {Kernels}.Ones.Get({positions}), 0, {DBias(l)}, m: {c.Filters}, n: 1, k: {positions}, count: batch);");
        }
        w.Close();
        if (needInputGradient)
        {
            ReturnWithoutInputGradient(w);
            w.Line($"// dinp = col2im(weight^T * dy): seed 001's full convolution of dy with the kernel rotated 180 degrees");
            w.Line($"var weight = {Weight(l)};");
            if (!IsPointwise(l)) w.Line($"var dcol = new global::System.Span<float>(ws._dcol_{l.Id});");
            w.Open("for (int b = 0; b < batch; b++)");
            w.Line($"var dy = dout.Slice(b * {outLen}, {outLen});");
            w.Line($"var dx = dinp.Slice(b * {inLen}, {inLen});");
            if (IsPointwise(l))
                w.Line($"{Kernels}.Gemm.Multiply(weight, dy, dx, m: {k}, n: {positions}, k: {c.Filters}, transposeA: true);");
            else
            {
                w.Line($"{Kernels}.Gemm.Multiply(weight, dy, dcol, m: {k}, n: {positions}, k: {c.Filters}, transposeA: true);");
                w.Line("dx.Clear();");
                w.Line($"{Kernels}.Im2Col.Unpack(dcol, dx, channels: {l.Input.Channels}, height: {l.Input.Height}, width: {l.Input.Width}, " +
                       $"kernel: {c.Kernel}, stride: {c.Stride}, padding: {c.Padding}, outHeight: {l.Output.Height}, outWidth: {l.Output.Width}{DilationArgument(c)});");
            }
            w.Close();
        }
        w.Close();
    }
}
