using Xunit;

namespace CnnGen.Tests.Concurrency;

/// <summary>
/// Generated networks on the shared worker pool: batch sizes and thread counts that change from call to call,
/// <c>Forward</c> and <c>ComputeGradients</c> interleaved, every result compared bit for bit with the same call made
/// when nothing else was going on. Each test is bounded in time.
/// </summary>
public sealed class NetworkStressTests
{
    private static readonly int[] BatchSizes = { 1, 2, 3, 7, 64, 256 };

    [Fact]
    public void ChangingBatchSizesAndThreadsGiveTheQuietResults()
    {
        var net = new RaceNet(1);
        var random = new Random(1);
        var inputs = RandomValues(random, 256 * RaceNet.InputLength);
        var labels = new int[256];
        for (int i = 0; i < labels.Length; i++) labels[i] = random.Next(RaceNet.OutputLength);

        // Forward of one image does not depend on the batch or the threads: one reference for all.
        var expectedOutputs = new float[256 * RaceNet.OutputLength];
        net.Threads = 1;
        for (int b = 0; b < 256; b++)
            net.Forward(inputs.AsSpan(b * RaceNet.InputLength, RaceNet.InputLength), expectedOutputs.AsSpan(b * RaceNet.OutputLength, RaceNet.OutputLength));

        // Gradients are added per worker, so their bits depend on the thread count: one reference per count and size.
        var expectedGradients = new Dictionary<(int, int), (float Loss, float[] Gradients)>();
        foreach (int threads in new[] { 1, 2, 3, 4 })
            foreach (int batch in BatchSizes)
            {
                net.Threads = threads;
                float loss = net.ComputeGradients(inputs.AsSpan(0, batch * RaceNet.InputLength), labels.AsSpan(0, batch), batch);
                expectedGradients[(threads, batch)] = (loss, net.Gradients.ToArray());
            }

        var outputs = new float[256 * RaceNet.OutputLength];
        int calls = 0;
        var deadline = DateTime.UtcNow.AddSeconds(4);
        // At least 100 calls however slow the machine, then as many as the time allows: the test checks results, not speed.
        while (calls < 100 || (calls < 20_000 && DateTime.UtcNow < deadline))
        {
            // Mostly single images, as in the crash report, then a batch of any size.
            int batch = random.Next(3) == 0 ? BatchSizes[random.Next(BatchSizes.Length)] : 1;
            net.Threads = random.Next(1, 5);
            if (random.Next(4) == 0)
            {
                float loss = net.ComputeGradients(inputs.AsSpan(0, batch * RaceNet.InputLength), labels.AsSpan(0, batch), batch);
                var expected = expectedGradients[(net.Threads, batch)];
                Assert.Equal(expected.Loss, loss);
                Assert.True(expected.Gradients.AsSpan().SequenceEqual(net.Gradients),
                    $"call {calls}: gradients of a batch of {batch} on {net.Threads} threads differ from the quiet run");
            }
            else
            {
                var y = outputs.AsSpan(0, batch * RaceNet.OutputLength);
                y.Fill(float.NaN);
                net.Forward(inputs.AsSpan(0, batch * RaceNet.InputLength), y, batch);
                Assert.True(expectedOutputs.AsSpan(0, y.Length).SequenceEqual(y),
                    $"call {calls}: outputs of a batch of {batch} on {net.Threads} threads differ from the quiet run");
            }
            calls++;
        }
    }

    [Fact]
    public void BatchNormTrainingWithChangingThreadsGivesTheQuietResults()
    {
        // Training mode: the workers of a batch meet at a barrier in every BatchNorm. Parameters never change here,
        // but the running statistics do, so each call starts from the same saved state.
        var net = new RaceBatchNormNet(2) { Training = true };
        var random = new Random(2);
        var inputs = RandomValues(random, 64 * RaceBatchNormNet.InputLength);
        var labels = new int[64];
        for (int i = 0; i < labels.Length; i++) labels[i] = random.Next(RaceBatchNormNet.OutputLength);
        var state = net.State.ToArray();
        int[] sizes = { 2, 3, 7, 64 };

        var expected = new Dictionary<(int, int), (float Loss, float[] Gradients, float[] State)>();
        foreach (int threads in new[] { 1, 2, 3, 4 })
            foreach (int batch in sizes)
            {
                state.CopyTo(net.State);
                net.Threads = threads;
                float loss = net.ComputeGradients(inputs.AsSpan(0, batch * RaceBatchNormNet.InputLength), labels.AsSpan(0, batch), batch);
                expected[(threads, batch)] = (loss, net.Gradients.ToArray(), net.State.ToArray());
            }

        int calls = 0;
        var deadline = DateTime.UtcNow.AddSeconds(3);
        while (calls < 50 || (calls < 5_000 && DateTime.UtcNow < deadline))
        {
            int batch = sizes[random.Next(sizes.Length)];
            net.Threads = random.Next(1, 5);
            state.CopyTo(net.State);
            float loss = net.ComputeGradients(inputs.AsSpan(0, batch * RaceBatchNormNet.InputLength), labels.AsSpan(0, batch), batch);
            var e = expected[(net.Threads, batch)];
            Assert.Equal(e.Loss, loss);
            Assert.True(e.Gradients.AsSpan().SequenceEqual(net.Gradients), $"call {calls}: gradients of {batch} on {net.Threads} threads");
            Assert.True(e.State.AsSpan().SequenceEqual(net.State), $"call {calls}: running statistics of {batch} on {net.Threads} threads");
            calls++;
        }
    }

    [Fact]
    public void TwoNetworksOnTheSharedPoolFromTwoThreadsGiveTheQuietResults()
    {
        // Two instances (as a server with one network per request thread has) share the process-wide pool.
        var random = new Random(5);
        var inputs = RandomValues(random, 64 * RaceNet.InputLength);
        var expected = new float[64 * RaceNet.OutputLength];
        new RaceNet(1).Forward(inputs, expected, 64);
        var deadline = DateTime.UtcNow.AddSeconds(3);
        var failures = new System.Collections.Concurrent.ConcurrentQueue<string>();
        void Hammer(int seed)
        {
            var net = new RaceNet(1);
            var r = new Random(seed);
            var y = new float[64 * RaceNet.OutputLength];
            for (int call = 0; call < 3_000 && DateTime.UtcNow < deadline; call++)
            {
                int batch = BatchSizes[r.Next(4)] is var s && r.Next(2) == 0 ? s : 64;
                net.Threads = r.Next(1, 4);
                var output = y.AsSpan(0, batch * RaceNet.OutputLength);
                net.Forward(inputs.AsSpan(0, batch * RaceNet.InputLength), output, batch);
                if (!expected.AsSpan(0, output.Length).SequenceEqual(output)) failures.Enqueue($"thread {seed}, call {call}, batch {batch}");
            }
        }
        var other = new Thread(() => Hammer(11));
        other.Start();
        Hammer(12);
        other.Join();
        Assert.Empty(failures);
    }

    private static float[] RandomValues(Random random, int count)
    {
        var values = new float[count];
        for (int i = 0; i < count; i++) values[i] = (float)(random.NextDouble() * 2 - 1);
        return values;
    }
}
