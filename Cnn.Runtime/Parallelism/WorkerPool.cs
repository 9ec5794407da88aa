using System.Diagnostics;
using System.Runtime.ExceptionServices;

namespace CnnGen.Parallelism;

/// <summary>
/// Persistent threads that split a batch into contiguous chunks. The split depends only on the batch size and the
/// worker count, and chunk <c>t</c> is always handed to the body as worker <c>t</c>, so a network that keeps one
/// workspace per chunk and adds up the chunks' results in chunk order gives the same numbers on every run with the
/// same count, whichever thread ran which chunk. <see cref="Run"/> allocates nothing once the threads exist.
/// </summary>
/// <remarks>
/// <para>How a job is run, and why it is safe:</para>
/// <list type="bullet">
/// <item>A job's description (body, pinned spans, sizes) is written before the job is published, and the job is
/// published by one atomic write of <see cref="_state"/>, which packs the job's sequence number, its chunk count and
/// the number of chunks claimed so far into one 64-bit word.</item>
/// <item>A thread takes a chunk by one compare-and-swap that raises the claimed count of that same word: a claim
/// can only succeed for the job that is published at that instant, and each chunk index is handed out once.</item>
/// <item>The job is over when every chunk has finished (<see cref="_unfinished"/> reaches zero). A thread that holds
/// a claimed, unfinished chunk therefore keeps the job, and its pinned spans, alive: the description cannot change
/// under it, and <see cref="Run"/> cannot return while any chunk still runs.</item>
/// <item>The calling thread claims chunks too, so if a worker is slow to wake, the caller runs its chunk instead of
/// waiting for it. A job of one chunk runs on the calling thread and wakes nobody.</item>
/// </list>
/// <para>Between jobs a worker spins for <see cref="SpinMicroseconds"/> (training calls come back to back) and then
/// sleeps until a job is published. Calls from several threads take turns; a call from inside a chunk or part is refused.</para>
/// <para><see cref="RunParts"/> runs the parts of one piece of work (say, ranges of a layer's filters for one image)
/// through the same machinery: part <c>t</c> is passed to its body as part <c>t</c> whoever runs it.</para>
/// </remarks>
public sealed unsafe class WorkerPool
{
    /// <summary>The process-wide pool used by generated networks.</summary>
    public static WorkerPool Shared { get; } = new();

    /// <summary>How long an idle worker, or the caller waiting for the workers, spins before it blocks.</summary>
    public const int SpinMicroseconds = 500;

    /// <summary>The largest number of chunks a job may have.</summary>
    public const int MaxWorkers = 1024;

    private static readonly long SpinTicks = Stopwatch.Frequency * SpinMicroseconds / 1_000_000;

    [ThreadStatic] private static bool t_insideChunk;
    [ThreadStatic] private static int t_workerNumber;

    /// <summary>On one of this process's pool threads, its number from 1 up (the first worker started is 1); 0 on any
    /// other thread. A worker keeps its number for its lifetime, so work handed out by number stays on one core's
    /// caches from job to job.</summary>
    public static int CurrentWorkerNumber => t_workerNumber;

    private readonly object _runLock = new();
    private readonly List<Worker> _workers = new();

    // The published job: sequence number (bits 32-63), chunk count (bits 16-31), chunks claimed (bits 0-15).
    private long _state;
    private int _unfinished;
    private readonly ManualResetEventSlim _done = new(false);

    // The job's description: written only while no chunk can be claimed (before publication, after completion).
    private BatchChunk? _body;
    private JobPart? _part;
    private float* _inputs, _outputs;
    private int* _labels;
    private int _batch, _chunks, _inputLength, _outputLength;
    private bool _hasLabels, _hasOutputs;
    private ExceptionDispatchInfo? _failure;

    private sealed class Worker
    {
        public readonly ManualResetEventSlim Wake = new(false);
        public int Sleeping;
    }

    /// <summary>
    /// Runs <paramref name="body"/> on <c>min(workers, batchSize)</c> chunks of the batch and returns when all are done.
    /// Chunk <c>t</c> holds images <c>[t * batch / n, (t + 1) * batch / n)</c> and is passed to the body as worker
    /// <c>t</c>. <paramref name="inputs"/> holds <paramref name="inputLength"/> values per image; <paramref name="labels"/>
    /// is empty or holds one label per image; <paramref name="outputs"/> is empty or holds
    /// <paramref name="outputLength"/> values per image. An exception in any chunk is rethrown here once all chunks
    /// have finished (the first one, if several fail).
    /// </summary>
    public void Run(int workers, int batchSize, int inputLength, ReadOnlySpan<float> inputs, ReadOnlySpan<int> labels,
        int outputLength, Span<float> outputs, BatchChunk body)
    {
        ArgumentNullException.ThrowIfNull(body);
        ArgumentOutOfRangeException.ThrowIfLessThan(workers, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(workers, MaxWorkers);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(inputLength);
        ArgumentOutOfRangeException.ThrowIfNegative(outputLength);
        if (inputs.Length != (long)inputLength * batchSize)
            throw new ArgumentException($"Expected {(long)inputLength * batchSize} input values ({batchSize} x {inputLength}), but got {inputs.Length}.", nameof(inputs));
        if (!labels.IsEmpty && labels.Length != batchSize)
            throw new ArgumentException($"Expected no labels or {batchSize}, one per image, but got {labels.Length}.", nameof(labels));
        if (!outputs.IsEmpty && outputs.Length != (long)outputLength * batchSize)
            throw new ArgumentException($"Expected no outputs or {(long)outputLength * batchSize} values ({batchSize} x {outputLength}), but got {outputs.Length}.", nameof(outputs));
        if (t_insideChunk)
            throw new InvalidOperationException("WorkerPool.Run was called from inside a chunk or part of another job; chunks and parts cannot start jobs of their own.");

        int chunks = Math.Min(workers, batchSize);
        if (chunks == 1)
        {
            RunInline(body, batchSize, inputs, labels, outputs);
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
                _hasLabels = !labels.IsEmpty; _hasOutputs = !outputs.IsEmpty;
                Publish(chunks);

                _body = null;
                _inputs = null; _labels = null; _outputs = null;
                var failure = _failure;
                _failure = null;
                failure?.Throw();
            }
        }
    }

    /// <summary>
    /// Runs <paramref name="body"/> once for each part <c>t</c> in <c>[0, parts)</c>, as <c>body(t, parts)</c>, on the
    /// calling thread and the workers, and returns when all are done. What each part does is the body's to decide from
    /// <c>t</c> alone, so the work is divided the same way on every run. A job of one part runs on the calling thread
    /// and wakes nobody. An exception in any part is rethrown here once all parts have finished (the first one, if
    /// several fail). Allocates nothing once the threads exist.
    /// </summary>
    public void RunParts(int parts, JobPart body)
    {
        ArgumentNullException.ThrowIfNull(body);
        ArgumentOutOfRangeException.ThrowIfLessThan(parts, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(parts, MaxWorkers);
        if (t_insideChunk)
            throw new InvalidOperationException("WorkerPool.RunParts was called from inside a chunk or part of another job; chunks and parts cannot start jobs of their own.");
        if (parts == 1)
        {
            t_insideChunk = true;
            try
            {
                body(0, 1);
            }
            finally
            {
                t_insideChunk = false;
            }
            return;
        }
        lock (_runLock)
        {
            EnsureWorkers(parts - 1);
            _part = body;
            _chunks = parts;
            Publish(parts);
            _part = null;
            var failure = _failure;
            _failure = null;
            failure?.Throw();
        }
    }

    /// <summary>Publishes the described job of <paramref name="chunks"/> chunks, runs chunks on this thread too, and
    /// waits until every chunk has finished.</summary>
    private void Publish(int chunks)
    {
        _failure = null;
        Volatile.Write(ref _unfinished, chunks);
        long sequence = (long)((ulong)Volatile.Read(ref _state) >> 32) + 1;
        Interlocked.Exchange(ref _state, (sequence << 32) | ((long)chunks << 16)); // publishes the job (full fence)
        WakeSleepers(chunks - 1);

        while (TryClaim(out int chunk)) RunChunk(chunk);
        WaitUntilFinished();
    }

    private static void RunInline(BatchChunk body, int batchSize, ReadOnlySpan<float> inputs, ReadOnlySpan<int> labels, Span<float> outputs)
    {
        t_insideChunk = true;
        try
        {
            body(0, 0, batchSize, inputs, labels, outputs);
        }
        finally
        {
            t_insideChunk = false;
        }
    }

    /// <summary>Claims the next unclaimed chunk of the published job, if any.</summary>
    private bool TryClaim(out int chunk)
    {
        while (true)
        {
            long state = Volatile.Read(ref _state);
            int claimed = (int)(state & 0xFFFF), chunks = (int)((state >> 16) & 0xFFFF);
            if (claimed >= chunks)
            {
                chunk = -1;
                return false;
            }
            if (Interlocked.CompareExchange(ref _state, state + 1, state) == state)
            {
                chunk = claimed;
                return true;
            }
        }
    }

    private static bool HasUnclaimedChunk(long state) => (state & 0xFFFF) < ((state >> 16) & 0xFFFF);

    private void RunChunk(int t)
    {
        if (_part is { } part)
        {
            RunPart(part, t);
            return;
        }
        int start = (int)((long)t * _batch / _chunks), end = (int)((long)(t + 1) * _batch / _chunks), count = end - start;
        var inputs = new ReadOnlySpan<float>(_inputs + (long)start * _inputLength, count * _inputLength);
        var labels = _hasLabels ? new ReadOnlySpan<int>(_labels + start, count) : default;
        var outputs = _hasOutputs ? new Span<float>(_outputs + (long)start * _outputLength, count * _outputLength) : default;
        t_insideChunk = true;
        try
        {
            _body!(t, start, count, inputs, labels, outputs);
        }
        catch (Exception e)
        {
            Interlocked.CompareExchange(ref _failure, ExceptionDispatchInfo.Capture(e), null);
        }
        finally
        {
            t_insideChunk = false;
        }
        // The last chunk to finish ends the job; nothing of the job is touched after this line.
        if (Interlocked.Decrement(ref _unfinished) == 0) _done.Set();
    }

    private void RunPart(JobPart part, int t)
    {
        t_insideChunk = true;
        try
        {
            part(t, _chunks);
        }
        catch (Exception e)
        {
            Interlocked.CompareExchange(ref _failure, ExceptionDispatchInfo.Capture(e), null);
        }
        finally
        {
            t_insideChunk = false;
        }
        // The last part to finish ends the job; nothing of the job is touched after this line.
        if (Interlocked.Decrement(ref _unfinished) == 0) _done.Set();
    }

    /// <summary>The caller's wait for chunks still running on workers: a short spin, then a block.</summary>
    private void WaitUntilFinished()
    {
        long start = Stopwatch.GetTimestamp();
        while (Volatile.Read(ref _unfinished) != 0)
        {
            if (Stopwatch.GetTimestamp() - start < SpinTicks)
            {
                Thread.SpinWait(8);
                continue;
            }
            // A Set left over from an earlier job may wake this wait early: the loop looks at the count again.
            _done.Reset();
            if (Volatile.Read(ref _unfinished) != 0) _done.Wait();
        }
    }

    private void WakeSleepers(int wanted)
    {
        for (int i = 0; i < _workers.Count && wanted > 0; i++)
        {
            var worker = _workers[i];
            if (Volatile.Read(ref worker.Sleeping) != 0)
            {
                worker.Wake.Set();
                wanted--;
            }
        }
    }

    private void EnsureWorkers(int count)
    {
        while (_workers.Count < count)
        {
            var worker = new Worker();
            _workers.Add(worker);
            int number = _workers.Count;
            var thread = new Thread(() =>
            {
                t_workerNumber = number;
                Loop(worker);
            }) { IsBackground = true, Name = $"CnnGen worker {number}" };
            thread.Start();
        }
    }

    private void Loop(Worker worker)
    {
        long idleSince = Stopwatch.GetTimestamp();
        while (true)
        {
            if (TryClaim(out int chunk))
            {
                RunChunk(chunk);
                idleSince = Stopwatch.GetTimestamp();
                continue;
            }
            if (Stopwatch.GetTimestamp() - idleSince < SpinTicks)
            {
                Thread.SpinWait(8);
                continue;
            }
            // Announce the sleep, then look again, so a job published meanwhile is not missed: the publisher writes
            // the job before it reads Sleeping, and this thread writes Sleeping before it reads the job.
            worker.Wake.Reset();
            Interlocked.Exchange(ref worker.Sleeping, 1);
            if (!HasUnclaimedChunk(Volatile.Read(ref _state))) worker.Wake.Wait();
            Interlocked.Exchange(ref worker.Sleeping, 0);
            idleSince = Stopwatch.GetTimestamp();
        }
    }
}
