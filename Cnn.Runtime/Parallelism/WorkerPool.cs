using System.Diagnostics;
using System.Runtime.ExceptionServices;

namespace CnnGen.Parallelism;

/// <summary>
/// Persistent threads that split a batch into contiguous chunks, one per worker; worker 0 is the calling thread.
/// The split depends only on the batch size and the worker count, so a network that adds up its per-worker
/// results in worker order gives the same numbers on every run with the same count. <see cref="Run"/> allocates
/// nothing once the threads exist. Between jobs a worker spins for <see cref="SpinMicroseconds"/> (training calls
/// come back to back) and then sleeps until the next job.
/// </summary>
public sealed unsafe class WorkerPool
{
    /// <summary>The process-wide pool used by generated networks.</summary>
    public static WorkerPool Shared { get; } = new();

    /// <summary>How long an idle worker, or the caller waiting for the workers, spins before it blocks.</summary>
    public const int SpinMicroseconds = 500;

    private static readonly long SpinTicks = Stopwatch.Frequency * SpinMicroseconds / 1_000_000;

    private readonly object _runLock = new();
    private readonly List<Worker> _workers = new();

    // The job being run; read by the workers once they see a new generation.
    private BatchChunk? _body;
    private float* _inputs, _outputs;
    private int* _labels;
    private int _batch, _chunks, _inputLength, _outputLength, _labelCount, _outputCount;
    private int _generation, _pending;
    private ExceptionDispatchInfo? _failure;
    private readonly ManualResetEventSlim _done = new(false);

    private sealed class Worker
    {
        public readonly ManualResetEventSlim Wake = new(false);
        public int Index;
        public int Sleeping;
    }

    /// <summary>
    /// Runs <paramref name="body"/> on <c>min(workers, batchSize)</c> chunks of the batch and returns when all are done.
    /// Chunk <c>t</c> holds images <c>[t * batch / n, (t + 1) * batch / n)</c>. An exception on any worker is rethrown here.
    /// </summary>
    public void Run(int workers, int batchSize, int inputLength, ReadOnlySpan<float> inputs, ReadOnlySpan<int> labels,
        int outputLength, Span<float> outputs, BatchChunk body)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(workers, 1);
        int chunks = Math.Min(workers, batchSize);
        if (chunks <= 1)
        {
            body(0, 0, batchSize, inputs, labels, outputs);
            return;
        }
        lock (_runLock)
        {
            EnsureWorkers(chunks - 1);
            fixed (float* pIn = inputs)
            fixed (int* pLabels = labels)
            fixed (float* pOut = outputs)
            {
                _body = body;
                _inputs = pIn; _labels = pLabels; _outputs = pOut;
                _batch = batchSize; _chunks = chunks;
                _inputLength = inputLength; _outputLength = outputLength;
                _labelCount = labels.Length; _outputCount = outputs.Length;
                _failure = null;
                _done.Reset();
                Volatile.Write(ref _pending, chunks - 1);
                Interlocked.Increment(ref _generation); // publishes the job (full fence)
                for (int t = 1; t < chunks; t++)
                {
                    var worker = _workers[t - 1];
                    if (Volatile.Read(ref worker.Sleeping) != 0) worker.Wake.Set();
                }
                try
                {
                    RunChunk(0);
                }
                catch (Exception e)
                {
                    lock (_workers) _failure ??= ExceptionDispatchInfo.Capture(e);
                }
                long start = Stopwatch.GetTimestamp();
                while (Volatile.Read(ref _pending) != 0 && Stopwatch.GetTimestamp() - start < SpinTicks) Thread.SpinWait(8);
                if (Volatile.Read(ref _pending) != 0) _done.Wait();
                _body = null;
                _failure?.Throw();
            }
        }
    }

    private void RunChunk(int t)
    {
        int start = (int)((long)t * _batch / _chunks), end = (int)((long)(t + 1) * _batch / _chunks), count = end - start;
        var inputs = new ReadOnlySpan<float>(_inputs + (long)start * _inputLength, count * _inputLength);
        var labels = _labelCount == 0 ? default : new ReadOnlySpan<int>(_labels + start, count);
        var outputs = _outputCount == 0 ? default : new Span<float>(_outputs + (long)start * _outputLength, count * _outputLength);
        _body!(t, start, count, inputs, labels, outputs);
    }

    private void EnsureWorkers(int count)
    {
        while (_workers.Count < count)
        {
            var worker = new Worker { Index = _workers.Count + 1 };
            _workers.Add(worker);
            int generation = Volatile.Read(ref _generation);
            var thread = new Thread(() => Loop(worker, generation)) { IsBackground = true, Name = $"CnnGen worker {worker.Index}" };
            thread.Start();
        }
    }

    private void Loop(Worker worker, int seen)
    {
        while (true)
        {
            long start = Stopwatch.GetTimestamp();
            while (Volatile.Read(ref _generation) == seen)
            {
                if (Stopwatch.GetTimestamp() - start < SpinTicks)
                {
                    Thread.SpinWait(8);
                    continue;
                }
                // Announce the sleep, then look again, so a job published meanwhile is not missed.
                Interlocked.Exchange(ref worker.Sleeping, 1);
                if (Volatile.Read(ref _generation) == seen) worker.Wake.Wait();
                Interlocked.Exchange(ref worker.Sleeping, 0);
                worker.Wake.Reset();
                start = Stopwatch.GetTimestamp();
            }
            seen = Volatile.Read(ref _generation);
            if (worker.Index < _chunks)
            {
                try
                {
                    RunChunk(worker.Index);
                }
                catch (Exception e)
                {
                    lock (_workers) _failure ??= ExceptionDispatchInfo.Capture(e);
                }
                if (Interlocked.Decrement(ref _pending) == 0) _done.Set();
            }
        }
    }
}
