using Xunit;

namespace CnnGen.Tests.Concurrency;

/// <summary>
/// One instance called from two threads at once (a web server's request threads): the second call is refused with
/// an <see cref="InvalidOperationException"/> and every call that runs gives the right numbers.
/// </summary>
public sealed class ConcurrentCallTests
{
    [Fact]
    public void ASecondCallOnTheSameInstanceIsRefusedAndNoResultIsCorrupted()
    {
        var net = new RaceNet(3) { Threads = 2 };
        var random = new Random(4);
        var inputs = new float[256 * RaceNet.InputLength];
        for (int i = 0; i < inputs.Length; i++) inputs[i] = (float)(random.NextDouble() * 2 - 1);
        var expected = new float[256 * RaceNet.OutputLength];
        net.Forward(inputs, expected, 256);
        int expectedClass = new RaceNet(3).Predict(inputs.AsSpan(0, RaceNet.InputLength));

        int refused = 0, wrong = 0, completed = 0;
        string? message = null;
        var stop = DateTime.UtcNow.AddSeconds(3);
        var batches = new Thread(() =>
        {
            var y = new float[expected.Length];
            while (DateTime.UtcNow < stop && Volatile.Read(ref refused) < 20)
            {
                try
                {
                    net.Forward(inputs, y, 256);
                    if (!y.AsSpan().SequenceEqual(expected)) Interlocked.Increment(ref wrong);
                    Interlocked.Increment(ref completed);
                }
                catch (InvalidOperationException e)
                {
                    Interlocked.Increment(ref refused);
                    Volatile.Write(ref message, e.Message);
                }
            }
        });
        batches.Start();
        while (DateTime.UtcNow < stop && Volatile.Read(ref refused) < 20)
        {
            try
            {
                if (net.Predict(inputs.AsSpan(0, RaceNet.InputLength)) != expectedClass) Interlocked.Increment(ref wrong);
                Interlocked.Increment(ref completed);
            }
            catch (InvalidOperationException e)
            {
                Interlocked.Increment(ref refused);
                Volatile.Write(ref message, e.Message);
            }
        }
        batches.Join();

        Assert.Equal(0, wrong);
        Assert.True(refused > 0, $"no call was refused in {completed} calls");
        Assert.True(completed > 0);
        Assert.Matches(@"^RaceNet: (Forward|Predict) was called while (Forward|Predict|another call) is still running on the same instance\.", message);
        // Once the other thread is gone the instance works as before.
        var after = new float[expected.Length];
        net.Forward(inputs, after, 256);
        Assert.True(after.AsSpan().SequenceEqual(expected));
    }

    [Fact]
    public void ARefusedOrFailedCallLeavesTheInstanceUsable()
    {
        var net = new RaceNet(3);
        var input = new float[RaceNet.InputLength];
        Assert.Throws<ArgumentException>(() => net.Forward(input, new float[3]));
        Assert.Throws<ArgumentException>(() => net.ComputeGradients(input, new[] { 99 }, 1));
        var output = new float[RaceNet.OutputLength];
        net.Forward(input, output); // would throw InvalidOperationException if a failed call had kept the instance
        Assert.Equal(0, net.Predict(input) - Array.IndexOf(output, output.Max()));
    }

    [Fact]
    public void SeparateInstancesRunTogether()
    {
        var random = new Random(8);
        var inputs = new float[64 * RaceNet.InputLength];
        for (int i = 0; i < inputs.Length; i++) inputs[i] = (float)(random.NextDouble() * 2 - 1);
        var expected = new float[64 * RaceNet.OutputLength];
        new RaceNet(5).Forward(inputs, expected, 64);
        var failures = 0;
        var threads = Enumerable.Range(0, 3).Select(_ => new Thread(() =>
        {
            var net = new RaceNet(5) { Threads = 2 };
            var y = new float[expected.Length];
            for (int call = 0; call < 200; call++)
            {
                net.Forward(inputs, y, 64);
                if (!y.AsSpan().SequenceEqual(expected)) Interlocked.Increment(ref failures);
            }
        })).ToArray();
        foreach (var t in threads) t.Start();
        foreach (var t in threads) t.Join();
        Assert.Equal(0, failures);
    }
}
