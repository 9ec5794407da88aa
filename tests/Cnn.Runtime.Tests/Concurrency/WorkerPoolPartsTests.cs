using CnnGen.GeneratedNetworks;
using CnnGen.Parallelism;
using Xunit;

namespace CnnGen.Tests.Concurrency;

/// <summary>
/// <see cref="WorkerPool.RunParts"/>, the parts of one piece of work run by the caller and the workers, mixed with
/// batch jobs; and <see cref="LayerSplit{TWorkspace}"/>, which cuts a layer's units into ranges of whole blocks.
/// </summary>
public sealed class WorkerPoolPartsTests
{
    [Fact]
    public void EveryPartRunsExactlyOnceAndAllHaveFinishedWhenRunPartsReturns()
    {
        var pool = new WorkerPool();
        var random = new Random(21);
        var runs = new int[5];
        int running = 0, jobs = 0;
        var deadline = DateTime.UtcNow.AddSeconds(3);
        while (jobs < 20_000 && DateTime.UtcNow < deadline)
        {
            int parts = random.Next(1, 6);
            bool slow = random.Next(8) == 0;
            Array.Clear(runs);
            pool.RunParts(parts, (part, count) =>
            {
                Interlocked.Increment(ref running);
                if (count != parts) throw new InvalidOperationException($"part {part} was told of {count} parts, not {parts}");
                Interlocked.Increment(ref runs[part]);
                if (slow && part == parts - 1) Thread.SpinWait(20_000);
                Interlocked.Decrement(ref running);
            });
            Assert.Equal(0, Volatile.Read(ref running));
            for (int t = 0; t < runs.Length; t++)
                Assert.True(runs[t] == (t < parts ? 1 : 0), $"job {jobs} ({parts} parts): part {t} ran {runs[t]} times");
            // A batch job in between: the two kinds of job share the workers.
            if (jobs % 3 == 0)
            {
                int chunks = 0;
                pool.Run(3, 6, 0, default, default, 0, default, (_, _, _, _, _, _) => Interlocked.Increment(ref chunks));
                Assert.Equal(3, chunks);
            }
            jobs++;
        }
        Assert.True(jobs >= 100, $"only {jobs} jobs in the time allowed");
    }

    [Fact]
    public void PartsRunOnTheWorkersTooAndOnePartOnTheCaller()
    {
        var pool = new WorkerPool();
        int caller = Environment.CurrentManagedThreadId;
        var threads = new int[2];
        // Each part waits (for a bounded time) until the other has started, so they cannot both run on one thread.
        int started = 0;
        pool.RunParts(2, (part, _) =>
        {
            threads[part] = Environment.CurrentManagedThreadId;
            Interlocked.Increment(ref started);
            var until = DateTime.UtcNow.AddSeconds(10);
            while (Volatile.Read(ref started) < 2 && DateTime.UtcNow < until) Thread.SpinWait(100);
        });
        Assert.Equal(2, started);
        Assert.NotEqual(threads[0], threads[1]);
        int seen = -1;
        pool.RunParts(1, (_, _) => seen = Environment.CurrentManagedThreadId);
        Assert.Equal(caller, seen);
    }

    [Fact]
    public void AnExceptionInAPartIsRethrownOnceAllPartsHaveRun()
    {
        var pool = new WorkerPool();
        for (int failing = 0; failing < 3; failing++)
        {
            int ran = 0, fails = failing;
            var e = Assert.Throws<InvalidDataException>(() => pool.RunParts(3, (part, _) =>
            {
                Interlocked.Increment(ref ran);
                if (part == fails) throw new InvalidDataException($"part {part} fails");
            }));
            Assert.Equal($"part {failing} fails", e.Message);
            Assert.Equal(3, ran);
        }
        int after = 0;
        pool.RunParts(3, (_, _) => Interlocked.Increment(ref after));
        Assert.Equal(3, after);
    }

    [Fact]
    public void AJobCannotBeStartedFromInsideAPartOrChunk()
    {
        var pool = new WorkerPool();
        var failures = new string?[2];
        pool.RunParts(2, (part, _) =>
        {
            try { pool.RunParts(2, (_, _) => { }); }
            catch (InvalidOperationException e) { failures[part] = e.Message; }
        });
        Assert.All(failures, m => Assert.Contains("from inside a chunk or part", m));
        var e = Assert.Throws<InvalidOperationException>(() =>
            pool.Run(2, 2, 0, default, default, 0, default, (_, _, _, _, _, _) => pool.RunParts(2, (_, _) => { })));
        Assert.Contains("RunParts was called from inside", e.Message);
        e = Assert.Throws<InvalidOperationException>(() =>
            pool.RunParts(2, (_, _) => pool.Run(2, 2, 0, default, default, 0, default, (_, _, _, _, _, _) => { })));
        Assert.Contains("Run was called from inside a chunk or part", e.Message);
    }

    [Fact]
    public void InvalidPartCountsAreRefused()
    {
        var pool = new WorkerPool();
        Assert.Throws<ArgumentOutOfRangeException>(() => pool.RunParts(0, (_, _) => { }));
        Assert.Throws<ArgumentOutOfRangeException>(() => pool.RunParts(WorkerPool.MaxWorkers + 1, (_, _) => { }));
        Assert.Throws<ArgumentNullException>(() => pool.RunParts(2, null!));
    }

    [Theory]
    [InlineData(20, 6, 3, new[] { 0, 6, 6, 12, 12, 20 })]
    [InlineData(16, 8, 2, new[] { 0, 8, 8, 16 })]
    [InlineData(16, 6, 2, new[] { 0, 6, 6, 16 })]
    [InlineData(257, 4, 2, new[] { 0, 128, 128, 257 })]
    [InlineData(3, 1, 3, new[] { 0, 1, 1, 2, 2, 3 })]
    [InlineData(5, 8, 2, new[] { 0, 0, 0, 5 })]
    public void RangesAreWholeBlocksCoveringEveryUnitOnce(int units, int block, int parts, int[] expected)
    {
        var ranges = new List<int>();
        for (int part = 0; part < parts; part++)
        {
            (int start, int end) = LayerSplit<NoBuffers>.Range(units, block, part, parts);
            ranges.Add(start);
            ranges.Add(end);
        }
        Assert.Equal(expected, ranges);
    }

    [Fact]
    public void ALayerSplitHandsEachRangeItsSpansAndRethrowsAFailure()
    {
        var split = new LayerSplit<NoBuffers>();
        var ws = new NoBuffers();
        var input = new float[] { 1, 2, 3, 4, 5, 6, 7 };
        var output = new float[7];
        var seen = new List<(int, int)>();
        // Each range writes input + 100 for its units; the union is the whole output.
        split.Run(3, (w, x, y, weight, bias, batch, start, end) =>
        {
            Assert.Same(ws, w);
            Assert.Equal((7, 7, 2, 1, 5), (x.Length, y.Length, weight.Length, bias.Length, batch));
            lock (seen) seen.Add((start, end));
            for (int i = start; i < end; i++) y[i] = x[i] + 100 + weight[1];
        }, ws, input, output, new float[] { 0, 0.5f }, new float[] { 9 }, batch: 5, units: 7, block: 3);
        Assert.Equal(new[] { 101.5f, 102.5f, 103.5f, 104.5f, 105.5f, 106.5f, 107.5f }, output);
        Assert.Equal(new[] { (0, 3), (3, 6), (6, 7) }, seen.OrderBy(r => r.Item1));
        // Two ranges per thread while blocks last: 20 units in blocks of 2 on 3 threads make 6 ranges.
        seen.Clear();
        split.Run(3, (_, _, _, _, _, _, start, end) => { lock (seen) seen.Add((start, end)); }, ws, input, output, default, default, 1, units: 20, block: 2);
        Assert.Equal(new[] { (0, 2), (2, 6), (6, 10), (10, 12), (12, 16), (16, 20) }, seen.OrderBy(r => r.Item1));
        // One range per thread when asked: the same 20 units make 3 ranges.
        seen.Clear();
        split.Run(3, (_, _, _, _, _, _, start, end) => { lock (seen) seen.Add((start, end)); }, ws, input, output, default, default, 1, units: 20, block: 2, piecesPerThread: 1);
        Assert.Equal(new[] { (0, 6), (6, 12), (12, 20) }, seen.OrderBy(r => r.Item1));
        Assert.Throws<ArgumentOutOfRangeException>(() => split.Run(2, (_, _, _, _, _, _, _, _) => { }, ws, input, output, default, default, 1, units: 7, block: 3, piecesPerThread: 0));
        var e = Assert.Throws<InvalidDataException>(() => split.Run(2, (_, _, _, _, _, _, start, _) =>
        {
            if (start > 0) throw new InvalidDataException("second range fails");
        }, ws, input, output, default, default, 1, units: 7, block: 3));
        Assert.Equal("second range fails", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => split.Run(2, (_, _, _, _, _, _, _, _) => { }, ws, input, output, default, default, 1, units: 0, block: 3));
    }

    [Fact]
    public void EachRangeRunsOnceWhetherItsOwnerOrAnotherThreadTakesIt()
    {
        // Threads first run the ranges they own, then take over the others' unstarted ones: whichever wins, every
        // unit is computed exactly once, on every repetition.
        var split = new LayerSplit<NoBuffers>();
        var ws = new NoBuffers();
        var counts = new int[50];
        var buffer = new float[1];
        for (int repeat = 0; repeat < 200; repeat++)
        {
            Array.Clear(counts);
            int parts = 2 + repeat % 3;
            split.Run(parts, (_, _, _, _, _, _, start, end) =>
            {
                for (int i = start; i < end; i++) Interlocked.Increment(ref counts[i]);
                if (start == 0) Thread.SpinWait(50 * (repeat % 4)); // the first range sometimes slow
            }, ws, buffer, buffer, default, default, 1, units: 50, block: 1 + repeat % 7);
            Assert.All(counts, c => Assert.Equal(1, c));
        }
    }

    /// <summary>A workspace with no buffers, for running a split outside a network.</summary>
    public sealed class NoBuffers() : NetworkWorkspace("test")
    {
        public override void Ensure(int batch, bool training) { }
    }
}
