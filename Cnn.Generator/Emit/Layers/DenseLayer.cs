using CnnGen.Generator.Model;

namespace CnnGen.Generator.Emit.Layers;

/// <summary>
/// Fully connected layer over the whole batch (seed 001): forward <c>y[b, u] = bias[u] + sum_i weight[u, i] * x[b, i]</c>;
/// backward <c>dweight[u, i] += sum_b dy[b, u] * x[b, i]</c>, <c>dbias[u] += sum_b dy[b, u]</c>,
/// <c>dx[b, i] = sum_u dy[b, u] * weight[u, i]</c> (<c>dL/dx = W^T dL/dz</c>).
/// The input is read in C, H, W order, which is PyTorch's <c>Flatten</c>.
/// </summary>
internal sealed class DenseLayer : LayerEmitter
{
    public static readonly DenseLayer Instance = new();

    private static int Units(LayerSpec l) => ((DenseOp)l.Op).Units;

    /// <summary>Bytes of weights from which a dense layer's product of one image reads them as one stream
    /// (<c>bFromMemory</c>): weights this large (1 MiB, a Zen 4 core's whole second-level cache) sit in a network that has
    /// read far more since their last use, so they come from memory, where one stream ran faster than eight rows side
    /// by side (the 1000-unit classifiers of ResNet-18, GoogLeNet, DenseNet-121 and MobileNetV2, 2 to 5 MB); smaller
    /// ones, such as LeNet-5's, are read from the caches, where eight rows run faster (<c>GemmAvx512.RowsOneByOne</c>).</summary>
    internal const long StreamedWeightBytes = 1L << 20;

    /// <summary>The product's last argument: <c>, bFromMemory: true</c> for weights of <see cref="StreamedWeightBytes"/>
    /// or more, else nothing.</summary>
    private static string FromMemory(LayerSpec l) => (long)Units(l) * l.Input.Length * sizeof(float) >= StreamedWeightBytes ? ", bFromMemory: true" : "";

    public override void Forward(SourceWriter w, LayerSpec l, NetworkSpec network)
    {
        long inLen = l.Input.Length;
        OpenForward(w, l);
        w.Line($"var weight = {Weight(l)}; // [{Units(l)}, {inLen}]");
        w.Line($"var bias = {Bias(l)};");
        bool split = ImageSplit.Worth(l);
        if (split)
        {
            ImageSplit.OpenWhenSplitting(w);
            w.Line("// Fewer images than threads: each thread computes a range of the units.");
            w.Line(ImageSplit.Run(UnitsMethod(l), "inp", "outp", "weight", "bias", "batch", Units(l), ImageSplit.DenseUnitBlock.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            w.Line("return;");
            w.Close();
        }
        w.Line($"var y = outp.Slice(0, batch * {Units(l)});");
        w.Line($"{Kernels}.Gemm.MultiplyTransposedB(inp.Slice(0, batch * {inLen}), weight, y, m: batch, n: {Units(l)}, k: {inLen}{FromMemory(l)});");
        w.Line($"{Kernels}.Elementwise.AddColumnBias(y, bias, rows: batch, columns: {Units(l)});");
        w.Close();
        if (!split) return;
        w.Line();
        ImageSplit.OpenRange(w, UnitsMethod(l), "Units [start, end) of every image: the dot products of their weight rows with the input, plus their biases.");
        w.Open("for (int b = 0; b < batch; b++)");
        w.Line($"var y = outp.Slice(b * {Units(l)} + start, end - start);");
        w.Line($"{Kernels}.Gemm.MultiplyTransposedB(inp.Slice(b * {inLen}, {inLen}), weight.Slice(start * {inLen}, (end - start) * {inLen}), y, m: 1, n: end - start, k: {inLen}{FromMemory(l)});");
        w.Line($"{Kernels}.Elementwise.AddColumnBias(y, bias.Slice(start, end - start), rows: 1, columns: end - start);");
        w.Close();
        w.Close();
    }

    private static string UnitsMethod(LayerSpec l) => "ForwardUnits_" + l.Id;

    public override void Backward(SourceWriter w, LayerSpec l, bool needInputGradient, NetworkSpec network)
    {
        long inLen = l.Input.Length;
        OpenBackward(w, l);
        w.Line($"var dy = dout.Slice(0, batch * {Units(l)});");
        w.Open($"if (!_frozen[{l.Index}])");
        w.Line($"var x = inp.Slice(0, batch * {inLen});");
        w.Line($"// dweight[u, i] += sum_b dy[b, u] * x[b, i]");
        w.Line($"{Kernels}.Gemm.Multiply(dy, x, {DWeight(l)}, m: {Units(l)}, n: {inLen}, k: batch, transposeA: true, accumulate: true);");
        if (((DenseOp)l.Op).Bias)
        {
            w.Line($"// dbias[u] += sum_b dy[b, u]");
            w.Line($"{Kernels}.Elementwise.AddColumnSums(dy, {DBias(l)}, rows: batch, columns: {Units(l)});");
        }
        w.Close();
        if (needInputGradient)
        {
            ReturnWithoutInputGradient(w);
            w.Line($"// dx[b, i] = sum_u dy[b, u] * weight[u, i]");
            w.Line($"{Kernels}.Gemm.Multiply(dy, {Weight(l)}, dinp.Slice(0, batch * {inLen}), m: batch, n: {inLen}, k: {Units(l)});");
        }
        w.Close();
    }
}
