namespace CnnGen.Parallelism;

/// <summary>
/// Refuses a second call on one network instance while a first is still running on another thread. A network's
/// workspaces, its folded BatchNorm weights and its gradient buffer belong to the instance, so two calls at once
/// would overwrite each other's numbers; the second caller gets an <see cref="InvalidOperationException"/> instead.
/// Entering and leaving cost one interlocked operation each and allocate nothing.
/// </summary>
public sealed class CallGuard
{
    private readonly string _network;
    private int _busy;
    private string? _running;

    /// <param name="network">The network's class name, for the message.</param>
    public CallGuard(string network) => _network = network;

    /// <summary>Whether a call holds the instance now.</summary>
    public bool IsBusy => Volatile.Read(ref _busy) != 0;

    /// <summary>Takes the instance for <paramref name="method"/> until the returned scope is disposed.</summary>
    /// <exception cref="InvalidOperationException">Another call holds the instance.</exception>
    public Scope Enter(string method)
    {
        if (Interlocked.CompareExchange(ref _busy, 1, 0) != 0)
            throw new InvalidOperationException(
                $"{_network}: {method} was called while {Volatile.Read(ref _running) ?? "another call"} is still running on the same instance. " +
                "One network instance runs one call at a time (its workspaces are its own); give each thread its own instance " +
                "(copy Parameters and State into it) or take turns with a lock.");
        Volatile.Write(ref _running, method);
        return new Scope(this);
    }

    private void Leave()
    {
        Volatile.Write(ref _running, null);
        Volatile.Write(ref _busy, 0);
    }

    /// <summary>The held instance; disposing it lets the next call in.</summary>
    public readonly ref struct Scope
    {
        private readonly CallGuard? _guard;

        internal Scope(CallGuard guard) => _guard = guard;

        /// <summary>Lets the next call in.</summary>
        public void Dispose() => _guard?.Leave();
    }
}
