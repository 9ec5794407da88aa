using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace CnnGen.Samples.Web;

/// <summary>
/// A minimal HTTP/1.1 server on the loopback interface: one request per connection (<c>Connection: close</c>), bodies
/// only with a <c>Content-Length</c> and at most a given size, each request answered by a handler. No framework is
/// needed (and <c>HttpListener</c> cannot pick a free port or answer requests addressed to 127.0.0.1 under a
/// <c>localhost</c> prefix).
/// </summary>
internal sealed class LoopbackHttpServer : IDisposable
{
    /// <summary>Largest request head (request line and headers) read.</summary>
    public const int MaxHeadBytes = 16 * 1024;

    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(10);

    private readonly Func<string, string, byte[], HttpResponse> _handle;
    private readonly int _maxBodyBytes;
    private readonly List<Task> _connections = [];
    private TcpListener? _listener;
    private CancellationTokenSource? _stopping;
    private Task? _acceptLoop;

    /// <param name="handle">Answers (method, target, body); called on a pool thread, possibly for several requests at once.</param>
    /// <param name="maxBodyBytes">Largest request body accepted (larger ones get 413).</param>
    public LoopbackHttpServer(Func<string, string, byte[], HttpResponse> handle, int maxBodyBytes)
    {
        _handle = handle;
        _maxBodyBytes = maxBodyBytes;
    }

    /// <summary>The port listened on (the one chosen by the system when started with port 0), 0 when stopped.</summary>
    public int Port { get; private set; }

    /// <summary>Listens on 127.0.0.1 at <paramref name="port"/> (0: any free port; <see cref="Port"/> tells which).
    /// Throws <see cref="SocketException"/> when the port is taken.</summary>
    public void Start(int port)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(port);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, IPEndPoint.MaxPort);
        if (_listener is not null) throw new InvalidOperationException("The server is already running.");
        var listener = new TcpListener(IPAddress.Loopback, port);
        listener.Start();
        _listener = listener;
        Port = ((IPEndPoint)listener.LocalEndpoint).Port;
        _stopping = new CancellationTokenSource();
        _acceptLoop = AcceptAsync(listener, _stopping.Token);
    }

    /// <summary>Stops listening and waits for the requests in progress to end.</summary>
    public void Stop()
    {
        if (_listener is null) return;
        _stopping!.Cancel();
        _listener.Stop();
        try
        {
            _acceptLoop!.Wait();
        }
        catch (AggregateException e) when (e.InnerExceptions.All(x => x is OperationCanceledException or SocketException or ObjectDisposedException))
        {
        }
        Task[] running;
        lock (_connections) running = [.. _connections];
        Task.WaitAll(running, RequestTimeout);
        _stopping.Dispose();
        _listener = null;
        _stopping = null;
        _acceptLoop = null;
        Port = 0;
    }

    public void Dispose() => Stop();

    private async Task AcceptAsync(TcpListener listener, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await listener.AcceptTcpClientAsync(stop);
            }
            catch (Exception e) when (stop.IsCancellationRequested && e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }
            var connection = Task.Run(() => ServeAsync(client, stop));
            lock (_connections)
            {
                _connections.RemoveAll(t => t.IsCompleted);
                _connections.Add(connection);
            }
        }
    }

    /// <summary>Reads one request from the connection, answers it and closes the connection.</summary>
    private async Task ServeAsync(TcpClient client, CancellationToken stop)
    {
        using var connection = client;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stop);
        timeout.CancelAfter(RequestTimeout);
        var stream = client.GetStream();
        try
        {
            var request = await ReadRequestAsync(stream, timeout.Token);
            var response = request.Error ?? _handle(request.Method, request.Target, request.Body);
            await WriteAsync(stream, response, headOnly: request.Method == "HEAD", timeout.Token);
            // Let the client read the answer before the connection closes, even if part of its body was left unread.
            client.Client.Shutdown(SocketShutdown.Send);
            var sink = new byte[4096];
            for (int total = 0; total < 4 * _maxBodyBytes;)
            {
                int n = await stream.ReadAsync(sink, timeout.Token);
                if (n == 0) break;
                total += n;
            }
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The client went away or was too slow: nothing to answer.
        }
    }

    private sealed record Request(string Method, string Target, byte[] Body, HttpResponse? Error);

    private async Task<Request> ReadRequestAsync(NetworkStream stream, CancellationToken cancel)
    {
        var head = new byte[MaxHeadBytes];
        int filled = 0, end;
        while ((end = head.AsSpan(0, filled).IndexOf("\r\n\r\n"u8)) < 0)
        {
            if (filled == head.Length) return Fail(431, $"The request head is larger than {MaxHeadBytes} bytes.");
            int n = await stream.ReadAsync(head.AsMemory(filled), cancel);
            if (n == 0) throw new IOException("The client closed the connection before the end of the request head.");
            filled += n;
        }
        string[] lines = Encoding.ASCII.GetString(head, 0, end).Split("\r\n");
        string[] requestLine = lines[0].Split(' ');
        if (requestLine.Length != 3 || !requestLine[2].StartsWith("HTTP/1.", StringComparison.Ordinal) || !requestLine[1].StartsWith('/'))
            return Fail(400, $"Not an HTTP/1.x request line: {lines[0]}");
        string method = requestLine[0], target = requestLine[1];

        long length = 0;
        foreach (string line in lines.Skip(1))
        {
            int colon = line.IndexOf(':');
            if (colon <= 0) return Fail(400, $"Malformed header line: {line}");
            string name = line[..colon].Trim(), value = line[(colon + 1)..].Trim();
            if (name.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase))
                return Fail(411, "Chunked request bodies are not supported: send a Content-Length.");
            if (name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase)
                && (!long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out length)))
                return Fail(400, $"Bad Content-Length: {value}");
        }
        if (length > _maxBodyBytes) return Fail(413, $"The request body has {length} bytes; at most {_maxBodyBytes} are accepted.");

        var body = new byte[length];
        int already = Math.Min(filled - end - 4, body.Length);
        head.AsSpan(end + 4, already).CopyTo(body);
        await stream.ReadExactlyAsync(body.AsMemory(already), cancel);
        return new Request(method, target, body, null);

        Request Fail(int status, string message) => new("", "", [], HttpResponse.Text(status, message));
    }

    private static async Task WriteAsync(NetworkStream stream, HttpResponse response, bool headOnly, CancellationToken cancel)
    {
        var head = new StringBuilder()
            .Append(CultureInfo.InvariantCulture, $"HTTP/1.1 {response.Status} {Reason(response.Status)}\r\n")
            .Append(CultureInfo.InvariantCulture, $"Content-Type: {response.ContentType}\r\n")
            .Append(CultureInfo.InvariantCulture, $"Content-Length: {response.Body.Length}\r\n")
            .Append("Cache-Control: no-store\r\n")
            .Append("Connection: close\r\n");
        if (response.Allow is not null) head.Append(CultureInfo.InvariantCulture, $"Allow: {response.Allow}\r\n");
        head.Append("\r\n");
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head.ToString()), cancel);
        if (!headOnly) await stream.WriteAsync(response.Body, cancel);
    }

    private static string Reason(int status) => status switch
    {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        411 => "Length Required",
        413 => "Content Too Large",
        431 => "Request Header Fields Too Large",
        _ => "Error",
    };
}

/// <summary>An answer: status, content type, body, and the methods allowed (for 405).</summary>
internal sealed record HttpResponse(int Status, string ContentType, byte[] Body, string? Allow = null)
{
    public static HttpResponse Text(int status, string message, string? allow = null) =>
        new(status, "text/plain; charset=utf-8", Encoding.UTF8.GetBytes(message + "\n"), allow);
}
