using CnnGen.Parallelism;
using Xunit;

namespace CnnGen.Tests.Concurrency;

/// <summary>
/// The worker pool on its own: thousands of jobs of changing sizes and worker counts, each chunk of each job run
/// exactly once with its own slices, exceptions from inside a chunk, and no chunk still running once <c>Run</c> returns.
/// Each test is bounded in time.
/// </summary>
public sealed class WorkerPoolStressTests
{
    private static readonly int[] BatchSizes = { 1, 2, 3, 7, 64, 256 };

    [Fact]
    public void EveryChunkRunsExactlyOnceWithItsOwnSlices()
    {
        var pool = new WorkerPool();
        var random = new Random(14);
        const int inputLength = 3, outputLength = 2;
        var inputs = new float[256 * inputLength];
        for (int i = 0; i < inputs.Length; i++) inputs[i] = i;
        var labels = new int[256];
        for (int i = 0; i < labels.Length; i++) labels[i] = 1000 + i;
        var outputs = new float[256 * outputLength];
        var runs = new int[4];
        int jobs = 0;
        var deadline = DateTime.UtcNow.AddSeconds(3);
        while (jobs < 20_000 && DateTime.UtcNow < deadline)
        {
            int batch = BatchSizes[random.Next(BatchSizes.Length)], workers = random.Next(1, 5);
            int chunks = Math.Min(workers, batch);
            Array.Clear(runs);
            Array.Fill(outputs, float.NaN);
            pool.Run(workers, batch, inputLength, inputs.AsSpan(0, batch * inputLength), labels.AsSpan(0, batch),
                outputLength, outputs.AsSpan(0, batch * outputLength),
                (worker, start, count, x, y, o) =>
                {
                    Interlocked.Increment(ref runs[worker]);
                    int expectedStart = (int)((long)worker * batch / chunks);
                    int expectedEnd = (int)((long)(worker + 1) * batch / chunks);
                    if (start != expectedStart || count != expectedEnd - expectedStart)
                        throw new InvalidOperationException($"chunk {worker} of {chunks}: images [{start}, {start + count}), expected [{expectedStart}, {expectedEnd})");
                    if (x.Length != count * inputLength || y.Length != count || o.Length != count * outputLength)
                        throw new InvalidOperationException($"chunk {worker}: slices of {x.Length}, {y.Length}, {o.Length} values for {count} images");
                    for (int b = 0; b < count; b++)
                    {
                        if (x[b * inputLength] != (start + b) * inputLength || y[b] != 1000 + start + b)
                            throw new InvalidOperationException($"chunk {worker}: image {b} reads image {x[b * inputLength] / inputLength}'s input and label {y[b]}");
                        o[b * outputLength] = start + b;
                        o[b * outputLength + 1] = -(start + b);
                    }
                });
            for (int t = 0; t < 4; t++)
                Assert.True(runs[t] == (t < chunks ? 1 : 0), $"job {jobs} (batch {batch}, {workers} workers): chunk {t} ran {runs[t]} times");
            for (int i = 0; i < batch; i++)
            {
                Assert.Equal(i, outputs[i * outputLength]);
                Assert.Equal(-i, outputs[i * outputLength + 1]);
            }
            jobs++;
        }
        Assert.True(jobs >= 100, $"only {jobs} jobs in the time allowed");
    }

    [Fact]
    public void AlternatingWorkerCountsNeverEndAJobEarly()
    {
        // Jobs of 4 and 2 chunks in turn, with cheap chunks: a worker left out of one job must not run a chunk of the
        // next twice, nor let Run return before every chunk ran. The pool this one replaced failed here about once
        // every 10 seconds on this machine (4 jobs of 68,974 in 40 s had a chunk that had not run when Run returned).
        var pool = new WorkerPool();
        var runs = new int[4];
        long jobs = 0;
        var deadline = DateTime.UtcNow.AddSeconds(5);
        while (jobs < 20_000_000 && DateTime.UtcNow < deadline)
        {
            int workers = (jobs & 1) == 0 ? 4 : 2;
            Array.Clear(runs);
            pool.Run(workers, 256, 0, default, default, 0, default, (worker, start, count, x, y, o) => Interlocked.Increment(ref runs[worker]));
            for (int t = 0; t < 4; t++)
                Assert.True(Volatile.Read(ref runs[t]) == (t < workers ? 1 : 0), $"job {jobs} ({workers} chunks): chunk {t} ran {runs[t]} times by the time Run returned");
            jobs++;
        }
        Assert.True(jobs >= 1_000, $"only {jobs} jobs in the time allowed");
    }

    [Fact]
    public void NoChunkIsStillRunningWhenRunReturns()
    {
        var pool = new WorkerPool();
        var random = new Random(7);
        int running = 0, jobs = 0;
        var deadline = DateTime.UtcNow.AddSeconds(2);
        while (jobs < 10_000 && DateTime.UtcNow < deadline)
        {
            int batch = BatchSizes[random.Next(BatchSizes.Length)], workers = random.Next(1, 5);
            bool slow = random.Next(8) == 0; // now and then a chunk that takes a while, so a late worker shows
            pool.Run(workers, batch, 0, default, default, 0, default, (worker, start, count, x, y, o) =>
            {
                Interlocked.Increment(ref running);
                if (slow && worker == Math.Min(workers, batch) - 1) Thread.SpinWait(20_000);
                Interlocked.Decrement(ref running);
            });
            Assert.Equal(0, Volatile.Read(ref running));
            jobs++;
        }
    }

    [Fact]
    public void AnExceptionInAChunkIsRethrownAndThePoolGoesOn()
    {
        var pool = new WorkerPool();
        var random = new Random(3);
        var deadline = DateTime.UtcNow.AddSeconds(2);
        int jobs = 0;
        while (jobs < 5_000 && DateTime.UtcNow < deadline)
        {
            int batch = BatchSizes[random.Next(BatchSizes.Length)], workers = random.Next(1, 5);
            int chunks = Math.Min(workers, batch), failing = random.Next(chunks + 1); // == chunks: none fails
            int ran = 0;
            void Body(int worker, int start, int count, ReadOnlySpan<float> x, ReadOnlySpan<int> y, Span<float> o)
            {
                Interlocked.Increment(ref ran);
                if (worker == failing) throw new InvalidDataException($"chunk {worker} fails");
            }
            if (failing < chunks)
            {
                var e = Assert.Throws<InvalidDataException>(() => pool.Run(workers, batch, 0, default, default, 0, default, Body));
                Assert.Equal($"chunk {failing} fails", e.Message);
            }
            else pool.Run(workers, batch, 0, default, default, 0, default, Body);
            Assert.Equal(chunks, ran); // the other chunks still ran, and all had finished
            jobs++;
        }
    }

    [Fact]
    public void ASingleChunkRunsOnTheCallingThread()
    {
        var pool = new WorkerPool();
        int caller = Environment.CurrentManagedThreadId, seen = -1;
        pool.Run(4, 1, 0, default, default, 0, default, (worker, start, count, x, y, o) => seen = Environment.CurrentManagedThreadId);
        Assert.Equal(caller, seen);
        pool.Run(1, 64, 0, default, default, 0, default, (worker, start, count, x, y, o) => seen = Environment.CurrentManagedThreadId);
        Assert.Equal(caller, seen);
    }

    [Fact]
    public void InvalidArgumentsAreRefused()
    {
        var pool = new WorkerPool();
        Assert.Throws<ArgumentOutOfRangeException>(() => pool.Run(0, 4, 0, default, default, 0, default, (_, _, _, _, _, _) => { }));
        Assert.Throws<ArgumentOutOfRangeException>(() => pool.Run(2, 0, 0, default, default, 0, default, (_, _, _, _, _, _) => { }));
        Assert.Throws<ArgumentException>(() => pool.Run(2, 4, 3, new float[11], default, 0, default, (_, _, _, _, _, _) => { }));
        Assert.Throws<ArgumentException>(() => pool.Run(2, 4, 3, new float[12], new int[3], 0, default, (_, _, _, _, _, _) => { }));
        Assert.Throws<ArgumentException>(() => pool.Run(2, 4, 3, new float[12], default, 2, new float[7], (_, _, _, _, _, _) => { }));
    }
}
