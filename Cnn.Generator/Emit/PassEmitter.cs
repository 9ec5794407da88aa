using System.Collections.Generic;
using System.Linq;
using CnnGen.Generator.Analysis;
using CnnGen.Generator.Emit.Layers;
using CnnGen.Generator.Model;

namespace CnnGen.Generator.Emit;

/// <summary>
/// Emits the passes: the per-worker workspace (buffers allocated once per batch size), the network's side of the
/// runtime's <c>NetworkPasses</c> (which holds the checks, the call guard, the worker threads, the micro-batch loops,
/// the loss and the sum over workers, the same for every network), <c>Forward</c>, <c>Predict</c>,
/// <c>ComputeGradients</c> and <c>Activations</c> handing over to it, and every layer's forward and backward methods.
/// A final <c>[Softmax]</c> is not run as a layer: <c>Forward</c> applies it to the logits and <c>ComputeGradients</c>
/// fuses it with the cross-entropy (<c>dlogits = y_hat - y</c>).
/// </summary>
internal static class PassEmitter
{
    private const string Span = "global::System.Span<float>";
    private const string ReadOnlySpan = "global::System.ReadOnlySpan<float>";
    private const string Kernels = "global::CnnGen.Kernels";
    private const string Runtime = "global::CnnGen.GeneratedNetworks";

    public static void Emit(SourceWriter w, NetworkSpec spec)
    {
        var body = spec.EndsWithSoftmax ? spec.Layers.Take(spec.Layers.Count - 1).ToList() : spec.Layers.ToList();
        int firstTrainable = body.FindIndex(l => l.Kind.HasParameters());
        string cls = spec.ClassName;
        long outputs = spec.Output.Length;
        var gradients = new GradientFlow(spec, body, firstTrainable);
        // With BatchNorm in training mode a worker's whole chunk is one backward call (its statistics are the batch's), so
        // columns kept per image would grow with the batch: those networks' convolutions rebuild them in backward, as do
        // convolutions whose training forward runs the direct or Winograd kernel (they make no columns) or whose weight gradient
        // runs Winograd's (it reads none). Other convolutions keep them, counted in the micro-batch's cache budget below.
        LayerEmitter EmitterFor(LayerSpec l) =>
            (spec.HasBatchNorm || l.DirectTraining || l.WinogradTraining || l.WinogradWeightGradient) && LayerEmitter.For(l) is ConvLayer ? ConvLayer.RebuildingColumns : LayerEmitter.For(l);

        var buffers = new List<Scratch>();
        for (int i = 0; i < body.Count; i++)
        {
            buffers.Add(new Scratch(Act(body[i]), "float", body[i].Output.Length, PerBatch: true, BackwardOnly: false));
            if (gradients.HasGradientBuffer(i))
                buffers.Add(new Scratch(gradients.Grad(i), "float", body[i].Output.Length, PerBatch: true, BackwardOnly: true));
            buffers.AddRange(EmitterFor(body[i]).Buffers(body[i], needInputGradient: gradients.NeedsInputGradient(body[i])));
            if (gradients.WritesAside(body[i]))
                buffers.Add(new Scratch(GradientFlow.Aside(body[i]), "float", body[i].Input.Length, PerBatch: true, BackwardOnly: true));
        }
        buffers.Add(new Scratch("_dlogits", "float", outputs, PerBatch: true, BackwardOnly: true));
        // A buffer several layers name alike (the convolutions' backward columns) is one buffer, sized for the largest.
        buffers = buffers.GroupBy(b => b.Field).Select(same => same.OrderByDescending(b => b.PerImage).First()).ToList();

        // Images per micro-batch: as many as keep their buffers in cache (in inference, at least as many as its Winograd
        // layers need to run Winograd); a gradient pass's, where the weights (and their Winograd transforms) are large
        // against one image's buffers, enough that reading them once per micro-batch costs less than its images' own traffic.
        long bytesPerImage = MicroBatchSize.BytesPerImage(buffers), weightBytes = MicroBatchSize.WeightBytes(spec, gradients.NeedsInputGradient);
        int winogradImages = MicroBatchSize.WinogradImages(spec);
        int microBatch = MicroBatchSize.ForInference(bytesPerImage, winogradImages), trainingMicroBatch = MicroBatchSize.ForGradients(bytesPerImage, weightBytes);
        w.Line($"/// <summary>Images run through all layers together (forward, then backward): chosen at compile time so that");
        w.Line($"/// one micro-batch's activations ({bytesPerImage.ToString("N0", System.Globalization.CultureInfo.InvariantCulture)} bytes per image) stay in cache" +
               (winogradImages > 1 ? $", and at least the {winogradImages} images its largest Winograd layers need per call.</summary>" : ".</summary>"));
        w.Line($"public const int MicroBatch = {microBatch};");
        int tailStart = BatchedTail.Start(body, microBatch, spec.OutputLayer);
        if (tailStart >= 0)
        {
            var tailOutputs = new HashSet<string>(body.Skip(tailStart).Select(Act));
            buffers = buffers.Select(b => tailOutputs.Contains(b.Field) ? b with { TailBlock = true } : b).ToList();
            w.Line($"/// <summary>Images whose {body[tailStart - 1].Name} outputs a batch's evaluation pass gathers before it runs the layers from");
            w.Line($"/// {body[tailStart].Name} on once for all of them, so their weights are read once per block instead of once per image.</summary>");
            w.Line($"private const int TailImages = {BatchedTail.Images};");
        }
        if (trainingMicroBatch != microBatch)
        {
            w.Line($"/// <summary>Images a gradient pass runs through all layers together: enough that the weights and transforms each");
            w.Line($"/// micro-batch reads ({weightBytes.ToString("N0", System.Globalization.CultureInfo.InvariantCulture)} bytes) are at most half of its images' buffers.</summary>");
            w.Line($"public const int TrainingMicroBatch = {trainingMicroBatch};");
        }
        w.Line();
        // Every layer's forward code is written first: which outputs an evaluation pass can share follows from what it names.
        var forwardCode = new List<SourceWriter>();
        for (int i = 0; i < body.Count; i++)
        {
            var code = new SourceWriter(w.Indent);
            EmitterFor(body[i]).Forward(code, body[i], spec);
            forwardCode.Add(code);
        }
        // A batched tail's outputs hold a block of images, so they keep their own buffers; the head's last output, which
        // the tail reads after the head, stays live to the end of the head.
        var head = tailStart >= 0 ? body.Take(tailStart).ToList() : body;
        var outputFields = head.Select(l => (Act(l), l.Output.Length)).ToList();
        var shared = OutputSharing.Plan(outputFields, forwardCode.Take(head.Count).Select((code, i) => code + "\n" + ChainCall(spec, body, i)).ToList(),
            tailStart >= 0 ? Act(body[tailStart - 1]) : spec.OutputLayer < 0 ? null : Act(spec.Layers[spec.OutputLayer]), UnwrittenWhenFolded(spec, body),
            JoinsInPlace(spec, head));
        EmitWorkspace(w, cls, buffers, shared, outputFields);
        w.Line();
        var trainingWeights = TrainingWeights.Layers(body, gradients.NeedsInputGradient);
        var winogradSums = WinogradWeightGradients.Layers(body);
        EmitPasses(w, spec, body, tailStart, keptPassValues: TrainingWeights.Values(trainingWeights, gradients.NeedsInputGradient), winogradSums: winogradSums.Count > 0, ownTrainingMicroBatch: trainingMicroBatch != microBatch);
        w.Line();
        EmitForward(w, spec);
        w.Line();
        EmitActivations(w, spec, body);
        w.Line();
        EmitComputeGradients(w);
        w.Line();
        EmitFreezing(w, spec, body);
        w.Line();
        if (spec.HasBatchNorm)
        {
            BatchStatisticsEmitter.Emit(w, spec, body);
            w.Line();
        }
        if (WinogradConv.Any(body))
        {
            WinogradConv.EmitPreparation(w, spec, body);
            w.Line();
        }
        if (FilterLanesConv.Any(body))
        {
            FilterLanesConv.EmitPreparation(w, body);
            w.Line();
        }
        if (trainingWeights.Count > 0)
        {
            TrainingWeights.EmitPreparation(w, trainingWeights, gradients.NeedsInputGradient);
            w.Line();
        }
        if (winogradSums.Count > 0)
        {
            WinogradWeightGradients.EmitMethods(w, winogradSums);
            w.Line();
        }
        EmitChains(w, spec, body, gradients, tailStart);

        for (int i = 0; i < body.Count; i++)
        {
            var l = body[i];
            var emitter = EmitterFor(l);
            w.Line();
            w.Line($"// ---- {l.Name}: {Describe(l)} ----");
            w.Append(forwardCode[i]);
            if (gradients.RunsBackward(i))
            {
                w.Line();
                emitter.Backward(w, l, needInputGradient: gradients.NeedsInputGradient(l), spec);
            }
        }
    }

    /// <summary>One worker's buffers: layer outputs, their gradients and kernel scratch (the runtime's base class holds
    /// the rest: modes, the worker's gradients and loss).</summary>
    private static void EmitWorkspace(SourceWriter w, string cls, List<Scratch> buffers, IReadOnlyList<SharedOutput> shared,
        List<(string Field, long PerImage)> outputs)
    {
        var outputFields = new HashSet<string>(outputs.Select(o => o.Field));
        w.Line("// ---- Workspaces: one per worker thread, buffers grown on first use and then reused ---");
        w.Line("/// <summary>The buffers of one worker thread.</summary>");
        w.Open($"private sealed class Workspace : {Runtime}.NetworkWorkspace");
        w.Line($"public Workspace() : base(\"{cls}\") {{ }}");
        foreach (var b in buffers)
            w.Line($"public {b.ElementType}[] {b.Field} = global::System.Array.Empty<{b.ElementType}>();");
        if (outputs.Count > 0)
        {
            w.Line($"// An evaluation pass's layer outputs take turns in {shared.Count} buffers ({shared.Sum(s => s.PerImage):N0} floats per image for " +
                   $"{outputs.Sum(o => o.PerImage):N0}); see UseSharedOutputs.");
            foreach (var s in shared)
                w.Line($"private float[] {s.Field} = global::System.Array.Empty<float>(); // {string.Join(", ", s.Outputs)}");
            w.Line($"private readonly float[][] _ownOutputs = new float[{outputs.Count}][];");
            w.Line("private bool _sharingOutputs;");
        }
        w.Line();
        w.Open("public override void Ensure(int batch, bool training)");
        if (outputs.Count > 0)
        {
            w.Line("UseSharedOutputs(!training);");
            w.Open("if (training)");
        }
        foreach (var b in buffers.Where(b => !b.BackwardOnly && outputFields.Contains(b.Field)))
            w.Line($"Grow(ref {b.Field}, {Length(b, "true")}, batch);");
        if (outputs.Count > 0)
        {
            w.Close();
            w.Open("else");
            foreach (var s in shared)
            {
                w.Line($"Grow(ref {s.Field}, {s.PerImage}L * batch, batch);");
                foreach (var o in s.Outputs) w.Line($"{o} = {s.Field};");
            }
            w.Close();
        }
        foreach (var b in buffers.Where(b => !b.BackwardOnly && !outputFields.Contains(b.Field)))
            w.Line($"Grow(ref {b.Field}, {Length(b, "training")}, batch);");
        w.Line("if (!training) return;");
        foreach (var b in buffers.Where(b => b.BackwardOnly))
            w.Line($"Grow(ref {b.Field}, {Length(b, "true")}, batch);");
        w.Close();
        if (outputs.Count > 0)
        {
            w.Line();
            w.Line("/// <summary>Evaluation passes keep layer outputs whose spans in the pass do not meet in one buffer, so the pass's data stays in");
            w.Line("/// cache; a training pass (and <c>Activations</c>) needs every layer's own. Switching keeps both sets of buffers.</summary>");
            w.Open("private void UseSharedOutputs(bool share)");
            w.Line("if (share == _sharingOutputs) return;");
            w.Line("_sharingOutputs = share;");
            w.Open("if (share)");
            for (int i = 0; i < outputs.Count; i++) w.Line($"_ownOutputs[{i}] = {outputs[i].Field};");
            w.Close();
            w.Open("else");
            for (int i = 0; i < outputs.Count; i++) w.Line($"{outputs[i].Field} = _ownOutputs[{i}];");
            w.Close();
            w.Close();
        }
        w.Close();
    }

    private static string Length(Scratch b, string training) =>
        b.TailBlock ? $"{b.PerImage}L * global::System.Math.Max(batch, TailImages)"
        : b.PerBatch && b.MostValues != long.MaxValue ? $"global::System.Math.Min({b.PerImage}L * batch, {b.MostValues}L)"
        : b.PerBatch ? $"{b.PerImage}L * batch"
        : b.PerBatchWhenTraining ? $"{training} ? {b.PerImage}L * batch : {b.PerImage}L"
        : $"{b.PerImage}L";

    /// <summary>The network's side of the runtime's passes, and the properties that go with them.</summary>
    private static void EmitPasses(SourceWriter w, NetworkSpec spec, List<LayerSpec> body, int tailStart, long keptPassValues, bool winogradSums, bool ownTrainingMicroBatch)
    {
        string cls = NetworkEmitter.Identifier(spec.ClassName);
        string logits = spec.OutputLayer < 0 ? "null" : "ws." + Act(spec.Layers[spec.OutputLayer]);
        w.Line("// ---- Passes: checks, threads, micro-batches and the loss are the runtime's; the network supplies its layers ----");
        w.Open($"private sealed class Passes : {Runtime}.NetworkPasses<Workspace>");
        w.Line($"private readonly {cls} _network;");
        w.Line($"public Passes({cls} network) : base(\"{spec.ClassName}\", InputLength, OutputLength, ParameterCount, MicroBatch, \"{spec.Input}\", " +
               $"softmax: {(spec.EndsWithSoftmax ? "true" : "false")}, batchNorm: {(spec.HasBatchNorm ? "true" : "false")}" +
               (Layers.ImageSplit.SplitsByDefault(spec) ? ", splitImages: true" : "") + (ownTrainingMicroBatch ? ", trainingMicroBatch: TrainingMicroBatch" : "") +
               (tailStart >= 0 ? $", tailInputLength: {body[tailStart - 1].Output.Length}, tailImages: TailImages" : "") +
               ") => _network = network;");
        w.Line("protected override Workspace CreateWorkspace() => new();");
        w.Line("protected override bool Training => _network.Training;");
        w.Line($"protected override void RunForward(Workspace ws, {ReadOnlySpan} inputs, int batch) => _network.RunForward(ws, inputs, batch);");
        w.Line($"protected override void RunBackward(Workspace ws, {ReadOnlySpan} inputs, int batch) => _network.RunBackward(ws, inputs, batch);");
        if (tailStart >= 0)
        {
            w.Line($"protected override void RunHead(Workspace ws, {ReadOnlySpan} inputs, int batch) => _network.RunHead(ws, inputs, batch);");
            w.Line($"protected override {ReadOnlySpan} HeadOutput(Workspace ws) => ws.{Act(body[tailStart - 1])};");
            w.Line($"protected override void RunTail(Workspace ws, {ReadOnlySpan} features, int batch) => _network.RunTail(ws, features, batch);");
        }
        w.Line($"protected override float[]? Logits(Workspace ws) => {logits};");
        w.Line("protected override float[] LogitGradients(Workspace ws) => ws._dlogits;");
        if (spec.HasBatchNorm)
        {
            w.Line("protected override bool FoldsBatchNorm => _network.FoldBatchNorm;");
            w.Open("protected override void BeforeForward(int workers, int batchSize)");
            w.Line("if (_network.Training) _network.PrepareBatchStatistics(workers, batchSize, training: false);");
            w.Line("else if (_network.FoldBatchNorm) _network.FoldBatchNorms();");
            if (WinogradConv.Any(spec.Layers)) w.Line("_network.PrepareWinogradWeights(batchSize);");
            if (FilterLanesConv.Any(spec.Layers)) w.Line("_network.PrepareFilterLanes();");
            w.Close();
            w.Line("protected override void BeforeGradients(int workers, int batchSize) => _network.PrepareBatchStatistics(workers, batchSize, training: true);");
            w.Line("protected override void LeaveBarrier() => _network.LeaveBarrier();");
        }
        else if (WinogradConv.Any(spec.Layers))
            w.Line("protected override void BeforeForward(int workers, int batchSize) => _network.PrepareWinogradWeights(batchSize);");
        if (keptPassValues > 0)
        {
            w.Line("protected override void BeforeKeptPass() => _network.EnsureTrainingWeights();");
            w.Line($"protected override long KeptPassValues => {keptPassValues};");
            w.Line("protected override void PrepareKeptPass(int part, int parts) => _network.PrepareTrainingWeights(part, parts);");
        }
        if (winogradSums) WinogradWeightGradients.EmitHooks(w);
        w.Close();
        w.Line();
        w.Line("private Passes? _passes;");
        w.Line("/// <summary>This instance's passes, made on first use (by one thread only).</summary>");
        w.Line("private Passes GeneratedPasses => _passes ?? global::System.Threading.Interlocked.CompareExchange(ref _passes, new Passes(this), null) ?? _passes!;");
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
        w.Line();
        w.Line("/// <summary>Images of the last <see cref=\"ComputeGradients\"/> batch whose highest logit was their label.</summary>");
        w.Line("public int LastCorrect => GeneratedPasses.LastCorrect;");
        w.Line();
        w.Line("/// <summary>Worker threads a batch is split over (1 by default). Results are deterministic for a given count.</summary>");
        w.Line("public int Threads { get => GeneratedPasses.Threads; set => GeneratedPasses.Threads = value; }");
        w.Line();
        w.Line(Layers.ImageSplit.SplitsByDefault(spec)
            ? $"/// <summary>Split the large layers of an image over the threads when a forward pass has fewer images than threads (true by default: {spec.ForwardMacs.ToString("N0", System.Globalization.CultureInfo.InvariantCulture)} multiply-adds per image).</summary>"
            : "/// <summary>Split the large layers of an image over the threads when a forward pass has fewer images than threads (false by default).</summary>");
        w.Line("public bool SplitImages { get => GeneratedPasses.SplitImages; set => GeneratedPasses.SplitImages = value; }");
        w.Line();
        w.Line("/// <summary>Evaluation passes prepare their derived weights (folds, transforms) once and reuse them until the weights can have");
        w.Line("/// changed through this network, instead of checking every call (false by default); see <see cref=\"global::CnnGen.INetwork.FixedWeights\"/>.</summary>");
        w.Line("public bool FixedWeights { get => GeneratedPasses.FixedWeights; set => GeneratedPasses.FixedWeights = value; }");
    }

    private static void EmitForward(SourceWriter w, NetworkSpec spec)
    {
        long outputs = spec.Output.Length;
        w.Line("// ---- Passes -------------------------------------------------------------------------");
        w.Line($"/// <summary>Runs one image ({spec.Input}, C,H,W row-major); writes {outputs} {(spec.EndsWithSoftmax ? "class probabilities" : "logits")}.</summary>");
        w.Line($"public void Forward({ReadOnlySpan} input, {Span} output) => Forward(input, output, 1);");
        w.Line();
        w.Line($"/// <summary>Runs <paramref name=\"batchSize\"/> images, one after the other in <paramref name=\"inputs\"/>; writes {outputs} values per image.</summary>");
        w.Line($"public void Forward({ReadOnlySpan} inputs, {Span} outputs, int batchSize) => GeneratedPasses.Forward(inputs, outputs, batchSize, nameof(Forward));");
        w.Line();
        w.Line("/// <summary>The most probable class of one image.</summary>");
        w.Line($"public int Predict({ReadOnlySpan} input) => GeneratedPasses.Predict(input, nameof(Predict));");
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
        w.Line("var passes = GeneratedPasses;");
        w.Line("passes.CheckInputs(input.Length, 1, nameof(input));");
        w.Line("using var call = passes.Enter(nameof(Activations));");
        w.Line("var ws = passes.RunUnfused(input);");
        w.Line($"var outputs = new float[{spec.Layers.Count}][];");
        for (int i = 0; i < body.Count; i++)
            w.Line($"outputs[{i}] = new global::System.ReadOnlySpan<float>(ws.{Act(body[i])}, 0, {body[i].Output.Length}).ToArray(); // {body[i].Name}");
        if (spec.EndsWithSoftmax)
        {
            int last = spec.Layers.Count - 1;
            w.Line($"outputs[{last}] = new float[OutputLength]; // {spec.Layers[last].Name}");
            w.Line($"{Kernels}.SoftmaxCrossEntropy.Softmax({(spec.OutputLayer < 0 ? "input" : $"outputs[{spec.OutputLayer}]")}, outputs[{last}]);");
        }
        else if (body.Count == 0) w.Line("_ = ws;");
        w.Line("return outputs;");
        w.Close();
    }

    private static void EmitComputeGradients(SourceWriter w)
    {
        w.Line("/// <summary>");
        w.Line("/// Forward, softmax cross-entropy averaged over the batch (PyTorch's <c>CrossEntropyLoss</c> on the logits), backward.");
        w.Line("/// Overwrites <see cref=\"Gradients\"/> and returns the mean loss; changes no parameter.");
        w.Line("/// </summary>");
        w.Line($"public float ComputeGradients({ReadOnlySpan} inputs, global::System.ReadOnlySpan<int> labels, int batchSize) =>");
        w.Line("    GeneratedPasses.ComputeGradients(inputs, labels, batchSize, EnsureGradients(), nameof(ComputeGradients));");
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

    private static void EmitChains(SourceWriter w, NetworkSpec spec, List<LayerSpec> body, GradientFlow gradients, int tailStart)
    {
        w.Open($"private void RunForward(Workspace ws, {ReadOnlySpan} inputs, int batch)");
        if (body.Count == 0) w.Line("_ = ws; _ = inputs; _ = batch;");
        if (tailStart >= 0)
        {
            w.Line("RunHead(ws, inputs, batch);");
            w.Line($"RunTail(ws, ws.{Act(body[tailStart - 1])}, batch);");
            w.Close();
            w.Line();
            w.Line($"/// <summary>The layers up to {body[tailStart - 1].Name}, whose output the tail reads.</summary>");
            w.Open($"private void RunHead(Workspace ws, {ReadOnlySpan} inputs, int batch)");
            for (int i = 0; i < tailStart; i++) w.Line(ChainCall(spec, body, i));
            w.Close();
            w.Line();
            w.Line($"/// <summary>The layers from {body[tailStart].Name} on, over <paramref name=\"batch\"/> images of {body[tailStart - 1].Name}'s output ({body[tailStart - 1].Output.Length} values each): a batch's evaluation");
            w.Line("/// pass runs them once per block of images (see TailImages), other passes after each micro-batch's head.</summary>");
            w.Open($"private void RunTail(Workspace ws, {ReadOnlySpan} features, int batch)");
            w.Line(ChainCall(spec, body, tailStart, input: "features"));
            for (int i = tailStart + 1; i < body.Count; i++) w.Line(ChainCall(spec, body, i));
        }
        else
            for (int i = 0; i < body.Count; i++) w.Line(ChainCall(spec, body, i));
        w.Close();
        w.Line();
        gradients.EmitBackward(w);
    }

    /// <summary>The forward chain's call of layer <paramref name="i"/>, reading <paramref name="input"/> when given.</summary>
    private static string ChainCall(NetworkSpec spec, List<LayerSpec> body, int i, string? input = null)
    {
        string call = $"{LayerEmitter.ForwardName(body[i])}(ws, {input ?? Input(spec, body[i])}, ws.{Act(body[i])}, batch);";
        // A layer whose output a convolution writes only when BatchNorms are folded runs when they are not.
        if (body[i].InferredBy >= 0 && body[i].InferredOnlyWhenFolded)
            call = $"if (!ws.Folded) {call} // else {spec.Layers[body[i].InferredBy].Name} " +
                   (body[i].Kind == LayerKind.BatchNorm ? "wrote this output with folded weights" : "applied this ReLU as it stored the folded output");
        return call;
    }

    /// <summary>Each channel join's output, mapped to its input's (whose channels it puts first): the buffer the join may
    /// take over in place (<see cref="Layers.ConcatLayer"/>). Not for a join of the network's input, nor of its input
    /// with itself (the copy of the source would read images the join has moved).</summary>
    private static Dictionary<string, string> JoinsInPlace(NetworkSpec spec, List<LayerSpec> head)
    {
        var extends = new Dictionary<string, string>();
        foreach (var l in head)
            if (l.Kind == LayerKind.Concat && l.InputIndex >= 0 && l.Join is { } join && !join.Sources.Contains(l.InputIndex))
                extends[Act(l)] = Act(spec.Layers[l.InputIndex]);
        return extends;
    }

    /// <summary>The outputs an evaluation pass with its BatchNorms folded does not write, one image on one thread: a
    /// convolution's own output when a BatchNorm is folded into it or it applies the ReLU after it as it stores (so is a
    /// shortcut's sum's), that BatchNorm's when the ReLU after it is applied, all three of a 1x1 expansion computed
    /// inside the depthwise convolution after it, a convolution's own and its ReLU's when it stores the max pool's
    /// output after them, a 1x1 convolution's own when it writes the average pool after it from its averaged input, and
    /// the ReLU's after a BatchNorm whose input the 1x1 convolution after them normalises as it reads it.</summary>
    private static HashSet<string> UnwrittenWhenFolded(NetworkSpec spec, List<LayerSpec> body)
    {
        var unwritten = new HashSet<string>();
        foreach (var l in body)
        {
            // Expansions fused only where the machine expands channel-last are written elsewhere.
            bool expanded = l.ExpandedBy >= 0 && !spec.Layers[l.ExpandedBy].ExpansionChannelLastOnly;
            bool pooled = l.FusedPool >= 0;
            if (expanded || pooled || l.PoolsInputFor >= 0 || l.FoldedBatchNorm >= 0 || l.FusedRelu >= 0 && !l.FusedReluNeedsFold) unwritten.Add(Act(l));
            if (l.FoldedBatchNorm >= 0 && (l.FusedRelu >= 0 || expanded)) unwritten.Add(Act(spec.Layers[l.FoldedBatchNorm]));
            if ((expanded || pooled) && l.FusedRelu >= 0) unwritten.Add(Act(spec.Layers[l.FusedRelu]));
            if (l.NormalizedBy >= 0) unwritten.Add(Act(spec.Layers[l.FusedRelu]));
        }
        return unwritten;
    }

    /// <summary>What a layer reads: the network input, or an earlier layer's output buffer.</summary>
    internal static string Input(NetworkSpec spec, LayerSpec l) => l.InputIndex < 0 ? "inputs" : "ws." + Act(spec.Layers[l.InputIndex]);

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
