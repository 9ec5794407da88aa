using System.Threading.Channels;

namespace CnnGen.Samples.Web;

/// <summary>
/// Instances of one network (the same architecture and parameters), rented one request at a time: a network's
/// <c>Forward</c> must never run on two threads at once, because its workspaces are shared by its calls.
/// </summary>
public sealed class NetworkPool
{
    private readonly Channel<INetwork> _idle;
    private readonly INetwork[] _instances;

    /// <param name="instances">At least one; all of the same network (name and fingerprint), in evaluation mode.</param>
    public NetworkPool(IReadOnlyList<INetwork> instances)
    {
        ArgumentNullException.ThrowIfNull(instances);
        if (instances.Count == 0) throw new ArgumentException("A pool needs at least one network instance.", nameof(instances));
        var first = instances[0];
        for (int i = 0; i < instances.Count; i++)
        {
            var instance = instances[i] ?? throw new ArgumentException($"Instance {i} is null.", nameof(instances));
            if (instance.Fingerprint != first.Fingerprint)
                throw new ArgumentException($"Instance {i} is a {instance.Name}, not a {first.Name} like instance 0: a pool holds copies of one network.", nameof(instances));
            if (instances.Take(i).Any(other => ReferenceEquals(other, instance)))
                throw new ArgumentException($"Instance {i} appears twice: two requests would share it.", nameof(instances));
            instance.Training = false;
        }
        _instances = [.. instances];
        _idle = Channel.CreateBounded<INetwork>(new BoundedChannelOptions(_instances.Length) { SingleReader = false, SingleWriter = false });
        foreach (var instance in _instances) _idle.Writer.TryWrite(instance);
    }

    /// <summary><paramref name="count"/> instances made by <paramref name="create"/> (e.g. each loaded from the same checkpoint).</summary>
    public static NetworkPool Create(Func<INetwork> create, int count)
    {
        ArgumentNullException.ThrowIfNull(create);
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        return new NetworkPool(Enumerable.Range(0, count).Select(_ => create()).ToArray());
    }

    /// <summary>One of the instances, for its shapes, names and layers (not for running it).</summary>
    public INetwork Prototype => _instances[0];

    /// <summary>How many instances the pool holds.</summary>
    public int Size => _instances.Length;

    /// <summary>How many are idle now.</summary>
    public int Idle => _idle.Reader.Count;

    /// <summary>Waits for an idle instance; disposing the lease returns it.</summary>
    public async ValueTask<Lease> RentAsync(CancellationToken cancel)
    {
        var network = await _idle.Reader.ReadAsync(cancel);
        return new Lease(this, network);
    }

    private void Return(INetwork network) => _idle.Writer.TryWrite(network);

    /// <summary>An instance for the holder alone until disposed.</summary>
    public sealed class Lease : IDisposable
    {
        private readonly NetworkPool _pool;
        private INetwork? _network;

        internal Lease(NetworkPool pool, INetwork network)
        {
            _pool = pool;
            _network = network;
        }

        public INetwork Network => _network ?? throw new ObjectDisposedException(nameof(Lease), "The network was returned to the pool.");

        public void Dispose()
        {
            var network = Interlocked.Exchange(ref _network, null);
            if (network is not null) _pool.Return(network);
        }
    }
}
