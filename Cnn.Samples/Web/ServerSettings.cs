using System.Net;

namespace CnnGen.Samples.Web;

/// <summary>Where and how much <see cref="ActivationServer"/> serves.</summary>
public sealed record ServerSettings
{
    /// <summary>The address listened on: the loopback interface unless said otherwise.</summary>
    public IPAddress Address { get; init; } = IPAddress.Loopback;

    /// <summary>Host names (the <c>Host</c> header without its port) answered; any other gets 400, which stops DNS
    /// rebinding from reaching the server through a browser. Loopback names by default.</summary>
    public IReadOnlyList<string> AllowedHosts { get; init; } = ["localhost", "127.0.0.1", "[::1]"];

    /// <summary>Connections open at once (Kestrel's MaxConcurrentConnections); further ones are closed on arrival
    /// until some end.</summary>
    public int MaxConnections { get; init; } = 1024;

    /// <summary>Largest picture or float32 body taken by <c>POST /predict</c>.</summary>
    public int MaxImageBytes { get; init; } = 8 * 1024 * 1024;

    /// <summary>How long stopping waits for the requests in progress.</summary>
    public TimeSpan ShutdownTimeout { get; init; } = TimeSpan.FromSeconds(10);
}
