using Microsoft.Extensions.Hosting;

namespace CnnGen.Samples.Web;

/// <summary>A host lifetime that leaves Ctrl+C and SIGTERM alone: the server's owner (the <c>serve</c> command, a
/// test) decides when it stops, and several servers can live in one process.</summary>
internal sealed class OwnerStoppedLifetime : IHostLifetime
{
    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
