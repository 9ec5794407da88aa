using System.Collections.Generic;
using System.Linq;
using CnnGen.Generator.Emit.Layers;
using CnnGen.Generator.Model;

namespace CnnGen.Generator.Emit;

/// <summary>
/// Emits the passes: buffers (allocated once per batch size), <c>Forward</c>, <c>Predict</c>, <c>ComputeGradients</c>,
/// and every layer's forward and backward methods. A final <c>[Softmax]</c> is not run as a layer: <c>Forward</c>
/// applies it to the logits, and <c>ComputeGradients</c> fuses it with the cross-entropy (<c>dlogits = y_hat - y</c>).
/// </summary>
internal static class PassEmitter
{
    private const string Span = "global::System.Span<float>";
    private const string ReadOnlySpan = "global::System.ReadOnlySpan<float>";
    private const string Kernels = "global::CnnGen.Kernels";

    public static void Emit(SourceWriter w, NetworkSpec spec)
    {
        var body = spec.EndsWithSoftmax ? spec.Layers.Take(spec.Layers.Count - 1).ToList() : spec.Layers.ToList();
        int firstTrainable = body.FindIndex(l => l.Kind.HasParameters());
        string cls = spec.ClassName;
        long outputs = spec.Output.Length;

        // ---- buffers
        var buffers = new List<Scratch>();
        for (int i = 0; i < body.Count; i++)
        {
            buffers.Add(new Scratch(Act(body[i]), "float", body[i].Output.Length, PerBatch: true, BackwardOnly: false));
            if (firstTrainable >= 0 && i >= firstTrainable && i < body.Count - 1)
                buffers.Add(new Scratch(Grad(body, i), "float", body[i].Output.Length, PerBatch: true, BackwardOnly: true));
            buffers.AddRange(LayerEmitter.For(body[i].Kind).Buffers(body[i]));
        }
        buffers.Add(new Scratch("_dlogits", "float", outputs, PerBatch: true, BackwardOnly: true));

        w.Line("// ---- Buffers: allocated on first use for the largest batch seen, then reused --------");
        foreach (var b in buffers)
            w.Line($"private {b.ElementType}[] {b.Field} = global::System.Array.Empty<{b.ElementType}>();");
        w.Line("private readonly float[] _prediction = new float[OutputLength];");
        w.Line("private int _forwardCapacity, _backwardCapacity;");
        w.Line();
        EmitEnsure(w, "EnsureForwardBuffers", "_forwardCapacity", buffers.Where(b => !b.BackwardOnly));
        w.Line();
        EmitEnsure(w, "EnsureBackwardBuffers", "_backwardCapacity", buffers.Where(b => b.BackwardOnly));
        w.Line();
        w.Open("private static T[] Allocate<T>(long length, int batchSize)");
        w.Line("if (length > global::System.Array.MaxLength)");
        w.Line($"    throw new global::System.ArgumentOutOfRangeException(nameof(batchSize), batchSize, $\"{cls}: a batch of {{batchSize}} images needs a buffer of {{length}} values, more than an array holds; use smaller batches.\");");
        w.Line("return new T[length];");
        w.Close();
        w.Line();

        // ---- argument checks
        w.Open("private static void CheckInputs(int length, int batchSize, string name)");
        w.Line("if (batchSize <= 0)");
        w.Line($"    throw new global::System.ArgumentOutOfRangeException(nameof(batchSize), batchSize, \"{cls}: the batch size must be positive.\");");
        w.Line("if (length != (long)InputLength * batchSize)");
        w.Line($"    throw new global::System.ArgumentException($\"{cls}: expected {{(long)InputLength * batchSize}} input values ({{batchSize}} image(s) of {spec.Input} = {spec.Input.Length} values each), but got {{length}}.\", name);");
        w.Close();
        w.Line();

        // ---- Forward
        string logits = body.Count == 0 ? "inputs" : Act(body[body.Count - 1]);
        w.Line("// ---- Passes -------------------------------------------------------------------------");
        w.Line($"/// <summary>Runs one image ({spec.Input}, C,H,W row-major); writes {outputs} {(spec.EndsWithSoftmax ? "class probabilities" : "logits")}.</summary>");
        w.Line($"public void Forward({ReadOnlySpan} input, {Span} output) => Forward(input, output, 1);");
        w.Line();
        w.Line($"/// <summary>Runs <paramref name=\"batchSize\"/> images, one after the other in <paramref name=\"inputs\"/>; writes {outputs} values per image.</summary>");
        w.Open($"public void Forward({ReadOnlySpan} inputs, {Span} outputs, int batchSize)");
        w.Line("CheckInputs(inputs.Length, batchSize, nameof(inputs));");
        w.Line("if (outputs.Length != (long)OutputLength * batchSize)");
        w.Line($"    throw new global::System.ArgumentException($\"{cls}: expected room for {{(long)OutputLength * batchSize}} output values ({{batchSize}} x {outputs}), but got {{outputs.Length}}.\", nameof(outputs));");
        w.Line("EnsureForwardBuffers(batchSize);");
        w.Line("RunForward(inputs, batchSize);");
        w.Line($"{ReadOnlySpan} logits = {(body.Count == 0 ? "inputs" : "new " + ReadOnlySpan + "(" + logits + ")")}.Slice(0, batchSize * OutputLength);");
        if (spec.EndsWithSoftmax)
        {
            w.Line("for (int b = 0; b < batchSize; b++)");
            w.Line($"    {Kernels}.SoftmaxCrossEntropy.Softmax(logits.Slice(b * OutputLength, OutputLength), outputs.Slice(b * OutputLength, OutputLength));");
        }
        else w.Line("logits.CopyTo(outputs);");
        w.Close();
        w.Line();

        w.Line("/// <summary>The most probable class of one image.</summary>");
        w.Open($"public int Predict({ReadOnlySpan} input)");
        w.Line("Forward(input, _prediction, 1);");
        w.Line("int best = 0;");
        w.Line("for (int i = 1; i < OutputLength; i++)");
        w.Line("    if (_prediction[i] > _prediction[best]) best = i;");
        w.Line("return best;");
        w.Close();
        w.Line();

        // ---- ComputeGradients
        w.Line("/// <summary>");
        w.Line("/// Forward, softmax cross-entropy averaged over the batch (PyTorch's <c>CrossEntropyLoss</c> on the logits), backward.");
        w.Line("/// Overwrites <see cref=\"Gradients\"/> and returns the mean loss; changes no parameter.");
        w.Line("/// </summary>");
        w.Open($"public float ComputeGradients({ReadOnlySpan} inputs, global::System.ReadOnlySpan<int> labels, int batchSize)");
        w.Line("CheckInputs(inputs.Length, batchSize, nameof(inputs));");
        w.Line("if (labels.Length != batchSize)");
        w.Line($"    throw new global::System.ArgumentException($\"{cls}: expected {{batchSize}} labels, one per image, but got {{labels.Length}}.\", nameof(labels));");
        w.Line("for (int b = 0; b < batchSize; b++)");
        w.Line("    if ((uint)labels[b] >= OutputLength)");
        w.Line($"        throw new global::System.ArgumentException($\"{cls}: label {{labels[b]}} of image {{b}} is outside [0, {outputs}).\", nameof(labels));");
        w.Line("EnsureForwardBuffers(batchSize);");
        w.Line("EnsureBackwardBuffers(batchSize);");
        w.Line("var gradients = EnsureGradients();");
        w.Line("RunForward(inputs, batchSize);");
        w.Line($"{ReadOnlySpan} logits = {(body.Count == 0 ? "inputs" : "new " + ReadOnlySpan + "(" + logits + ")")};");
        w.Line("// Loss averaged over the batch; its gradient with respect to the logits is (softmax - onehot) / batchSize.");
        w.Line("double loss = 0;");
        w.Line("float scale = 1f / batchSize;");
        w.Line("for (int b = 0; b < batchSize; b++)");
        w.Line($"    loss += {Kernels}.SoftmaxCrossEntropy.LossAndGradient(logits.Slice(b * OutputLength, OutputLength), labels[b], new {Span}(_dlogits, b * OutputLength, OutputLength), scale);");
        w.Line("global::System.Array.Clear(gradients);");
        w.Line("RunBackward(inputs, batchSize);");
        w.Line("return (float)(loss / batchSize);");
        w.Close();
        w.Line();

        // ---- layer chain
        w.Open($"private void RunForward({ReadOnlySpan} inputs, int batch)");
        if (body.Count == 0) w.Line("_ = inputs; _ = batch;");
        for (int i = 0; i < body.Count; i++)
            w.Line($"{LayerEmitter.ForwardName(body[i])}({(i == 0 ? "inputs" : Act(body[i - 1]))}, {Act(body[i])}, batch);");
        w.Close();
        w.Line();
        w.Open($"private void RunBackward({ReadOnlySpan} inputs, int batch)");
        if (firstTrainable < 0) w.Line("_ = inputs; _ = batch; // nothing trainable");
        for (int i = body.Count - 1; firstTrainable >= 0 && i >= firstTrainable; i--)
        {
            string inp = i == 0 ? "inputs" : Act(body[i - 1]);
            string dinp = i > firstTrainable ? Grad(body, i - 1) : "default";
            w.Line($"{LayerEmitter.BackwardName(body[i])}({inp}, {Act(body[i])}, {Grad(body, i)}, {dinp}, batch);");
        }
        w.Close();

        // ---- layers, forward and backward side by side
        for (int i = 0; i < body.Count; i++)
        {
            var l = body[i];
            var emitter = LayerEmitter.For(l.Kind);
            w.Line();
            w.Line($"// ---- {l.Name}: {Describe(l)} ----");
            emitter.Forward(w, l);
            if (firstTrainable >= 0 && i >= firstTrainable)
            {
                w.Line();
                emitter.Backward(w, l, needInputGradient: i > firstTrainable);
            }
        }
    }

    private static void EmitEnsure(SourceWriter w, string name, string capacity, IEnumerable<Scratch> buffers)
    {
        w.Open($"private void {name}(int batchSize)");
        w.Line($"if (batchSize <= {capacity}) return;");
        foreach (var b in buffers)
        {
            if (b.PerBatch) w.Line($"{b.Field} = Allocate<{b.ElementType}>({b.PerImage}L * batchSize, batchSize);");
            else w.Line($"if ({b.Field}.Length == 0) {b.Field} = new {b.ElementType}[{b.PerImage}]; // one image at a time");
        }
        w.Line($"{capacity} = batchSize;");
        w.Close();
    }

    private static string Act(LayerSpec l) => "_act_" + l.Name;

    /// <summary>The gradient of a body layer's output; the last one's is the gradient of the logits.</summary>
    private static string Grad(List<LayerSpec> body, int i) => i == body.Count - 1 ? "_dlogits" : "_grad_" + body[i].Name;

    private static string Describe(LayerSpec l) => l.Kind switch
    {
        LayerKind.Conv => $"{l.Kernel}x{l.Kernel} convolution, {l.Units} filters, stride {l.Stride}, padding {l.Padding}: {l.Input} -> {l.Output}",
        LayerKind.MaxPool or LayerKind.AvgPool => $"{l.Kind} {l.Kernel}x{l.Kernel}, stride {l.Stride}, padding {l.Padding}: {l.Input} -> {l.Output}",
        LayerKind.Dense => $"dense {l.Input.Length} -> {l.Units}{(l.InputIsFlat ? "" : $" (flattens {l.Input})")}",
        _ => $"{l.Kind} over {l.Input.Length} values",
    };
}
