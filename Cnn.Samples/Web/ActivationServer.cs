using System.Globalization;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace CnnGen.Samples.Web;

/// <summary>
/// What <c>serve</c> answers, over a <see cref="LoopbackHttpServer"/>: <c>GET /</c> is a page to draw on, and
/// <c>POST /activations</c> takes a JSON array of grey levels in [0, 1] (one image, C,H,W row-major) and answers with
/// every layer's output (<see cref="INetwork.Activations"/>, after subtracting the training set's mean pixel) and the
/// class probabilities. Each connection carries one request; requests reach the network one at a time.
/// </summary>
public sealed class ActivationServer : IDisposable
{
    private readonly INetwork _network;
    private readonly string[] _classNames;
    private readonly float _mean;
    private readonly object _gate = new();
    private readonly LoopbackHttpServer _http;

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
        _http = new LoopbackHttpServer((method, target, body) => Handle(method, target, body), MaxBodyBytes);
    }

    /// <summary>Largest request body accepted: room for every input value written out in full.</summary>
    public int MaxBodyBytes { get; }

    /// <summary>The port listened on (the one chosen by the system when started with port 0), 0 when stopped.</summary>
    public int Port => _http.Port;

    /// <summary>The page's address, e.g. <c>http://localhost:8080/</c>.</summary>
    public Uri Url => new($"http://localhost:{Port.ToString(CultureInfo.InvariantCulture)}/");

    /// <summary>The page served at <c>/</c>.</summary>
    internal byte[] Page { get; }

    /// <summary>The grey levels of the last drawing answered (before the mean is subtracted); null before the first.</summary>
    public float[]? LastDrawing { get; private set; }

    /// <summary>Listens on 127.0.0.1 at <paramref name="port"/> (0: any free port; <see cref="Port"/> tells which).
    /// Throws <see cref="SocketException"/> when the port is taken.</summary>
    public void Start(int port) => _http.Start(port);

    /// <summary>Stops listening and waits for the requests in progress to end.</summary>
    public void Stop() => _http.Stop();

    public void Dispose() => _http.Dispose();

    /// <summary>Answers a request: the routing and the work, apart from the connection.</summary>
    internal HttpResponse Handle(string method, string target, ReadOnlySpan<byte> body)
    {
        int query = target.IndexOfAny(['?', '#']);
        string path = query < 0 ? target : target[..query];
        switch (path)
        {
            case "/":
            case "/index.html":
                return method is "GET" or "HEAD"
                    ? new HttpResponse(200, "text/html; charset=utf-8", Page)
                    : HttpResponse.Text(405, $"{method} is not allowed on {path}: use GET.", allow: "GET, HEAD");
            case "/activations":
                return method == "POST"
                    ? Activations(body)
                    : HttpResponse.Text(405, $"{method} is not allowed on /activations: POST a JSON array of {_network.InputLength} grey levels.", allow: "POST");
            default:
                return HttpResponse.Text(404, $"Nothing at {path}: the page is at / and the network answers POST /activations.");
        }
    }

    private HttpResponse Activations(ReadOnlySpan<byte> body)
    {
        var (input, problem) = ParseInput(body);
        if (problem is not null) return HttpResponse.Text(400, problem);
        var drawing = (float[])input!.Clone();
        for (int i = 0; i < input.Length; i++) input[i] -= _mean;
        float[][] activations;
        lock (_gate)
        {
            _network.Training = false;
            activations = _network.Activations(input);
            LastDrawing = drawing;
        }
        return new HttpResponse(200, "application/json", Json(activations));
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
        float[] probabilities = last;
        if (layers[^1].Kind != "Softmax")
        {
            probabilities = new float[last.Length]; // a network that ends in logits
            Kernels.SoftmaxCrossEntropy.Softmax(last, probabilities);
        }
        int predicted = Kernels.SoftmaxCrossEntropy.ArgMax(probabilities);

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

    private static byte[] ReadPage()
    {
        using var stream = typeof(ActivationServer).Assembly.GetManifestResourceStream("CnnGen.Samples.Web.index.html")
            ?? throw new InvalidOperationException("The page is missing from the assembly.");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}
