using System.Diagnostics;
using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Net.Http.Headers;
using BadHttpRequestException = Microsoft.AspNetCore.Http.BadHttpRequestException;

namespace CnnGen.Samples.Web;

/// <summary>
/// What <c>serve</c> answers, on ASP.NET Core's Kestrel:
/// <list type="bullet">
/// <item><c>GET /</c>: a page to draw on;</item>
/// <item><c>POST /activations</c>: a JSON array of grey levels in [0, 1] (one image, C,H,W row-major) answered with
/// every layer's output (<see cref="INetwork.Activations"/>, after subtracting the training set's mean pixel) and the
/// class probabilities;</item>
/// <item><c>POST /predict[?top=N&amp;invert=true]</c>: a PNG, JPEG, BMP, PGM or PPM picture, or raw little-endian float32
/// grey levels (<c>application/octet-stream</c>), answered with the top classes, every probability and the time the
/// network took;</item>
/// <item><c>GET /healthz</c>: whether the server is up, and how many network instances are idle.</item>
/// </list>
/// Errors are JSON <c>{status, error}</c> (400 bad body or Host, 404, 405 with <c>Allow</c>, 413 body too large, 415
/// unreadable Content-Type). Requests whose Host header names no allowed host are refused (loopback names by default),
/// bodies are limited per path, and connections are bounded by <see cref="ServerSettings.MaxConnections"/>.
/// <para>
/// Concurrency: a network instance's <c>Forward</c> must never run on two threads at once (its workspaces are shared
/// between calls; the generated networks throw <see cref="InvalidOperationException"/> when it happens). The server
/// therefore holds a <see cref="NetworkPool"/> of instances of the same trained network and every request rents one
/// for the time of its forward pass; requests beyond the pool's size wait for an instance to come back. The
/// <c>serve</c> command loads one instance per core (or <c>--instances</c>), each from the same checkpoint and on one
/// worker thread.
/// </para>
/// </summary>
public sealed class ActivationServer : IDisposable, IAsyncDisposable
{
    private readonly NetworkPool _pool;
    private readonly INetwork _prototype;
    private readonly IReadOnlyList<string> _classNames;
    private readonly string[] _pageClassNames;
    private readonly float _mean;
    private readonly ServerSettings _settings;
    private readonly HashSet<string> _allowedHosts;
    /// <summary>Pictures decoded at once: a 16-megapixel one takes about 80 MB while it is converted, so this bounds
    /// the memory that many large uploads at once could take.</summary>
    private readonly SemaphoreSlim _decoding = new(Math.Max(2, Environment.ProcessorCount));
    private WebApplication? _app;

    /// <summary>A server for one network instance (requests take turns with it).</summary>
    /// <param name="network">The network; only this server should use it while it runs.</param>
    /// <param name="classNames">Names of the output classes (none for any beyond them).</param>
    /// <param name="inputMean">The mean pixel subtracted from the training images, subtracted from every input too.</param>
    /// <param name="settings">Address, allowed hosts and limits; the defaults when null.</param>
    public ActivationServer(INetwork network, IReadOnlyList<string> classNames, float inputMean, ServerSettings? settings = null)
        : this(new NetworkPool([network ?? throw new ArgumentNullException(nameof(network))]), classNames, inputMean, settings)
    {
    }

    /// <summary>A server whose requests rent instances from <paramref name="pool"/>.</summary>
    public ActivationServer(NetworkPool pool, IReadOnlyList<string> classNames, float inputMean, ServerSettings? settings = null)
    {
        ArgumentNullException.ThrowIfNull(pool);
        ArgumentNullException.ThrowIfNull(classNames);
        var network = pool.Prototype;
        if (network.InputChannels != 1)
            throw new ArgumentException($"{network.Name} takes {network.InputChannels} input channels; the page draws grey images (one channel).", nameof(pool));
        if (!float.IsFinite(inputMean)) throw new ArgumentOutOfRangeException(nameof(inputMean), inputMean, "The input mean must be finite.");
        _settings = settings ?? new ServerSettings();
        if (_settings.MaxConnections < 1) throw new ArgumentOutOfRangeException(nameof(settings), _settings.MaxConnections, "MaxConnections must be at least 1.");
        if (_settings.MaxImageBytes < 1) throw new ArgumentOutOfRangeException(nameof(settings), _settings.MaxImageBytes, "MaxImageBytes must be at least 1.");
        _pool = pool;
        _prototype = network;
        _classNames = [.. classNames];
        _pageClassNames = Enumerable.Range(0, network.OutputLength).Select(i => i < classNames.Count ? classNames[i] : $"class {i}").ToArray();
        _mean = inputMean;
        _allowedHosts = new HashSet<string>(_settings.AllowedHosts, StringComparer.OrdinalIgnoreCase);
        MaxBodyBytes = Math.Max(64 * 1024, network.InputLength * 32);
        Page = ReadPage();
    }

    /// <summary>Largest <c>POST /activations</c> body: room for every input value written out in full.</summary>
    public int MaxBodyBytes { get; }

    /// <summary>Largest <c>POST /predict</c> body.</summary>
    public int MaxImageBytes => _settings.MaxImageBytes;

    /// <summary>The network instances requests rent.</summary>
    public NetworkPool Pool => _pool;

    /// <summary>The port listened on (the one chosen by the system when started with port 0), 0 when stopped.</summary>
    public int Port { get; private set; }

    /// <summary>The page's address, e.g. <c>http://localhost:8080/</c>.</summary>
    public Uri Url => new($"http://localhost:{Port.ToString(CultureInfo.InvariantCulture)}/");

    /// <summary>The page served at <c>/</c>.</summary>
    internal byte[] Page { get; }

    /// <summary>The grey levels of the last drawing answered (before the mean is subtracted); null before the first.</summary>
    public float[]? LastDrawing { get; private set; }

    /// <summary>Listens at <paramref name="port"/> (0: any free port; <see cref="Port"/> tells which). Throws
    /// <see cref="IOException"/> when the port is taken.</summary>
    public void Start(int port) => StartAsync(port).GetAwaiter().GetResult();

    /// <inheritdoc cref="Start"/>
    public async Task StartAsync(int port)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(port);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, 65535);
        if (_app is not null) throw new InvalidOperationException("The server is already running.");
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
        {
            kestrel.Listen(_settings.Address, port);
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxConcurrentConnections = _settings.MaxConnections;
            kestrel.Limits.MaxRequestBodySize = Math.Max(MaxBodyBytes, MaxImageBytes);  // each path lowers it for its own body
            kestrel.Limits.MaxRequestHeadersTotalSize = 16 * 1024;
            kestrel.Limits.MaxRequestLineSize = 8 * 1024;
            kestrel.Limits.RequestHeadersTimeout = TimeSpan.FromSeconds(10);
        });
        builder.Services.AddSingleton<IHostLifetime, OwnerStoppedLifetime>();
        builder.Services.Configure<HostOptions>(options => options.ShutdownTimeout = _settings.ShutdownTimeout);
        var app = builder.Build();
        app.Run(HandleAsync);
        try
        {
            await app.StartAsync();
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }
        _app = app;
        Port = new Uri(app.Urls.First()).Port;
    }

    /// <summary>Stops listening and waits (at most <see cref="ServerSettings.ShutdownTimeout"/>) for the requests in
    /// progress to be answered.</summary>
    public void Stop() => StopAsync().GetAwaiter().GetResult();

    /// <inheritdoc cref="Stop"/>
    public async Task StopAsync()
    {
        var app = Interlocked.Exchange(ref _app, null);
        if (app is null) return;
        try
        {
            await app.StopAsync();
        }
        finally
        {
            await app.DisposeAsync();
            Port = 0;
        }
    }

    public void Dispose()
    {
        Stop();
        _decoding.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _decoding.Dispose();
    }

    /// <summary>Routes a request; every refusal is a JSON error naming the problem.</summary>
    private async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        context.Response.Headers.CacheControl = "no-store";
        context.Response.Headers.XContentTypeOptions = "nosniff";
        try
        {
            string host = request.Host.Host;
            if (!_allowedHosts.Contains(host))
            {
                await JsonAnswers.Error(context, 400, host.Length == 0
                    ? $"The request has no Host header: this server answers {string.Join(", ", _settings.AllowedHosts)}."
                    : $"Host {host} is not served here: this server answers {string.Join(", ", _settings.AllowedHosts)}.");
                return;
            }
            string path = request.Path.HasValue ? request.Path.Value! : "/";
            string method = request.Method;
            switch (path)
            {
                case "/":
                case "/index.html":
                    if (HttpMethods.IsGet(method) || HttpMethods.IsHead(method)) await JsonAnswers.Body(context, 200, "text/html; charset=utf-8", Page);
                    else await JsonAnswers.Error(context, 405, $"{method} is not allowed on {path}: use GET.", allow: "GET, HEAD");
                    break;
                case "/healthz":
                    if (HttpMethods.IsGet(method) || HttpMethods.IsHead(method)) await JsonAnswers.Body(context, 200, "application/json", Health());
                    else await JsonAnswers.Error(context, 405, $"{method} is not allowed on /healthz: use GET.", allow: "GET, HEAD");
                    break;
                case "/activations":
                    if (HttpMethods.IsPost(method)) await ActivationsAsync(context);
                    else await JsonAnswers.Error(context, 405, $"{method} is not allowed on /activations: POST a JSON array of {_prototype.InputLength} grey levels.", allow: "POST");
                    break;
                case "/predict":
                    if (HttpMethods.IsPost(method)) await PredictAsync(context);
                    else await JsonAnswers.Error(context, 405, $"{method} is not allowed on /predict: POST a picture or {_prototype.InputLength} float32 values.", allow: "POST");
                    break;
                default:
                    await JsonAnswers.Error(context, 404, $"Nothing at {path}: the page is at /, and the network answers POST /activations, POST /predict and GET /healthz.");
                    break;
            }
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client went away: nobody to answer.
        }
        catch (BadHttpRequestException e)
        {
            // Kestrel found the body malformed (e.g. a chunk that does not parse) or cut short.
            if (!context.Response.HasStarted) await JsonAnswers.Error(context, e.StatusCode, $"Bad request body: {e.Message}");
        }
    }

    private async Task ActivationsAsync(HttpContext context)
    {
        var body = await RequestBodies.ReadAsync(context, MaxBodyBytes);
        if (body is null) return;
        var (input, problem) = ParseInput(body);
        if (problem is not null)
        {
            await JsonAnswers.Error(context, 400, problem);
            return;
        }
        var drawing = (float[])input!.Clone();
        for (int i = 0; i < input.Length; i++) input[i] -= _mean;
        float[][] activations;
        using (var lease = await _pool.RentAsync(context.RequestAborted))
            activations = lease.Network.Activations(input);
        LastDrawing = drawing;
        await JsonAnswers.Body(context, 200, "application/json", ActivationsJson.Write(_prototype, _mean, _pageClassNames, activations));
    }

    private async Task PredictAsync(HttpContext context)
    {
        var options = PredictQuery.Parse(context.Request.Query, _prototype.OutputLength);
        if (options.Problem is not null)
        {
            await JsonAnswers.Error(context, 400, options.Problem);
            return;
        }
        var body = await RequestBodies.ReadAsync(context, MaxImageBytes);
        if (body is null) return;
        string? mediaType = MediaTypeHeaderValue.TryParse(context.Request.ContentType, out var parsed) ? parsed.MediaType.Value : context.Request.ContentType;
        PredictInput.Result read;
        await _decoding.WaitAsync(context.RequestAborted);
        try
        {
            read = PredictInput.Read(body, mediaType, _prototype, options.Invert);
        }
        finally
        {
            _decoding.Release();
        }
        if (read.Input is null)
        {
            await JsonAnswers.Error(context, read.Status, read.Problem!);
            return;
        }
        float[] input = read.Input;
        for (int i = 0; i < input.Length; i++) input[i] -= _mean;
        var output = new float[_prototype.OutputLength];
        double microseconds;
        using (var lease = await _pool.RentAsync(context.RequestAborted))
        {
            long started = Stopwatch.GetTimestamp();
            lease.Network.Forward(input, output, 1);
            microseconds = Stopwatch.GetElapsedTime(started).TotalMicroseconds;
        }
        var probabilities = Probabilities.Of(_prototype, output);
        await JsonAnswers.Body(context, 200, "application/json", PredictionJson.Write(_prototype, read.Source, _classNames, probabilities, options.Top, microseconds));
    }

    private byte[] Health()
    {
        using var buffer = new MemoryStream();
        using (var json = new System.Text.Json.Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("status", "ok");
            json.WriteString("network", _prototype.Name);
            json.WriteNumber("instances", _pool.Size);
            json.WriteNumber("idle", _pool.Idle);
            json.WriteEndObject();
        }
        return buffer.ToArray();
    }

    /// <summary>The grey levels of a <c>POST /activations</c> body, or what is wrong with it.</summary>
    internal (float[]? Input, string? Problem) ParseInput(ReadOnlySpan<byte> body) => ActivationsJson.Parse(body, _prototype);

    private static byte[] ReadPage()
    {
        using var stream = typeof(ActivationServer).Assembly.GetManifestResourceStream("CnnGen.Samples.Web.index.html")
            ?? throw new InvalidOperationException("The page is missing from the assembly.");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}
