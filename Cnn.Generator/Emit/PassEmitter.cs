using System.Collections.Generic;
using System.Linq;
using CnnGen.Generator.Emit.Layers;
using CnnGen.Generator.Model;

namespace CnnGen.Generator.Emit;

/// <summary>
/// Emits the passes: per-worker workspaces (buffers allocated once per batch size), <c>Forward</c>, <c>Predict</c>,
/// <c>ComputeGradients</c>, and every layer's forward and backward methods. A batch is split into contiguous chunks,
/// one per worker thread; gradients and losses are added up in worker order, so results are deterministic for a
/// given thread count. A final <c>[Softmax]</c> is not run as a layer: <c>Forward</c> applies it to the logits and
/// <c>ComputeGradients</c> fuses it with the cross-entropy (<c>dlogits = y_hat - y</c>).
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
        var gradients = new GradientFlow(spec, body, firstTrainable);

        var buffers = new List<Scratch>();
        for (int i = 0; i < body.Count; i++)
        {
            buffers.Add(new Scratch(Act(body[i]), "float", body[i].Output.Length, PerBatch: true, BackwardOnly: false));
            if (gradients.HasGradientBuffer(i))
                buffers.Add(new Scratch(gradients.Grad(i), "float", body[i].Output.Length, PerBatch: true, BackwardOnly: true));
            buffers.AddRange(LayerEmitter.For(body[i]).Buffers(body[i], needInputGradient: gradients.NeedsInputGradient(body[i])));
            if (gradients.WritesAside(body[i]))
                buffers.Add(new Scratch(GradientFlow.Aside(body[i]), "float", body[i].Input.Length, PerBatch: true, BackwardOnly: true));
        }
        buffers.Add(new Scratch("_dlogits", "float", outputs, PerBatch: true, BackwardOnly: true));

        // Images per micro-batch: as many as keep one image's buffers for forward and backward within about 768 KiB,
        // so each layer's data is still in cache when the next layer (or the backward pass) reads it.
        long bytesPerImage = 4 * buffers.Where(b => b.PerBatch || b.PerBatchWhenTraining).Sum(b => b.PerImage);
        long microBatch = System.Math.Max(1, System.Math.Min(64, 786432 / System.Math.Max(1, bytesPerImage)));
        w.Line($"/// <summary>Images run through all layers together (forward, then backward): chosen at compile time so that");
        w.Line($"/// one micro-batch's activations ({bytesPerImage:N0} bytes per image) stay in cache.</summary>");
        w.Line($"public const int MicroBatch = {microBatch};");
        w.Line();
        EmitWorkspace(w, cls, buffers, spec.HasBatchNorm);
        w.Line();
        EmitThreads(w, cls);
        w.Line();
        EmitChecks(w, spec);
        w.Line();
        EmitForward(w, spec, body);
        w.Line();
        EmitActivations(w, spec, body);
        w.Line();
        EmitComputeGradients(w, spec, body);
        w.Line();
        EmitFreezing(w, spec, body);
        w.Line();
        if (spec.HasBatchNorm)
        {
            BatchStatisticsEmitter.Emit(w, spec, body);
            w.Line();
        }
        EmitChains(w, spec, body, gradients);

        for (int i = 0; i < body.Count; i++)
        {
            var l = body[i];
            var emitter = LayerEmitter.For(l);
            w.Line();
            w.Line($"// ---- {l.Name}: {Describe(l)} ----");
            emitter.Forward(w, l, spec);
            if (gradients.RunsBackward(i))
            {
                w.Line();
                emitter.Backward(w, l, needInputGradient: gradients.NeedsInputGradient(l));
            }
        }
    }

    /// <summary>One worker's buffers: layer outputs, their gradients, kernel scratch, its share of the gradients and loss.</summary>
    private static void EmitWorkspace(SourceWriter w, string cls, List<Scratch> buffers, bool batchNorm)
    {
        w.Line("// ---- Workspaces: one per worker thread, buffers grown on first use and then reused ---");
        w.Line("/// <summary>The buffers of one worker thread.</summary>");
        w.Open("private sealed class Workspace");
        w.Line("/// <summary>True while computing gradients: layers keep what the backward pass needs.</summary>");
        w.Line("public bool KeepForBackward;");
        w.Line("/// <summary>The network's training mode for this pass (dropout drops values, BatchNorm uses the batch's statistics).</summary>");
        w.Line("public bool TrainMode;");
        if (batchNorm)
        {
            w.Line("/// <summary>This workspace's worker: worker 0 updates the running statistics.</summary>");
            w.Line("public int Worker;");
            w.Line("/// <summary>Evaluation with each BatchNorm folded into the convolution before it (those convolutions read <c>_folded</c>).</summary>");
            w.Line("public bool Folded;");
        }
        w.Line("/// <summary>Index within the whole batch of the first image of the current micro-batch.</summary>");
        w.Line("public int ImageOffset;");
        w.Line("/// <summary>Where this worker adds its parameter gradients (worker 0: the network's own buffer).</summary>");
        w.Line("public float[] Gradients = global::System.Array.Empty<float>();");
        w.Line("/// <summary>Sum of this worker's per-image losses.</summary>");
        w.Line("public double Loss;");
        w.Line("/// <summary>This worker's images whose highest logit was their label.</summary>");
        w.Line("public int Correct;");
        foreach (var b in buffers)
            w.Line($"public {b.ElementType}[] {b.Field} = global::System.Array.Empty<{b.ElementType}>();");
        w.Line();
        w.Open("public void Ensure(int batch, bool training)");
        foreach (var b in buffers.Where(b => !b.BackwardOnly))
            w.Line($"Grow(ref {b.Field}, {Length(b, "training")}, batch);");
        w.Line("if (!training) return;");
        foreach (var b in buffers.Where(b => b.BackwardOnly))
            w.Line($"Grow(ref {b.Field}, {Length(b, "true")}, batch);");
        w.Close();
        w.Line();
        w.Open("private static void Grow<T>(ref T[] buffer, long length, int batch)");
        w.Line("if (buffer.Length >= length) return;");
        w.Line("if (length > global::System.Array.MaxLength)");
        w.Line($"    throw new global::System.ArgumentOutOfRangeException(nameof(batch), batch, $\"{cls}: a batch of {{batch}} images needs a buffer of {{length}} values, more than an array holds; use smaller batches.\");");
        w.Line("buffer = new T[length];");
        w.Close();
        w.Close();
    }

    private static string Length(Scratch b, string training) =>
        b.PerBatch ? $"{b.PerImage}L * batch"
        : b.PerBatchWhenTraining ? $"{training} ? {b.PerImage}L * batch : {b.PerImage}L"
        : $"{b.PerImage}L";

    private static void EmitThreads(SourceWriter w, string cls)
    {
        w.Line("private Workspace[] _workspaces = { new Workspace() };");
        w.Line("private global::CnnGen.Parallelism.BatchChunk? _forwardChunk, _gradientChunk;");
        w.Line("private readonly float[] _prediction = new float[OutputLength];");
        w.Line($"private readonly global::CnnGen.Parallelism.CallGuard _callGuard = new(\"{cls}\");");
        w.Line("private int _threads = 1;");
        w.Line("private ulong _dropoutSeed;");
        w.Line();
        w.Line("/// <summary>Training mode: dropout zeroes values and BatchNorm normalises by the batch and updates its running statistics");
        w.Line("/// (in <c>Forward</c> too, as PyTorch's <c>train()</c>). False, the default, is evaluation mode. The trainer switches it on");
        w.Line("/// while fitting and off to evaluate.</summary>");
        w.Line("public bool Training { get; set; }");
        w.Line();
        w.Line("/// <summary>The training step whose dropout masks are drawn (the trainer sets the optimiser's step count), so");
        w.Line("/// masks depend on the seed, the step and the image, never on threads or timing.</summary>");
        w.Line("public long Step { get; set; }");
        w.Line("private float _lossScale;");
        w.Line();
        w.Line("/// <summary>Images of the last <see cref=\"ComputeGradients\"/> batch whose highest logit was their label.</summary>");
        w.Line("public int LastCorrect { get; private set; }");
        w.Line();
        w.Line("/// <summary>Worker threads a batch is split over (1 by default). Results are deterministic for a given count.</summary>");
        w.Open("public int Threads");
        w.Line("get => _threads;");
        w.Open("set");
        w.Line("if (value < 1)");
        w.Line($"    throw new global::System.ArgumentOutOfRangeException(nameof(value), value, \"{cls}: Threads must be at least 1.\");");
        w.Line("_threads = value;");
        w.Close();
        w.Close();
        w.Line();
        w.Open("private int PrepareWorkers(int batchSize)");
        w.Line("int workers = global::System.Math.Min(_threads, batchSize);");
        w.Open("if (_workspaces.Length < workers)");
        w.Line("var grown = new Workspace[workers];");
        w.Line("for (int t = 0; t < workers; t++) grown[t] = t < _workspaces.Length ? _workspaces[t] : new Workspace();");
        w.Line("_workspaces = grown;");
        w.Close();
        w.Line("return workers;");
        w.Close();
    }

    private static void EmitChecks(SourceWriter w, NetworkSpec spec)
    {
        string cls = spec.ClassName;
        w.Open("private static void CheckInputs(int length, int batchSize, string name)");
        w.Line("if (batchSize <= 0)");
        w.Line($"    throw new global::System.ArgumentOutOfRangeException(nameof(batchSize), batchSize, \"{cls}: the batch size must be positive.\");");
        w.Line("if (length != (long)InputLength * batchSize)");
        w.Line($"    throw new global::System.ArgumentException($\"{cls}: expected {{(long)InputLength * batchSize}} input values ({{batchSize}} image(s) of {spec.Input} = {spec.Input.Length} values each), but got {{length}}.\", name);");
        w.Close();
    }

    private static void EmitForward(SourceWriter w, NetworkSpec spec, List<LayerSpec> body)
    {
        string cls = spec.ClassName;
        long outputs = spec.Output.Length;
        w.Line("// ---- Passes -------------------------------------------------------------------------");
        w.Line($"/// <summary>Runs one image ({spec.Input}, C,H,W row-major); writes {outputs} {(spec.EndsWithSoftmax ? "class probabilities" : "logits")}.</summary>");
        w.Line($"public void Forward({ReadOnlySpan} input, {Span} output) => Forward(input, output, 1);");
        w.Line();
        w.Line($"/// <summary>Runs <paramref name=\"batchSize\"/> images, one after the other in <paramref name=\"inputs\"/>; writes {outputs} values per image.</summary>");
        w.Open($"public void Forward({ReadOnlySpan} inputs, {Span} outputs, int batchSize)");
        w.Line("CheckInputs(inputs.Length, batchSize, nameof(inputs));");
        w.Line("if (outputs.Length != (long)OutputLength * batchSize)");
        w.Line($"    throw new global::System.ArgumentException($\"{cls}: expected room for {{(long)OutputLength * batchSize}} output values ({{batchSize}} x {outputs}), but got {{outputs.Length}}.\", nameof(outputs));");
        w.Line("using var call = _callGuard.Enter(nameof(Forward));");
        w.Line("ForwardBatch(inputs, outputs, batchSize);");
        w.Close();
        w.Line();
        w.Open($"private void ForwardBatch({ReadOnlySpan} inputs, {Span} outputs, int batchSize)");
        w.Line("int workers = PrepareWorkers(batchSize);");
        if (spec.HasBatchNorm)
        {
            w.Line("if (Training) PrepareBatchStatistics(workers, batchSize, training: false);");
            w.Line("else if (FoldBatchNorm) FoldBatchNorms();");
        }
        w.Line("if (workers == 1) ForwardChunk(0, 0, batchSize, inputs, default, outputs);");
        w.Line("else global::CnnGen.Parallelism.WorkerPool.Shared.Run(workers, batchSize, InputLength, inputs, default, OutputLength, outputs, _forwardChunk ??= ForwardChunk);");
        w.Close();
        w.Line();
        w.Open($"private void ForwardChunk(int worker, int start, int count, {ReadOnlySpan} inputs, global::System.ReadOnlySpan<int> labels, {Span} outputs)");
        w.Line("var ws = _workspaces[worker];");
        w.Line("ws.KeepForBackward = false;");
        w.Line("ws.TrainMode = Training;");
        string step = BeginChunk(w, spec, training: false);
        w.Open($"for (int first = 0; first < count; first += {step})");
        w.Line($"int n = global::System.Math.Min({step}, count - first);");
        w.Line("var x = inputs.Slice(first * InputLength, n * InputLength);");
        w.Line("ws.ImageOffset = start + first;");
        w.Line("RunForward(ws, x, n);");
        w.Line($"{ReadOnlySpan} logits = {Logits(spec, "x")}.Slice(0, n * OutputLength);");
        w.Line("var y = outputs.Slice(first * OutputLength, n * OutputLength);");
        if (spec.EndsWithSoftmax)
        {
            w.Line("for (int b = 0; b < n; b++)");
            w.Line($"    {Kernels}.SoftmaxCrossEntropy.Softmax(logits.Slice(b * OutputLength, OutputLength), y.Slice(b * OutputLength, OutputLength));");
        }
        else w.Line("logits.CopyTo(y);");
        w.Close();
        EndChunk(w, spec);
        w.Close();
        w.Line();
        w.Line("/// <summary>The most probable class of one image.</summary>");
        w.Open($"public int Predict({ReadOnlySpan} input)");
        w.Line("CheckInputs(input.Length, 1, nameof(input));");
        w.Line("using var call = _callGuard.Enter(nameof(Predict));");
        w.Line("ForwardBatch(input, _prediction, 1);");
        w.Line("int best = 0;");
        w.Line("for (int i = 1; i < OutputLength; i++)");
        w.Line("    if (_prediction[i] > _prediction[best]) best = i;");
        w.Line("return best;");
        w.Close();
    }

    /// <summary><c>Activations</c>: every layer's own output for one image, for looking inside the network (seed 003).</summary>
    private static void EmitActivations(SourceWriter w, NetworkSpec spec, List<LayerSpec> body)
    {
        w.Line("/// <summary>");
        w.Line("/// Runs one image in evaluation mode and returns every layer's output, in <see cref=\"Layers\"/> order (C,H,W row-major),");
        w.Line("/// for visualising feature maps (seed 003). Nothing is fused or folded here, so each layer's own output is there.");
        w.Line("/// Allocates the returned arrays; use <c>Forward</c> for speed.");
        w.Line("/// </summary>");
        w.Open($"public float[][] Activations({ReadOnlySpan} input)");
        w.Line("CheckInputs(input.Length, 1, nameof(input));");
        w.Line("using var call = _callGuard.Enter(nameof(Activations));");
        w.Line("PrepareWorkers(1);");
        w.Line("var ws = _workspaces[0];");
        w.Line("ws.KeepForBackward = true; // the unfused path: every layer writes its own output");
        w.Line("ws.TrainMode = false;");
        if (spec.HasBatchNorm)
        {
            w.Line("ws.Worker = 0;");
            w.Line("ws.Folded = false;");
        }
        w.Line("ws.ImageOffset = 0;");
        w.Line("ws.Ensure(1, training: true);");
        w.Line("RunForward(ws, input, 1);");
        w.Line($"var outputs = new float[{spec.Layers.Count}][];");
        for (int i = 0; i < body.Count; i++)
            w.Line($"outputs[{i}] = new global::System.ReadOnlySpan<float>(ws.{Act(body[i])}, 0, {body[i].Output.Length}).ToArray(); // {body[i].Name}");
        if (spec.EndsWithSoftmax)
        {
            int last = spec.Layers.Count - 1;
            w.Line($"outputs[{last}] = new float[OutputLength]; // {spec.Layers[last].Name}");
            w.Line($"{Kernels}.SoftmaxCrossEntropy.Softmax({(spec.OutputLayer < 0 ? "input" : $"outputs[{spec.OutputLayer}]")}, outputs[{last}]);");
        }
        w.Line("return outputs;");
        w.Close();
    }

    private static void EmitComputeGradients(SourceWriter w, NetworkSpec spec, List<LayerSpec> body)
    {
        string cls = spec.ClassName;
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
        w.Line($"        throw new global::System.ArgumentException($\"{cls}: label {{labels[b]}} of image {{b}} is outside [0, {spec.Output.Length}).\", nameof(labels));");
        w.Line("using var call = _callGuard.Enter(nameof(ComputeGradients));");
        w.Line("int workers = PrepareWorkers(batchSize);");
        w.Line("var gradients = EnsureGradients();");
        w.Line("_workspaces[0].Gradients = gradients;");
        w.Line("_lossScale = 1f / batchSize;");
        if (spec.HasBatchNorm) w.Line("if (Training) PrepareBatchStatistics(workers, batchSize, training: true);");
        w.Line("if (workers == 1) GradientChunk(0, 0, batchSize, inputs, labels, default);");
        w.Line("else global::CnnGen.Parallelism.WorkerPool.Shared.Run(workers, batchSize, InputLength, inputs, labels, 0, default, _gradientChunk ??= GradientChunk);");
        w.Line("// Add the workers' shares in worker order, so the sum is the same on every run.");
        w.Line("double loss = _workspaces[0].Loss;");
        w.Line("int correct = _workspaces[0].Correct;");
        w.Open("for (int t = 1; t < workers; t++)");
        w.Line("global::System.Numerics.Tensors.TensorPrimitives.Add(gradients, _workspaces[t].Gradients, gradients);");
        w.Line("loss += _workspaces[t].Loss;");
        w.Line("correct += _workspaces[t].Correct;");
        w.Close();
        w.Line("LastCorrect = correct;");
        w.Line("return (float)(loss / batchSize);");
        w.Close();
        w.Line();
        w.Open($"private void GradientChunk(int worker, int start, int count, {ReadOnlySpan} inputs, global::System.ReadOnlySpan<int> labels, {Span} outputs)");
        w.Line("var ws = _workspaces[worker];");
        w.Line("if (ws.Gradients.Length != ParameterCount) ws.Gradients = new float[ParameterCount];");
        w.Line("global::System.Array.Clear(ws.Gradients);");
        w.Line("ws.KeepForBackward = true;");
        w.Line("ws.TrainMode = Training;");
        w.Line("double loss = 0;");
        w.Line("int correct = 0;");
        string step = BeginChunk(w, spec, training: true);
        w.Open($"for (int first = 0; first < count; first += {step})");
        w.Line($"int n = global::System.Math.Min({step}, count - first);");
        w.Line("var x = inputs.Slice(first * InputLength, n * InputLength);");
        w.Line("ws.ImageOffset = start + first;");
        w.Line("RunForward(ws, x, n);");
        w.Line("// Loss of each image; its gradient with respect to the logits is (softmax - onehot) / batchSize.");
        w.Open("for (int b = 0; b < n; b++)");
        w.Line($"var logits = {Logits(spec, "x")}.Slice(b * OutputLength, OutputLength);");
        w.Line($"loss += {Kernels}.SoftmaxCrossEntropy.LossAndGradient(logits, labels[first + b], new {Span}(ws._dlogits, b * OutputLength, OutputLength), _lossScale);");
        w.Line($"if ({Kernels}.SoftmaxCrossEntropy.ArgMax(logits) == labels[first + b]) correct++;");
        w.Close();
        w.Line("RunBackward(ws, x, n); // adds this micro-batch's parameter gradients to ws.Gradients");
        w.Close();
        EndChunk(w, spec);
        w.Line("ws.Loss = loss;");
        w.Line("ws.Correct = correct;");
        w.Close();
    }

    /// <summary>Sizes the workspace and returns the micro-batch expression. With BatchNorm in training mode a worker's whole
    /// chunk is one micro-batch (its statistics are the batch's), run inside a try that leaves the barrier on failure.</summary>
    private static string BeginChunk(SourceWriter w, NetworkSpec spec, bool training)
    {
        string flag = training ? "true" : "false";
        if (!spec.HasBatchNorm)
        {
            w.Line($"ws.Ensure(global::System.Math.Min(count, MicroBatch), training: {flag});");
            return "MicroBatch";
        }
        w.Line("ws.Worker = worker;");
        w.Line(training ? "ws.Folded = false;" : "ws.Folded = !ws.TrainMode && FoldBatchNorm;");
        w.Line("// Training-mode BatchNorm needs the whole batch's statistics: the chunk is one micro-batch.");
        w.Line("int step = ws.TrainMode ? count : MicroBatch;");
        w.Line($"ws.Ensure(global::System.Math.Min(count, step), training: {flag});");
        w.Open("try");
        return "step";
    }

    private static void EndChunk(SourceWriter w, NetworkSpec spec)
    {
        if (!spec.HasBatchNorm) return;
        w.Close();
        w.Open("catch");
        w.Line("if (ws.TrainMode) LeaveBarrier();");
        w.Line("throw;");
        w.Close();
    }

    /// <summary>Per-layer frozen flags (from <c>Frozen = true</c>), <c>Freeze</c>/<c>Unfreeze</c> by name, and the first
    /// layer whose parameters train, below which the backward pass stops.</summary>
    private static void EmitFreezing(SourceWriter w, NetworkSpec spec, List<LayerSpec> body)
    {
        string cls = spec.ClassName;
        w.Line("// ---- Freezing ------------------------------------------------------------------------");
        w.Line($"private readonly bool[] _frozen = {{ {string.Join(", ", spec.Layers.Select(l => l.Frozen ? "true" : "false"))} }};");
        w.Line();
        w.Line("/// <summary>Stops training a layer: its gradients are no longer computed and the trainer leaves its parameters unchanged.</summary>");
        w.Line("public void Freeze(string layer) => _frozen[TrainableLayerIndex(layer)] = true;");
        w.Line();
        w.Line("/// <summary>Lets a frozen layer train again.</summary>");
        w.Line("public void Unfreeze(string layer) => _frozen[TrainableLayerIndex(layer)] = false;");
        w.Line();
        w.Line("/// <summary>Whether a layer with parameters is frozen.</summary>");
        w.Line("public bool IsFrozen(string layer) => _frozen[TrainableLayerIndex(layer)];");
        w.Line();
        // The lookup walks Layers at run time: each name is written once however deep the network is.
        w.Line($"private static int TrainableLayerIndex(string layer) => global::CnnGen.GeneratedNetworks.TrainableLayers.IndexOf(\"{cls}\", Layers, layer);");
        w.Line();
        w.Line("/// <summary>Position (among the layers) of the first layer with parameters that is not frozen; past the end when none is.</summary>");
        w.Open("private int FirstActiveLayer()");
        foreach (var l in body.Where(l => l.Kind.HasParameters()))
            w.Line($"if (!_frozen[{l.Index}]) return {l.Index};");
        w.Line($"return {spec.Layers.Count};");
        w.Close();
    }

    private static void EmitChains(SourceWriter w, NetworkSpec spec, List<LayerSpec> body, GradientFlow gradients)
    {
        w.Open($"private void RunForward(Workspace ws, {ReadOnlySpan} inputs, int batch)");
        if (body.Count == 0) w.Line("_ = ws; _ = inputs; _ = batch;");
        for (int i = 0; i < body.Count; i++)
        {
            string call = $"{LayerEmitter.ForwardName(body[i])}(ws, {Input(spec, body[i])}, ws.{Act(body[i])}, batch);";
            // A layer whose output a convolution writes only when BatchNorms are folded runs when they are not.
            if (body[i].InferredBy >= 0 && body[i].InferredOnlyWhenFolded)
                call = $"if (!ws.Folded) {call} // else {spec.Layers[body[i].InferredBy].Name} " +
                       (body[i].Kind == LayerKind.BatchNorm ? "wrote this output with folded weights" : "applied this ReLU as it stored the folded output");
            w.Line(call);
        }
        w.Close();
        w.Line();
        gradients.EmitBackward(w);
    }

    /// <summary>What a layer reads: the network input, or an earlier layer's output buffer.</summary>
    internal static string Input(NetworkSpec spec, LayerSpec l) => l.InputIndex < 0 ? "inputs" : "ws." + Act(spec.Layers[l.InputIndex]);

    /// <summary>The logits: the output layer's output, or the input itself when the network is only a softmax.</summary>
    private static string Logits(NetworkSpec spec, string input) => spec.OutputLayer < 0 ? input : $"new {ReadOnlySpan}(ws.{Act(spec.Layers[spec.OutputLayer])})";

    internal static string Act(LayerSpec l) => "_act_" + l.Id;

    private static string Describe(LayerSpec l) => l.Op switch
    {
        ConvOp c => $"{c.Kernel}x{c.Kernel} convolution, {c.Filters} filters{(c.Groups > 1 ? $" in {c.Groups} groups" : "")}, stride {c.Stride}, padding {c.Padding}: {l.Input} -> {l.Output}",
        PoolOp p => $"{l.Kind} {p.Size}x{p.Size}, stride {p.Stride}, padding {p.Padding}: {l.Input} -> {l.Output}",
        DenseOp d => $"dense {l.Input.Length} -> {d.Units}{(l.InputIsFlat ? "" : $" (flattens {l.Input})")}",
        JoinOp j when l.Kind == LayerKind.Add => $"shortcut: adds {string.Join(", ", j.SourceNames)}'s output, {l.Output}",
        JoinOp j => $"dense connection: {l.Input} followed by {string.Join(", ", j.SourceNames)}'s channels, {l.Output}",
        BatchNormOp b => l.Spatial == 1 ? $"batch normalisation of {b.Channels} units" : $"batch normalisation of {b.Channels} channels over {l.Input.Height}x{l.Input.Width} positions",
        _ => $"{l.Kind} over {l.Input.Length} values",
    };
}
