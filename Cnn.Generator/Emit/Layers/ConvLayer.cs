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

    /// <summary>A 1x1 kernel with stride 1 and no padding needs no im2col: the input already is the matrix.</summary>
    private static bool IsPointwise(LayerSpec l) => l.Kernel == 1 && l.Stride == 1 && l.Padding == 0;

    /// <summary>Inference uses the direct kernel (no im2col) for stride 1 and output rows up to 32 wide; it gives
    /// the same bits as im2col + GEMM. Training keeps im2col, whose columns the backward pass reuses.</summary>
    private static bool UsesDirect(LayerSpec l) => l.Stride == 1 && l.Output.Width <= 32 && !IsPointwise(l);

    /// <summary>In inference a direct convolution followed by ReLU applies it before storing, into the ReLU's output.</summary>
    public static bool FusesRelu(LayerSpec conv, LayerSpec? next) =>
        conv.Kind == LayerKind.Conv && UsesDirect(conv) && next?.Kind == LayerKind.ReLU && !conv.IsShortcutSource; // an Add reads the conv's own output

    private static long ColLength(LayerSpec l) => (long)l.Input.Channels * l.Kernel * l.Kernel * l.Output.Height * l.Output.Width;

    public override IEnumerable<Scratch> Buffers(LayerSpec l, bool needInputGradient)
    {
        // The columns of every image are kept while training, so the backward pass need not rebuild them.
        if (!IsPointwise(l)) yield return new Scratch("_col_" + l.Name, "float", ColLength(l), PerBatch: false, BackwardOnly: false, PerBatchWhenTraining: true);
        if (UsesDirect(l) && l.Padding > 0)
            yield return new Scratch("_pad_" + l.Name, "float", (long)l.Input.Channels * (l.Input.Height + 2 * l.Padding) * (l.Input.Width + 2 * l.Padding), PerBatch: false, BackwardOnly: false);
        if (needInputGradient && !IsPointwise(l)) yield return new Scratch("_dcol_" + l.Name, "float", ColLength(l), PerBatch: false, BackwardOnly: true);
    }

    private static string Pack(LayerSpec l, string x) =>
        $"{Kernels}.Im2Col.Pack({x}, col, channels: {l.Input.Channels}, height: {l.Input.Height}, width: {l.Input.Width}, " +
        $"kernel: {l.Kernel}, stride: {l.Stride}, padding: {l.Padding}, outHeight: {l.Output.Height}, outWidth: {l.Output.Width});";

    /// <summary>In inference a direct convolution whose BatchNorm is folded in, followed by ReLU, applies the ReLU too.</summary>
    public static bool FusesReluAfterFold(LayerSpec conv, LayerSpec batchNorm, LayerSpec? afterBatchNorm) =>
        conv.Kind == LayerKind.Conv && UsesDirect(conv) && afterBatchNorm?.Kind == LayerKind.ReLU && !batchNorm.IsShortcutSource;

    public override void Forward(SourceWriter w, LayerSpec l, LayerSpec? previous, LayerSpec? next, LayerSpec? afterNext)
    {
        int inLen = (int)l.Input.Length, outLen = (int)l.Output.Length, positions = l.Output.Height * l.Output.Width;
        int k = l.Input.Channels * l.Kernel * l.Kernel;
        bool folds = next is not null && BatchNormLayer.IsFolded(next, l);
        OpenForward(w, l);
        w.Line($"var weight = {Weight(l)}; // [{l.Units}, {l.Input.Channels}, {l.Kernel}, {l.Kernel}] = [{l.Units}, {k}]");
        w.Line($"var bias = {Bias(l)};");
        if (folds) EmitFold(w, l, next!);
        if (UsesDirect(l))
        {
            bool relu = FusesRelu(l, next);
            bool reluAfterFold = folds && FusesReluAfterFold(l, next!, afterNext);
            w.Open("if (!ws.KeepForBackward)");
            w.Line(relu
                ? $"// Inference: direct convolution with {next!.Name} fused (written to its output); same result as the im2col path below."
                : reluAfterFold
                ? $"// Inference: direct convolution; with {next!.Name} folded in, {afterNext!.Name} is fused too (written to its output)."
                : "// Inference: direct convolution, same result as the im2col path below.");
            string target = "outp", reluArg = "";
            if (relu)
            {
                w.Line($"var fused = new global::System.Span<float>(ws._act_{next!.Name});");
                target = "fused";
                reluArg = ", relu: true";
            }
            else if (reluAfterFold)
            {
                w.Line($"var fused = ws.Folded ? new global::System.Span<float>(ws._act_{afterNext!.Name}) : outp;");
                target = "fused";
                reluArg = ", relu: ws.Folded";
            }
            w.Line("for (int b = 0; b < batch; b++)");
            w.Line($"    {Kernels}.DirectConv.Forward(inp.Slice(b * {inLen}, {inLen}), weight, bias, {target}.Slice(b * {outLen}, {outLen}), " +
                   $"{(l.Padding > 0 ? $"ws._pad_{l.Name}" : "default")}, channels: {l.Input.Channels}, height: {l.Input.Height}, width: {l.Input.Width}, " +
                   $"filters: {l.Units}, kernel: {l.Kernel}, padding: {l.Padding}, outHeight: {l.Output.Height}, outWidth: {l.Output.Width}{reluArg});");
            w.Line("return;");
            w.Close();
        }
        w.Open("for (int b = 0; b < batch; b++)");
        w.Line($"var x = inp.Slice(b * {inLen}, {inLen});");
        w.Line($"var y = outp.Slice(b * {outLen}, {outLen});");
        if (!IsPointwise(l))
            w.Line($"var col = new global::System.Span<float>(ws._col_{l.Name}, ws.KeepForBackward ? b * {ColLength(l)} : 0, {ColLength(l)}); // [{k}, {positions}], kept for backward while training");
        if (IsPointwise(l)) w.Line($"{Kernels}.Gemm.Multiply(weight, x, y, m: {l.Units}, n: {positions}, k: {k});");
        else
        {
            w.Line(Pack(l, "x"));
            w.Line($"{Kernels}.Gemm.Multiply(weight, col, y, m: {l.Units}, n: {positions}, k: {k});");
        }
        w.Line($"{Kernels}.Elementwise.AddBias(y, bias, rows: {l.Units}, columns: {positions});");
        w.Close();
        w.Close();
    }

    public override void Backward(SourceWriter w, LayerSpec l, bool needInputGradient)
    {
        int inLen = (int)l.Input.Length, outLen = (int)l.Output.Length, positions = l.Output.Height * l.Output.Width;
        int k = l.Input.Channels * l.Kernel * l.Kernel;
        string cols = IsPointwise(l) ? "inp" : $"ws._col_{l.Name}";
        int colStride = IsPointwise(l) ? inLen : (int)ColLength(l);
        OpenBackward(w, l);
        w.Open($"if (!_frozen[{l.Index}])");
        w.Line($"// dweight[f, k] += sum over images and positions of dy[f, p] * col[k, p] (columns kept by forward)");
        w.Line($"{Kernels}.Gemm.AccumulateTransposedB(dout, {outLen}, {cols}, {colStride}, {DWeight(l)}, m: {l.Units}, n: {k}, k: {positions}, count: batch);");
        w.Line($"// dbias[f] += sum over images and positions of dy[f, p] (a product with a row of ones)");
        w.Line($"{Kernels}.Gemm.AccumulateTransposedB(dout, {outLen}, {Kernels}.Ones.Get({positions}), 0, {DBias(l)}, m: {l.Units}, n: 1, k: {positions}, count: batch);");
        w.Close();
        if (needInputGradient)
        {
            ReturnWithoutInputGradient(w);
            w.Line($"// dinp = col2im(weight^T * dy): seed 001's full convolution of dy with the kernel rotated 180 degrees");
            w.Line($"var weight = {Weight(l)};");
            if (!IsPointwise(l)) w.Line($"var dcol = new global::System.Span<float>(ws._dcol_{l.Name});");
            w.Open("for (int b = 0; b < batch; b++)");
            w.Line($"var dy = dout.Slice(b * {outLen}, {outLen});");
            w.Line($"var dx = dinp.Slice(b * {inLen}, {inLen});");
            if (IsPointwise(l))
                w.Line($"{Kernels}.Gemm.Multiply(weight, dy, dx, m: {k}, n: {positions}, k: {l.Units}, transposeA: true);");
            else
            {
                w.Line($"{Kernels}.Gemm.Multiply(weight, dy, dcol, m: {k}, n: {positions}, k: {l.Units}, transposeA: true);");
                w.Line("dx.Clear();");
                w.Line($"{Kernels}.Im2Col.Unpack(dcol, dx, channels: {l.Input.Channels}, height: {l.Input.Height}, width: {l.Input.Width}, " +
                       $"kernel: {l.Kernel}, stride: {l.Stride}, padding: {l.Padding}, outHeight: {l.Output.Height}, outWidth: {l.Output.Width});");
            }
            w.Close();
        }
        w.Close();
    }
}
