using CnnGen.Parallelism;

namespace CnnGen.GeneratedNetworks;

/// <summary>
/// An evaluation-mode forward pass over more images than one worker: the images are shared out a micro-batch at a time,
/// each worker asking for the next images when it has finished its last, instead of in one fixed chunk per worker. The
/// micro-batches are the same runs of images on every call with the same batch and thread count (every take is the same
/// size, from the batch's start), and an image's outputs do not depend on which worker computes it, so results stay
/// deterministic for a given thread count; what changes is that a worker slowed down (another process on its core, a
/// core slower for a while) leaves more of the batch to the others instead of holding up the whole call.
/// MobileNetV2, 32 images on two threads, with one chunk per worker: in 3 of 8 calls one chunk took 75-106 ms against the
/// other's 70-71, and the call as long as the slower one. Whole processes on two threads (<c>Cnn.EngineRace run</c>,
/// alternating pairs, medians in images/s), one run: LeNet-5 173 -> 204 thousand (batch 256), the CIFAR VGG 6,462 ->
/// 7,335, the CIFAR ResNet 5,880 -> 6,515, ResNet-18 130 -> 143 (batch 32), MobileNetV2 426 -> 442 (batch 32). A second
/// run, with the fixed chunks at their best (LeNet-5 233 thousand), was within the noise: 233 -> 236, 8,700 -> 9,242,
/// 7,393 -> 7,443, 152 -> 153, 432 -> 408.
/// </summary>
public abstract unsafe partial class NetworkPasses<TWorkspace>
{
    // The batch being shared out: pinned for the call, written before the workers start.
    private float* _sharedInputs, _sharedOutputs;
    private int _sharedBatch, _nextImage;
    private JobPart? _evaluateImages;

    /// <summary>Runs <paramref name="batchSize"/> images on <paramref name="workers"/> workers (each with its own
    /// workspace), the images handed out as they ask for them, and writes their outputs.</summary>
    private void EvaluateShared(int workers, int batchSize, ReadOnlySpan<float> inputs, Span<float> outputs)
    {
        fixed (float* pInputs = inputs, pOutputs = outputs)
        {
            _sharedInputs = pInputs;
            _sharedOutputs = pOutputs;
            _sharedBatch = batchSize;
            _nextImage = 0;
            try
            {
                WorkerPool.Shared.RunParts(workers, _evaluateImages ??= EvaluateImages);
            }
            finally
            {
                _sharedInputs = _sharedOutputs = null;
            }
        }
    }

    /// <summary>Worker <paramref name="worker"/>'s part of <see cref="EvaluateShared"/>: micro-batches of the batch's next
    /// images until none is left (at most an even share of the batch at a time, so that one worker cannot take it all).
    /// With a batched tail, the head outputs of the images it ran are gathered, up to a block, and the tail run on them.</summary>
    private void EvaluateImages(int worker, int workers)
    {
        var ws = _workspaces[worker];
        ws.KeepForBackward = false;
        ws.TrainMode = false;
        int share = (_sharedBatch + workers - 1) / workers; // the most images one micro-batch takes
        int claim = Math.Min(BeginChunk(ws, worker, share, training: false), share);
        var inputs = new ReadOnlySpan<float>(_sharedInputs, _sharedBatch * _inputLength);
        var outputs = new Span<float>(_sharedOutputs, _sharedBatch * _outputLength);
        // With a tail, always gathered: a take is at most an even share, so fewer images than the batch (workers <= batch).
        if (_tailInputLength > 0)
        {
            EvaluateThroughTail(ws, claim, inputs, outputs);
            return;
        }
        while (TryTakeImages(claim, out int first, out int n))
        {
            var x = inputs.Slice(first * _inputLength, n * _inputLength);
            ws.ImageOffset = first;
            RunForward(ws, x, n);
            WriteOutputs(LogitsOf(ws, x).Slice(0, n * _outputLength), outputs.Slice(first * _outputLength, n * _outputLength), n);
        }
    }

    /// <summary>The head over each micro-batch taken, its outputs gathered with where their images lie; the tail over
    /// them when one more micro-batch would not fit a block of <c>tailImages</c> (rounded down to whole micro-batches),
    /// and when the batch has no images left. Every take is <paramref name="claim"/> images (fewer only at the batch's
    /// end), so the micro-batches are the same runs of images on every call, whoever takes them.</summary>
    private void EvaluateThroughTail(TWorkspace ws, int claim, ReadOnlySpan<float> inputs, Span<float> outputs)
    {
        int room = Math.Max(claim, Math.Min(_sharedBatch, _tailImages) / claim * claim);
        var features = ws.TailInputs(room, _tailInputLength);
        var images = ws.TailImages(room);
        int gathered = 0;
        while (true)
        {
            bool took = TryTakeImages(claim, out int first, out int n);
            if (took)
            {
                ws.ImageOffset = first;
                RunHead(ws, inputs.Slice(first * _inputLength, n * _inputLength), n);
                HeadOutput(ws).Slice(0, n * _tailInputLength).CopyTo(features.Slice(gathered * _tailInputLength));
                for (int i = 0; i < n; i++) images[gathered + i] = first + i;
                gathered += n;
            }
            if (gathered > 0 && (!took || gathered + claim > room))
            {
                ws.ImageOffset = images[0]; // the block's images need not follow one another; only training reads it (dropout)
                RunTail(ws, features.Slice(0, gathered * _tailInputLength), gathered);
                // A tail ends in a layer, so the logits are that layer's buffer.
                var logits = Logits(ws)!.AsSpan(0, gathered * _outputLength);
                for (int s = 0; s < gathered; s++)
                    WriteOutputs(logits.Slice(s * _outputLength, _outputLength), outputs.Slice(images[s] * _outputLength, _outputLength), 1);
                gathered = 0;
            }
            if (!took) return;
        }
    }

    /// <summary>Takes the batch's next <paramref name="wanted"/> images (fewer at its end): <c>[first, first + n)</c>;
    /// false once every image has been taken.</summary>
    private bool TryTakeImages(int wanted, out int first, out int n)
    {
        first = Interlocked.Add(ref _nextImage, wanted) - wanted;
        n = Math.Min(wanted, _sharedBatch - first);
        return n > 0;
    }
}
