using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace CnnGen.Samples.Web;

/// <summary>
/// A small HTTP/1.1 server on the loopback interface for <c>serve</c>: <c>GET /</c> is a page to draw on, and
/// <c>POST /activations</c> takes a JSON array of grey levels in [0, 1] (one image, C,H,W row-major) and answers with
/// every layer's output (<see cref="INetwork.Activations"/>, after subtracting the training set's mean pixel) and the
/// class probabilities. Each connection carries one request; requests reach the network one at a time.
/// </summary>
public sealed class ActivationServer : IDisposable
{
    /// <summary>Largest request head (request line and headers) read.</summary>
    public const int MaxHeadBytes = 16 * 1024;

    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(10);

    private readonly INetwork _network;
    private readonly string[] _classNames;
    private readonly float _mean;
    private readonly object _gate = new();
    private readonly List<Task> _connections = [];
    private TcpListener? _listener;
    private CancellationTokenSource? _stopping;
    private Task? _acceptLoop;

    /// <param name="network">The network, in evaluation mode; only this server should use it while it runs.</param>
    /// <param name="classNames">Names of the output classes (<c>class N</c> for any beyond them).</param>
    /// <param name="inputMean">The mean pixel subtracted from the training images, subtracted from every input too.</param>
    public ActivationServer(INetwork network, IReadOnlyList<string> classNames, float inputMean)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(classNames);
        if (network.InputChannels != 1)
            throw new ArgumentException($"{network.Name} takes {network.InputChannels} input channels; the page draws grey images (one channel).", nameof(network));
        if (!float.IsFinite(inputMean)) throw new ArgumentOutOfRangeException(nameof(inputMean), inputMean, "The input mean must be finite.");
        _network = network;
        _classNames = Enumerable.Range(0, network.OutputLength).Select(i => i < classNames.Count ? classNames[i] : $"class {i}").ToArray();
        _mean = inputMean;
        MaxBodyBytes = Math.Max(64 * 1024, network.InputLength * 32);
        Page = ReadPage();
    }

    /// <summary>Largest request body accepted: room for every input value written out in full.</summary>
    public int MaxBodyBytes { get; }

    /// <summary>The port listened on (the one chosen by the system when started with port 0), 0 when stopped.</summary>
    public int Port { get; private set; }

    /// <summary>The page's address, e.g. <c>http://localhost:8080/</c>.</summary>
    public Uri Url => new($"http://localhost:{Port.ToString(CultureInfo.InvariantCulture)}/");

    /// <summary>The page served at <c>/</c>.</summary>
    internal byte[] Page { get; }

    /// <summary>The grey levels of the last drawing answered (before the mean is subtracted); null before the first.</summary>
    public float[]? LastDrawing { get; private set; }

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
            var response = request.Error ?? Handle(request.Method, request.Target, request.Body);
            await WriteAsync(stream, response, headOnly: request.Method == "HEAD", timeout.Token);
            // Let the client read the answer before the connection closes, even if part of its body was left unread.
            client.Client.Shutdown(SocketShutdown.Send);
            var sink = new byte[4096];
            for (int total = 0; total < 4 * MaxBodyBytes;)
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

    internal sealed record Response(int Status, string ContentType, byte[] Body, string? Allow = null)
    {
        public static Response Text(int status, string message, string? allow = null) =>
            new(status, "text/plain; charset=utf-8", Encoding.UTF8.GetBytes(message + "\n"), allow);
    }

    private sealed record Request(string Method, string Target, byte[] Body, Response? Error);

    /// <summary>Answers a request: the routing and the work, apart from the connection.</summary>
    internal Response Handle(string method, string target, ReadOnlySpan<byte> body)
    {
        int query = target.IndexOfAny(['?', '#']);
        string path = query < 0 ? target : target[..query];
        switch (path)
        {
            case "/":
            case "/index.html":
                return method is "GET" or "HEAD"
                    ? new Response(200, "text/html; charset=utf-8", Page)
                    : Response.Text(405, $"{method} is not allowed on {path}: use GET.", allow: "GET, HEAD");
            case "/activations":
                return method == "POST"
                    ? Activations(body)
                    : Response.Text(405, $"{method} is not allowed on /activations: POST a JSON array of {_network.InputLength} grey levels.", allow: "POST");
            default:
                return Response.Text(404, $"Nothing at {path}: the page is at / and the network answers POST /activations.");
        }
    }

    private Response Activations(ReadOnlySpan<byte> body)
    {
        var (input, problem) = ParseInput(body);
        if (problem is not null) return Response.Text(400, problem);
        var drawing = (float[])input!.Clone();
        for (int i = 0; i < input.Length; i++) input[i] -= _mean;
        float[][] activations;
        lock (_gate)
        {
            _network.Training = false;
            activations = _network.Activations(input);
            LastDrawing = drawing;
        }
        return new Response(200, "application/json", Json(activations));
    }

    /// <summary>The grey levels of a request body, or what is wrong with it.</summary>
    internal (float[]? Input, string? Problem) ParseInput(ReadOnlySpan<byte> body)
    {
        int expected = _network.InputLength;
        string shape = $"{_network.InputChannels}x{_network.InputHeight}x{_network.InputWidth}";
        string wanted = $"a JSON array of {expected} grey levels from 0 (black) to 1 (white), one {shape} image row by row";
        if (body.IsEmpty) return (null, $"The request body is empty: send {wanted}.");
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body.ToArray());
        }
        catch (JsonException e)
        {
            return (null, $"The request body is not valid JSON ({e.Message}): send {wanted}.");
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Array)
                return (null, $"The request body is {Describe(root.ValueKind)}, not an array: send {wanted}.");
            int count = root.GetArrayLength();
            if (count != expected)
                return (null, $"Expected {expected} values ({shape}), got {count}.");
            var input = new float[expected];
            int i = 0;
            foreach (var element in root.EnumerateArray())
            {
                if (element.ValueKind != JsonValueKind.Number)
                    return (null, $"Value {i} is {Describe(element.ValueKind)}, not a number.");
                if (!element.TryGetDouble(out double value) || !double.IsFinite(value))
                    return (null, $"Value {i} ({element.GetRawText()}) is not a finite number.");
                if (value is < 0 or > 1)
                    return (null, $"Value {i} ({element.GetRawText()}) is outside 0..1: grey levels run from 0 (black) to 1 (white).");
                input[i++] = (float)value;
            }
            return (input, null);
        }
    }

    private static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "a JSON object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        _ => "null",
    };

    /// <summary>{network, input, mean, classes, predicted, probabilities, layers: [{name, kind, channels, height, width,
    /// min, max, values}]}; a value that is not finite is written as null.</summary>
    private byte[] Json(float[][] activations)
    {
        var layers = _network.Layers;
        float[] last = activations[^1];
        float[] probabilities = layers[^1].Kind == "Softmax" ? last : Softmax(last);
        int predicted = 0;
        for (int c = 1; c < probabilities.Length; c++)
            if (probabilities[c] > probabilities[predicted]) predicted = c;

        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("network", _network.Name);
            json.WriteStartObject("input");
            json.WriteNumber("channels", _network.InputChannels);
            json.WriteNumber("height", _network.InputHeight);
            json.WriteNumber("width", _network.InputWidth);
            json.WriteEndObject();
            json.WriteNumber("mean", _mean);
            json.WriteStartArray("classes");
            foreach (var name in _classNames) json.WriteStringValue(name);
            json.WriteEndArray();
            json.WriteNumber("predicted", predicted);
            WriteValues(json, "probabilities", probabilities);
            json.WriteStartArray("layers");
            for (int l = 0; l < layers.Count; l++)
            {
                var layer = layers[l];
                var values = activations[l];
                float min = float.PositiveInfinity, max = float.NegativeInfinity;
                foreach (float v in values)
                {
                    if (!float.IsFinite(v)) continue;
                    min = Math.Min(min, v);
                    max = Math.Max(max, v);
                }
                json.WriteStartObject();
                json.WriteString("name", layer.Name);
                json.WriteString("kind", layer.Kind);
                json.WriteNumber("channels", layer.OutputChannels);
                json.WriteNumber("height", layer.OutputHeight);
                json.WriteNumber("width", layer.OutputWidth);
                WriteValue(json, "min", min);
                WriteValue(json, "max", max);
                WriteValues(json, "values", values);
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        return buffer.ToArray();
    }

    private static void WriteValue(Utf8JsonWriter json, string name, float value)
    {
        if (float.IsFinite(value)) json.WriteNumber(name, value);
        else json.WriteNull(name);
    }

    private static void WriteValues(Utf8JsonWriter json, string name, float[] values)
    {
        json.WriteStartArray(name);
        foreach (float v in values)
        {
            if (float.IsFinite(v)) json.WriteNumberValue(v);
            else json.WriteNullValue();
        }
        json.WriteEndArray();
    }

    /// <summary>Probabilities of a network that ends in logits.</summary>
    private static float[] Softmax(float[] logits)
    {
        double max = logits.Max();
        double[] e = logits.Select(z => Math.Exp(z - max)).ToArray();
        double sum = e.Sum();
        return e.Select(x => (float)(x / sum)).ToArray();
    }

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
        if (length > MaxBodyBytes) return Fail(413, $"The request body has {length} bytes; at most {MaxBodyBytes} are accepted.");

        var body = new byte[length];
        int already = Math.Min(filled - end - 4, body.Length);
        head.AsSpan(end + 4, already).CopyTo(body);
        await stream.ReadExactlyAsync(body.AsMemory(already), cancel);
        return new Request(method, target, body, null);

        Request Fail(int status, string message) => new("", "", [], Response.Text(status, message));
    }

    private static async Task WriteAsync(NetworkStream stream, Response response, bool headOnly, CancellationToken cancel)
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

    private static byte[] ReadPage()
    {
        using var stream = typeof(ActivationServer).Assembly.GetManifestResourceStream("CnnGen.Samples.Web.index.html")
            ?? throw new InvalidOperationException("The page is missing from the assembly.");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}
