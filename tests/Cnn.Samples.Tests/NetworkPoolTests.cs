using CnnGen.Samples.Networks;
using CnnGen.Samples.Web;
using Xunit;

namespace CnnGen.Samples.Tests;

/// <summary>The pool of network instances behind the server: one holder per instance at a time.</summary>
public sealed class NetworkPoolTests
{
    [Fact]
    public async Task RentingTakesAnIdleInstanceAndWaitsWhenNoneIs()
    {
        var pool = NetworkPool.Create(() => new LeNet5(seed: 1), 2);
        Assert.Equal((2, 2), (pool.Size, pool.Idle));
        var a = await pool.RentAsync(CancellationToken.None);
        var b = await pool.RentAsync(CancellationToken.None);
        Assert.NotSame(a.Network, b.Network);
        Assert.Equal(0, pool.Idle);

        var waiting = pool.RentAsync(CancellationToken.None).AsTask();
        await Task.Delay(100);
        Assert.False(waiting.IsCompleted);
        var first = a.Network;
        a.Dispose();
        a.Dispose();  // returning twice returns once
        var c = await waiting.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Same(first, c.Network);
        Assert.Throws<ObjectDisposedException>(() => a.Network);

        using var cancel = new CancellationTokenSource(50);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pool.RentAsync(cancel.Token).AsTask());
        b.Dispose();
        c.Dispose();
        Assert.Equal(2, pool.Idle);
    }

    [Fact]
    public void APoolHoldsDistinctCopiesOfOneNetworkInEvaluationMode()
    {
        var net = new LeNet5(seed: 1) { Training = true };
        Assert.Contains("appears twice", Assert.Throws<ArgumentException>(() => new NetworkPool([net, net])).Message);
        Assert.Contains("not a LeNet5", Assert.Throws<ArgumentException>(() => new NetworkPool([net, new LeNet5BatchNorm(seed: 1)])).Message);
        Assert.Throws<ArgumentException>(() => new NetworkPool([]));
        Assert.Throws<ArgumentOutOfRangeException>(() => NetworkPool.Create(() => new LeNet5(seed: 1), 0));
        var pool = new NetworkPool([net, new LeNet5(seed: 1)]);
        Assert.False(net.Training);
        Assert.Same(net, pool.Prototype);
    }
}
