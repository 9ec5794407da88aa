using CnnGen.Kernels;
using CnnGen.Parallelism;

namespace CnnGen.GeneratedNetworks;

/// <summary>
/// What every generated network does around its layers: argument checks, one call at a time, worker threads and
/// their workspaces, micro-batches, the softmax of the outputs, the cross-entropy loss and its gradient, and the sum
/// of the workers' shares. A generated class holds one (a nested class derived from this one) and supplies its layers
/// through <see cref="RunForward"/>, <see cref="RunBackward"/> and <see cref="Logits"/>; the numbers are the ones its
/// own code computed before these passes moved here. A gradient pass (and a training-mode forward pass) splits a batch
/// into contiguous chunks, one per worker; the workers' gradients and losses are added in worker order, so results are
/// deterministic for a given thread count. An evaluation pass on several workers shares its images out a micro-batch at
/// a time as the workers ask for them (<see cref="EvaluateShared"/>): the same micro-batches on every call, whoever
/// computes them, so that too is deterministic for a given thread count.
/// An evaluation-mode forward pass with fewer images than threads runs its images on one workspace instead, and the
/// layers that the generator found worth it split each image's work over all the threads (<see cref="RunSplit"/>),
/// with the bits of one thread.
/// </summary>
/// <typeparam name="TWorkspace">The network's workspace: one per worker thread.</typeparam>
public abstract partial class NetworkPasses<TWorkspace> where TWorkspace : NetworkWorkspace
{
    private readonly string _network;
    private readonly int _inputLength;
    private readonly int _outputLength;
    private readonly int _parameterCount;
    private readonly int _microBatch;
    private readonly int _trainingMicroBatch;
    private readonly string _inputShape;
    private readonly bool _softmax;
    private readonly bool _batchNorm;
    private readonly int _tailInputLength;
    private readonly int _tailImages;
    private readonly CallGuard _callGuard;
    private readonly float[] _prediction;
    private TWorkspace[] _workspaces;
    private BatchChunk? _forwardChunk, _gradientChunk;
    private JobPart? _prepareKeptPass;
    private int _threads = 1;
    private float _lossScale;
    private LayerSplit<TWorkspace>? _layerSplit;
    private bool _fixedWeights;
    private bool _weightsPrepared; // FixedWeights is on and an evaluation pass prepared the weights since they last could change
    private int _preparedBatch; // ... for passes of at most this many images (larger ones may need more layers' transforms)

    /// <param name="network">The network's class name, for messages.</param>
    /// <param name="inputLength">Values per input image.</param>
    /// <param name="outputLength">Values per output.</param>
    /// <param name="parameterCount">Trainable parameters.</param>
    /// <param name="microBatch">Images run through all layers together.</param>
    /// <param name="trainingMicroBatch">Images a gradient pass runs through all layers together (forward, then backward),
    /// when it differs from <paramref name="microBatch"/>: training keeps every layer's outputs, so its choice weighs them
    /// against the weights each micro-batch reads again (0: <paramref name="microBatch"/>).</param>
    /// <param name="inputShape">The input shape as messages write it, e.g. <c>1x28x28</c>.</param>
    /// <param name="softmax">Whether the network ends with a softmax, which <c>Forward</c> applies to the logits.</param>
    /// <param name="batchNorm">Whether the network has a BatchNorm: a training-mode chunk is then one micro-batch, and a
    /// failing worker leaves the barrier (<see cref="LeaveBarrier"/>).</param>
    /// <param name="splitImages">The starting value of <see cref="SplitImages"/>: the generator's choice for the network.</param>
    /// <param name="tailInputLength">Values per image of the head's last output (<see cref="HeadOutput"/>) when the network
    /// has a batched tail (<see cref="RunTail"/>), else 0.</param>
    /// <param name="tailImages">Images whose head outputs an evaluation pass gathers before running the tail on them.</param>
    protected NetworkPasses(string network, int inputLength, int outputLength, int parameterCount, int microBatch,
        string inputShape, bool softmax, bool batchNorm, bool splitImages = false, int trainingMicroBatch = 0,
        int tailInputLength = 0, int tailImages = 0)
    {
        if (tailInputLength < 0 || tailInputLength > 0 && tailImages < 1)
            throw new ArgumentOutOfRangeException(nameof(tailImages), tailImages, $"{network}: a batched tail needs a positive input length and at least one image per block.");
        _tailInputLength = tailInputLength;
        _tailImages = tailImages;
        SplitImages = splitImages;
        _network = network;
        _inputLength = inputLength;
        _outputLength = outputLength;
        _parameterCount = parameterCount;
        _microBatch = microBatch;
        _trainingMicroBatch = trainingMicroBatch > 0 ? trainingMicroBatch : microBatch;
        _inputShape = inputShape;
        _softmax = softmax;
        _batchNorm = batchNorm;
        _callGuard = new CallGuard(network);
        _prediction = new float[outputLength];
        _workspaces = Array.Empty<TWorkspace>();
    }

    /// <summary>A new, empty workspace.</summary>
    protected abstract TWorkspace CreateWorkspace();

    /// <summary>The network's <c>Training</c> flag.</summary>
    protected abstract bool Training { get; }

    /// <summary>Runs every layer forward over <paramref name="batch"/> images.</summary>
    protected abstract void RunForward(TWorkspace workspace, ReadOnlySpan<float> inputs, int batch);

    /// <summary>Runs the backward pass from the workspace's logit gradients, adding to its <c>Gradients</c>.</summary>
    protected abstract void RunBackward(TWorkspace workspace, ReadOnlySpan<float> inputs, int batch);

    /// <summary>Runs the layers before the batched tail (a network with one: its generated code overrides this, and
    /// <see cref="RunForward"/> is <see cref="RunHead"/> then <see cref="RunTail"/> on <see cref="HeadOutput"/>).</summary>
    protected virtual void RunHead(TWorkspace workspace, ReadOnlySpan<float> inputs, int batch) => throw NoTail();

    /// <summary>The buffer of the head's last output, which the tail reads.</summary>
    protected virtual ReadOnlySpan<float> HeadOutput(TWorkspace workspace) => throw NoTail();

    /// <summary>Runs the batched tail over <paramref name="batch"/> images' head outputs, one after the other in
    /// <paramref name="features"/>, into the logits' buffer.</summary>
    protected virtual void RunTail(TWorkspace workspace, ReadOnlySpan<float> features, int batch) => throw NoTail();

    private NotSupportedException NoTail() => new($"{_network} has no batched tail.");

    /// <summary>The buffer holding the logits, or null when the logits are the input itself.</summary>
    protected abstract float[]? Logits(TWorkspace workspace);

    /// <summary>The buffer the gradient of the logits goes to.</summary>
    protected abstract float[] LogitGradients(TWorkspace workspace);

    /// <summary>Before a forward pass over the whole batch (BatchNorm: statistics or folding).</summary>
    protected virtual void BeforeForward(int workers, int batchSize) { }

    /// <summary>Before a gradient pass over the whole batch (BatchNorm: statistics).</summary>
    protected virtual void BeforeGradients(int workers, int batchSize) { }

    /// <summary>Before every pass that keeps its outputs (a gradient pass, in training or evaluation mode, and the unfused
    /// pass of <see cref="RunUnfused"/>), on the calling thread: the arrays of the weights those forward and backward
    /// passes read in another layout, which <see cref="PrepareKeptPass"/> then makes once for all the workers and
    /// micro-batches of the call.</summary>
    protected virtual void BeforeKeptPass() { }

    /// <summary>Values <see cref="PrepareKeptPass"/> writes (0: it has nothing to do).</summary>
    protected virtual long KeptPassValues => 0;

    /// <summary>After <see cref="BeforeKeptPass"/>, part <paramref name="part"/> of <paramref name="parts"/> of making those
    /// weights (each part writes arrays of its own). A gradient pass with several workers runs one part on each when
    /// there are at least <see cref="SplitKeptPassValues"/> values to write, else the one part on the calling thread.</summary>
    protected virtual void PrepareKeptPass(int part, int parts) { }

    /// <summary>Values of weights to make before a gradient pass from which the workers share the making: the CIFAR VGG's
    /// 2.6 million took 1.6 ms on one thread, a sixtieth of its training step there (its steps on two threads 2% faster
    /// shared). A quarter of a million take some 0.16 ms at that rate; below it (SmallResNet's 0.2 million in the tests,
    /// LeNet-5's few thousand) the making stays on the calling thread, which wakes no worker for it.</summary>
    public const long SplitKeptPassValues = 256 * 1024;

    /// <summary>At the start of a worker's chunk of a gradient pass, after its workspace is sized: sums the chunk's backward
    /// passes add to before they become parameter gradients (Winograd's weight gradients) start from zero.</summary>
    protected virtual void BeginGradientChunk(TWorkspace workspace) { }

    /// <summary>At the end of a worker's chunk of a gradient pass: such sums turned into the worker's parameter gradients.</summary>
    protected virtual void EndGradientChunk(TWorkspace workspace) { }

    /// <summary>Whether evaluation folds each BatchNorm into the convolution before it.</summary>
    protected virtual bool FoldsBatchNorm => false;

    /// <summary>A failing worker's way out of the BatchNorm barrier.</summary>
    protected virtual void LeaveBarrier() { }

    /// <summary>Whether an evaluation pass with fewer images than threads splits each image's large layers over the
    /// threads (by default true for networks of 20 million multiply-adds per image or more, else false: such a pass
    /// then runs on one thread); see <see cref="INetwork.SplitImages"/>.</summary>
    public bool SplitImages { get; set; }

    /// <summary>Whether evaluation passes prepare their derived weights once and reuse them instead of checking every
    /// call whether anything changed (false by default); see <see cref="INetwork.FixedWeights"/>. Setting it, either
    /// way, makes the next evaluation pass prepare them.</summary>
    public bool FixedWeights
    {
        get => _fixedWeights;
        set
        {
            _fixedWeights = value;
            _weightsPrepared = false;
        }
    }

    /// <summary>The parameters or state may be about to change (their buffer was handed out, or redrawn): the next
    /// evaluation pass prepares its derived weights again, also with <see cref="FixedWeights"/>.</summary>
    public void WeightsMayChange() => _weightsPrepared = false;

    /// <summary><see cref="BeforeForward"/>, unless <see cref="FixedWeights"/> holds and an evaluation pass of at least
    /// as many images already prepared the weights since they last could change (a pass prepares only the transforms its
    /// calls can use, and a layer may use Winograd only from some number of images per call). A training-mode pass
    /// updates BatchNorm's running statistics, so the evaluation pass after it prepares again.</summary>
    private void PrepareForward(int workers, int batchSize)
    {
        if (_weightsPrepared && !Training && batchSize <= _preparedBatch) return;
        BeforeForward(workers, batchSize);
        _weightsPrepared = _fixedWeights && !Training;
        _preparedBatch = batchSize;
    }

    /// <summary>Worker threads a batch is split over (1 by default).</summary>
    /// <exception cref="ArgumentOutOfRangeException">Less than 1.</exception>
    public int Threads
    {
        get => _threads;
        set
        {
            if (value < 1)
                throw new ArgumentOutOfRangeException(nameof(value), value, $"{_network}: Threads must be at least 1.");
            _threads = value;
        }
    }

    /// <summary>Images of the last <see cref="ComputeGradients"/> batch whose highest logit was their label.</summary>
    public int LastCorrect { get; private set; }

    /// <summary>The workspace of <paramref name="worker"/> (after <see cref="PrepareWorkers"/> has made one for it).</summary>
    public TWorkspace Workspace(int worker) => _workspaces[worker];

    /// <summary>Takes the instance for <paramref name="method"/>; see <see cref="CallGuard"/>.</summary>
    public CallGuard.Scope Enter(string method) => _callGuard.Enter(method);

    /// <summary>The workers for a batch (at most one per image), with a workspace each.</summary>
    public int PrepareWorkers(int batchSize)
    {
        int workers = Math.Min(_threads, batchSize);
        if (_workspaces.Length < workers)
        {
            var grown = new TWorkspace[workers];
            for (int t = 0; t < workers; t++) grown[t] = t < _workspaces.Length ? _workspaces[t] : CreateWorkspace();
            _workspaces = grown;
        }
        return workers;
    }

    /// <summary>Checks a batch size and the length of its inputs.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The batch size is not positive.</exception>
    /// <exception cref="ArgumentException">The inputs are not <paramref name="batchSize"/> images.</exception>
    public void CheckInputs(int length, int batchSize, string name)
    {
        if (batchSize <= 0)
            throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, $"{_network}: the batch size must be positive.");
        if (length != (long)_inputLength * batchSize)
            throw new ArgumentException($"{_network}: expected {(long)_inputLength * batchSize} input values ({batchSize} image(s) of {_inputShape} = {_inputLength} values each), but got {length}.", name);
    }

    /// <summary>Runs <paramref name="batchSize"/> images and writes their outputs (probabilities after a softmax, else logits).</summary>
    public void Forward(ReadOnlySpan<float> inputs, Span<float> outputs, int batchSize, string method)
    {
        CheckInputs(inputs.Length, batchSize, nameof(inputs));
        if (outputs.Length != (long)_outputLength * batchSize)
            throw new ArgumentException($"{_network}: expected room for {(long)_outputLength * batchSize} output values ({batchSize} x {_outputLength}), but got {outputs.Length}.", nameof(outputs));
        using var call = _callGuard.Enter(method);
        ForwardBatch(inputs, outputs, batchSize);
    }

    /// <summary>The most probable class of one image.</summary>
    public int Predict(ReadOnlySpan<float> input, string method)
    {
        CheckInputs(input.Length, 1, nameof(input));
        using var call = _callGuard.Enter(method);
        ForwardBatch(input, _prediction, 1);
        return SoftmaxCrossEntropy.ArgMax(_prediction);
    }

    /// <summary>Runs one image in evaluation mode along the unfused path (every layer writes its own output) and returns
    /// the workspace holding the outputs. The caller holds the instance (<see cref="Enter"/>) while it reads them.</summary>
    public TWorkspace RunUnfused(ReadOnlySpan<float> input)
    {
        PrepareWorkers(1);
        var ws = _workspaces[0];
        ws.KeepForBackward = true; // the unfused path: every layer writes its own output
        ws.WritesEveryOutput = true;
        ws.TrainMode = false;
        if (_batchNorm)
        {
            ws.Worker = 0;
            ws.Folded = false;
        }
        ws.ImageOffset = 0;
        ws.Ensure(1, training: true);
        BeforeKeptPass();
        if (KeptPassValues > 0) PrepareKeptPass(0, 1);
        RunForward(ws, input, 1);
        return ws;
    }

    /// <summary>Forward, softmax cross-entropy averaged over the batch, backward: fills <paramref name="gradients"/> and
    /// returns the mean loss.</summary>
    /// <exception cref="ArgumentException">Not one label per image, or a label outside the classes.</exception>
    public float ComputeGradients(ReadOnlySpan<float> inputs, ReadOnlySpan<int> labels, int batchSize, float[] gradients, string method)
    {
        ArgumentNullException.ThrowIfNull(gradients);
        CheckInputs(inputs.Length, batchSize, nameof(inputs));
        if (labels.Length != batchSize)
            throw new ArgumentException($"{_network}: expected {batchSize} labels, one per image, but got {labels.Length}.", nameof(labels));
        for (int b = 0; b < batchSize; b++)
            if ((uint)labels[b] >= _outputLength)
                throw new ArgumentException($"{_network}: label {labels[b]} of image {b} is outside [0, {_outputLength}).", nameof(labels));
        using var call = _callGuard.Enter(method);
        int workers = PrepareWorkers(batchSize);
        _workspaces[0].Gradients = gradients;
        _lossScale = 1f / batchSize;
        _weightsPrepared = false; // a training-mode pass moves BatchNorm's running statistics
        if (Training) BeforeGradients(workers, batchSize);
        BeforeKeptPass();
        if (KeptPassValues >= SplitKeptPassValues && workers > 1) WorkerPool.Shared.RunParts(workers, _prepareKeptPass ??= PrepareKeptPass);
        else if (KeptPassValues > 0) PrepareKeptPass(0, 1);
        if (workers == 1) GradientChunk(0, 0, batchSize, inputs, labels, default);
        else WorkerPool.Shared.Run(workers, batchSize, _inputLength, inputs, labels, 0, default, _gradientChunk ??= GradientChunk);
        // Add the workers' shares in worker order, so the sum is the same on every run.
        double loss = _workspaces[0].Loss;
        int correct = _workspaces[0].Correct;
        for (int t = 1; t < workers; t++)
        {
            System.Numerics.Tensors.TensorPrimitives.Add(gradients, _workspaces[t].Gradients, gradients);
            loss += _workspaces[t].Loss;
            correct += _workspaces[t].Correct;
        }
        LastCorrect = correct;
        return (float)(loss / batchSize);
    }

    /// <summary>Runs a layer's units over the threads of this pass (<see cref="NetworkWorkspace.SplitParts"/>), or all
    /// of them on this thread when the pass does not split; see <see cref="LayerSplit{TWorkspace}"/>.</summary>
    public void RunSplit(LayerRange<TWorkspace> body, TWorkspace ws, ReadOnlySpan<float> input, Span<float> output,
        ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, int batch, int units, int block,
        int piecesPerThread = LayerSplit<TWorkspace>.PiecesPerThread)
    {
        ArgumentNullException.ThrowIfNull(ws);
        (_layerSplit ??= new LayerSplit<TWorkspace>()).Run(ws.SplitParts, body, ws, input, output, weight, bias, batch, units, block, piecesPerThread);
    }

    private void ForwardBatch(ReadOnlySpan<float> inputs, Span<float> outputs, int batchSize)
    {
        if (batchSize < _threads && SplitImages && !Training)
        {
            // Fewer images than threads: one workspace, and each expensive layer split over all the threads.
            PrepareWorkers(1);
            PrepareForward(1, batchSize);
            var ws = _workspaces[0];
            ws.SplitParts = Math.Min(_threads, WorkerPool.MaxWorkers);
            try
            {
                ForwardChunk(0, 0, batchSize, inputs, default, outputs);
            }
            finally
            {
                ws.SplitParts = 1;
            }
            return;
        }
        int workers = PrepareWorkers(batchSize);
        PrepareForward(workers, batchSize);
        if (workers == 1) ForwardChunk(0, 0, batchSize, inputs, default, outputs);
        else if (!Training) EvaluateShared(workers, batchSize, inputs, outputs);
        else WorkerPool.Shared.Run(workers, batchSize, _inputLength, inputs, default, _outputLength, outputs, _forwardChunk ??= ForwardChunk);
    }

    private void ForwardChunk(int worker, int start, int count, ReadOnlySpan<float> inputs, ReadOnlySpan<int> labels, Span<float> outputs)
    {
        var ws = _workspaces[worker];
        ws.KeepForBackward = false;
        ws.TrainMode = Training;
        int step = BeginChunk(ws, worker, count, training: false);
        try
        {
            if (_tailInputLength > 0 && !ws.TrainMode && step < count)
            {
                ForwardThroughTail(ws, start, count, step, inputs, outputs);
                return;
            }
            for (int first = 0; first < count; first += step)
            {
                int n = Math.Min(step, count - first);
                var x = inputs.Slice(first * _inputLength, n * _inputLength);
                ws.ImageOffset = start + first;
                RunForward(ws, x, n);
                WriteOutputs(LogitsOf(ws, x).Slice(0, n * _outputLength), outputs.Slice(first * _outputLength, n * _outputLength), n);
            }
        }
        catch
        {
            if (_batchNorm && ws.TrainMode) LeaveBarrier();
            throw;
        }
    }

    /// <summary>An evaluation pass on one workspace (one worker, or a split image's) of a network with a batched tail:
    /// the head a micro-batch at a time, its last outputs gathered for up to <c>tailImages</c> images, then the tail once
    /// for all of them (each image's values are those of <see cref="RunForward"/>).</summary>
    private void ForwardThroughTail(TWorkspace ws, int start, int count, int step, ReadOnlySpan<float> inputs, Span<float> outputs)
    {
        var features = ws.TailInputs(Math.Min(count, _tailImages), _tailInputLength);
        for (int block = 0; block < count; block += _tailImages)
        {
            int images = Math.Min(_tailImages, count - block);
            for (int first = 0; first < images; first += step)
            {
                int n = Math.Min(step, images - first);
                ws.ImageOffset = start + block + first;
                RunHead(ws, inputs.Slice((block + first) * _inputLength, n * _inputLength), n);
                HeadOutput(ws).Slice(0, n * _tailInputLength).CopyTo(features.Slice(first * _tailInputLength));
            }
            ws.ImageOffset = start + block;
            RunTail(ws, features.Slice(0, images * _tailInputLength), images);
            // A tail ends in a layer, so the logits are that layer's buffer.
            WriteOutputs(Logits(ws)!.AsSpan(0, images * _outputLength), outputs.Slice(block * _outputLength, images * _outputLength), images);
        }
    }

    /// <summary>The outputs of <paramref name="images"/> images from their logits: probabilities after a softmax, else the logits.</summary>
    private void WriteOutputs(ReadOnlySpan<float> logits, Span<float> outputs, int images)
    {
        if (!_softmax)
        {
            logits.CopyTo(outputs);
            return;
        }
        for (int b = 0; b < images; b++)
            SoftmaxCrossEntropy.Softmax(logits.Slice(b * _outputLength, _outputLength), outputs.Slice(b * _outputLength, _outputLength));
    }

    private void GradientChunk(int worker, int start, int count, ReadOnlySpan<float> inputs, ReadOnlySpan<int> labels, Span<float> outputs)
    {
        var ws = _workspaces[worker];
        if (ws.Gradients.Length != _parameterCount) ws.Gradients = new float[_parameterCount];
        Array.Clear(ws.Gradients);
        ws.KeepForBackward = true;
        ws.WritesEveryOutput = false; // a BatchNorm, a sum or a convolution may apply the ReLU after it as it stores
        ws.TrainMode = Training;
        double loss = 0;
        int correct = 0;
        int step = BeginChunk(ws, worker, count, training: true);
        BeginGradientChunk(ws);
        try
        {
            for (int first = 0; first < count; first += step)
            {
                int n = Math.Min(step, count - first);
                var x = inputs.Slice(first * _inputLength, n * _inputLength);
                ws.ImageOffset = start + first;
                RunForward(ws, x, n);
                // Loss of each image; its gradient with respect to the logits is (softmax - onehot) / batchSize.
                var dlogits = LogitGradients(ws);
                for (int b = 0; b < n; b++)
                {
                    var logits = LogitsOf(ws, x).Slice(b * _outputLength, _outputLength);
                    loss += SoftmaxCrossEntropy.LossAndGradient(logits, labels[first + b], new Span<float>(dlogits, b * _outputLength, _outputLength), _lossScale);
                    if (SoftmaxCrossEntropy.ArgMax(logits) == labels[first + b]) correct++;
                }
                RunBackward(ws, x, n); // adds this micro-batch's parameter gradients to ws.Gradients
            }
            EndGradientChunk(ws);
        }
        catch
        {
            if (_batchNorm && ws.TrainMode) LeaveBarrier();
            throw;
        }
        ws.Loss = loss;
        ws.Correct = correct;
    }

    /// <summary>Sizes the workspace and returns the micro-batch (a gradient pass's own). With BatchNorm in training mode a
    /// worker's whole chunk is one micro-batch: its statistics are the batch's.</summary>
    private int BeginChunk(TWorkspace ws, int worker, int count, bool training)
    {
        int microBatch = training ? _trainingMicroBatch : _microBatch;
        if (!_batchNorm)
        {
            ws.Ensure(Math.Min(count, microBatch), training);
            return microBatch;
        }
        ws.Worker = worker;
        ws.Folded = !training && !ws.TrainMode && FoldsBatchNorm;
        int step = ws.TrainMode ? count : microBatch;
        ws.Ensure(Math.Min(count, step), training);
        return step;
    }

    private ReadOnlySpan<float> LogitsOf(TWorkspace ws, ReadOnlySpan<float> input) => Logits(ws) is { } logits ? logits : input;
}
