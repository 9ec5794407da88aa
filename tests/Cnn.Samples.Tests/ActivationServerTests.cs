using System.CommandLine;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using CnnGen.Checkpoints;
using CnnGen.Data;
using CnnGen.Samples.Commands;
using CnnGen.Samples.Networks;
using CnnGen.Samples.Web;
using Xunit;

namespace CnnGen.Samples.Tests;

/// <summary>The page and <c>POST /activations</c> of the server behind <c>serve</c>, over real HTTP on a free loopback
/// port, with a freshly made LeNet-5.</summary>
public sealed class ActivationServerTests : IDisposable
{
    private const float Mean = 0.286f;
    private readonly INetwork _network = new LeNet5(seed: 1);
    private readonly ActivationServer _server;
    private readonly HttpClient _client;

    public ActivationServerTests()
    {
        _server = new ActivationServer(_network, FashionMnist.ClassNames, Mean);
        _server.Start(0);
        _client = new HttpClient { BaseAddress = _server.Url, Timeout = TimeSpan.FromSeconds(30) };
    }

    public void Dispose()
    {
        _client.Dispose();
        _server.Dispose();
    }

    /// <summary>A drawing as the page sends it: a bright bar, a grey diagonal and a faint background, 28x28 row by row.</summary>
    private static float[] Drawing()
    {
        var image = new float[28 * 28];
        for (int y = 0; y < 28; y++)
            for (int x = 0; x < 28; x++)
                image[y * 28 + x] = y is >= 4 and < 24 && x is >= 11 and < 16 ? 1f : Math.Abs(x - y) <= 1 ? 0.5f : (x * y % 7) / 100f;
        return image;
    }

    private Task<HttpResponseMessage> Post(string body) =>
        _client.PostAsync("/activations", new StringContent(body, Encoding.UTF8, "application/json"));

    private static float[] Floats(JsonElement array) => array.EnumerateArray().Select(v => v.GetSingle()).ToArray();

    [Fact]
    public async Task TheRootServesThePageWithTheCanvasAndTheScript()
    {
        var response = await _client.GetAsync("/");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        string html = await response.Content.ReadAsStringAsync();
        Assert.StartsWith("<!DOCTYPE html>", html);
        Assert.Contains("<canvas id=\"draw\" width=\"280\" height=\"280\"></canvas>", html);
        Assert.Contains("<script>", html);
        Assert.Contains("fetch(\"activations\"", html);
        Assert.Equal(html, await _client.GetStringAsync("/?demo=1"));
    }

    [Fact]
    public async Task ADrawingGetsEveryLayerAsActivationsComputesItAfterSubtractingTheMean()
    {
        float[] drawing = Drawing();
        var response = await Post(JsonSerializer.Serialize(drawing));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var root = json.RootElement;

        float[] input = drawing.Select(v => v - Mean).ToArray();
        float[][] expected = _network.Activations(input);
        float[][] unshifted = _network.Activations(drawing);

        Assert.Equal("LeNet5", root.GetProperty("network").GetString());
        Assert.Equal(Mean, root.GetProperty("mean").GetSingle());
        Assert.Equal(28, root.GetProperty("input").GetProperty("height").GetInt32());
        Assert.Equal(FashionMnist.ClassNames, root.GetProperty("classes").EnumerateArray().Select(c => c.GetString()!));

        var layers = root.GetProperty("layers").EnumerateArray().ToArray();
        Assert.Equal(
            ["conv1", "relu1", "pool1", "conv2", "relu2", "pool2", "dense1", "relu3", "dense2", "relu4", "dense3", "softmax1"],
            layers.Select(l => l.GetProperty("name").GetString()!));
        Assert.Equal(["Conv 6x28x28", "ReLU 6x28x28", "MaxPool 6x14x14", "Conv 16x10x10", "ReLU 16x10x10", "MaxPool 16x5x5",
                "Dense 120x1x1", "ReLU 120x1x1", "Dense 84x1x1", "ReLU 84x1x1", "Dense 10x1x1", "Softmax 10x1x1"],
            layers.Select(l => $"{l.GetProperty("kind").GetString()} {l.GetProperty("channels")}x{l.GetProperty("height")}x{l.GetProperty("width")}"));
        for (int i = 0; i < layers.Length; i++)
        {
            float[] values = Floats(layers[i].GetProperty("values"));
            Assert.Equal(_network.Layers[i].OutputLength, values.Length);
            Assert.Equal(expected[i], values);  // exactly: floats survive the JSON round trip
            Assert.Equal(expected[i].Min(), layers[i].GetProperty("min").GetSingle());
            Assert.Equal(expected[i].Max(), layers[i].GetProperty("max").GetSingle());
            Assert.True(values.Distinct().Count() > 1, $"{_network.Layers[i].Name} is constant");
        }
        Assert.NotEqual(unshifted[0], Floats(layers[0].GetProperty("values")));  // the mean was subtracted

        float[] probabilities = Floats(root.GetProperty("probabilities"));
        Assert.Equal(expected[^1], probabilities);
        Assert.Equal(1.0, probabilities.Sum(p => (double)p), 5);
        Assert.All(probabilities, p => Assert.InRange(p, 0f, 1f));
        int predicted = root.GetProperty("predicted").GetInt32();
        Assert.Equal(_network.Predict(input), predicted);
        Assert.Equal(probabilities.Max(), probabilities[predicted]);
    }

    [Fact]
    public async Task DifferentDrawingsGetDifferentAnswers()
    {
        var blank = new float[784];
        using var a = JsonDocument.Parse(await (await Post(JsonSerializer.Serialize(blank))).Content.ReadAsStringAsync());
        using var b = JsonDocument.Parse(await (await Post(JsonSerializer.Serialize(Drawing()))).Content.ReadAsStringAsync());
        Assert.Equal(_network.Activations(blank.Select(v => v - Mean).ToArray())[^1], Floats(a.RootElement.GetProperty("probabilities")));
        Assert.NotEqual(Floats(a.RootElement.GetProperty("probabilities")), Floats(b.RootElement.GetProperty("probabilities")));
    }

    /// <summary>784 zeros as JSON, with one value written as given.</summary>
    private static string With(int index, string literal, int count = 784) =>
        "[" + string.Join(",", Enumerable.Range(0, count).Select(i => i == index ? literal : "0")) + "]";

    public static TheoryData<string, string[]> BadBodies => new()
    {
        { "", ["request body is empty", "JSON array of 784 grey levels"] },
        { "hello", ["not valid JSON", "JSON array of 784 grey levels"] },
        { "[0, 0.5,", ["not valid JSON"] },
        { "{\"pixels\": []}", ["JSON object, not an array"] },
        { "[0.5, 0.5, 0.5]", ["Expected 784 values (1x28x28), got 3."] },
        { With(-1, "", 785), ["Expected 784 values (1x28x28), got 785."] },
        { With(5, "\"white\""), ["Value 5 is a string, not a number."] },
        { With(6, "null"), ["Value 6 is null, not a number."] },
        { With(10, "1e999"), ["Value 10 (1e999) is not a finite number."] },
        { With(783, "1.5"), ["Value 783 (1.5) is outside 0..1"] },
        { With(0, "-0.25"), ["Value 0 (-0.25) is outside 0..1"] },
    };

    [Theory]
    [MemberData(nameof(BadBodies))]
    public async Task ABadBodyGets400NamingTheProblem(string body, string[] fragments)
    {
        string message = await HttpTesting.ErrorOf(await Post(body), HttpStatusCode.BadRequest);
        foreach (var fragment in fragments) Assert.Contains(fragment, message);
    }

    [Fact]
    public async Task UnknownPathsGet404AndWrongMethods405()
    {
        var missing = await _client.GetAsync("/weights.bin");
        Assert.StartsWith("Nothing at /weights.bin", await HttpTesting.ErrorOf(missing, HttpStatusCode.NotFound));

        var get = await _client.GetAsync("/activations");
        Assert.Contains("POST a JSON array of 784 grey levels", await HttpTesting.ErrorOf(get, HttpStatusCode.MethodNotAllowed));
        Assert.Equal(["POST"], get.Content.Headers.Allow);

        var post = await _client.PostAsync("/", new StringContent("[]"));
        Assert.Equal("POST is not allowed on /: use GET.", await HttpTesting.ErrorOf(post, HttpStatusCode.MethodNotAllowed));
        Assert.Equal(["GET", "HEAD"], post.Content.Headers.Allow);

        var head = await _client.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/"));
        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        Assert.Equal(_server.Page.Length, head.Content.Headers.ContentLength);
        Assert.Empty(await head.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task AnOversizedBodyGets413()
    {
        var response = await Post(new string(' ', _server.MaxBodyBytes + 1));
        Assert.Equal($"The request body has {_server.MaxBodyBytes + 1} bytes; at most {_server.MaxBodyBytes} are accepted on /activations.",
            await HttpTesting.ErrorOf(response, HttpStatusCode.RequestEntityTooLarge));
        // Without a Content-Length (chunked), the limit holds as the body arrives.
        var chunked = new StringContent(new string(' ', _server.MaxBodyBytes + 1));
        chunked.Headers.ContentLength = null;
        var request = new HttpRequestMessage(HttpMethod.Post, "/activations") { Content = chunked };
        request.Headers.TransferEncodingChunked = true;
        Assert.Equal($"The request body is larger than {_server.MaxBodyBytes} bytes, the most accepted on /activations.",
            await HttpTesting.ErrorOf(await _client.SendAsync(request), HttpStatusCode.RequestEntityTooLarge));
    }

    [Fact]
    public async Task ATakenPortIsRefusedAndStopFreesThePort()
    {
        int port = _server.Port;
        Assert.InRange(port, 1, 65535);
        Assert.Equal(new Uri($"http://localhost:{port}/"), _server.Url);
        using (var other = new ActivationServer(new LeNet5(seed: 2), FashionMnist.ClassNames, 0f))
            Assert.Throws<IOException>(() => other.Start(port));

        _server.Stop();
        Assert.Equal(0, _server.Port);
        await Assert.ThrowsAsync<HttpRequestException>(() => _client.GetAsync($"http://127.0.0.1:{port}/"));
        _server.Start(port);  // stopped, it can start again on the same port
        Assert.Equal(HttpStatusCode.OK, (await _client.GetAsync($"http://127.0.0.1:{port}/")).StatusCode);
    }
}

/// <summary>The <c>serve</c> command end to end: it loads a checkpoint, serves until cancelled, and stops cleanly.</summary>
[Collection("Console")]
public sealed class ServeCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("cnngen-serve").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static async Task<(int Exit, string Out, string Error)> RunAsync(Func<Task>? whileRunning, params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var (oldOut, oldError) = (Console.Out, Console.Error);
        Console.SetOut(TextWriter.Synchronized(output));
        Console.SetError(TextWriter.Synchronized(error));
        try
        {
            using var cancel = new CancellationTokenSource();
            var root = new RootCommand { ServeCommand.Create() };
            var run = root.Parse(args).InvokeAsync(new InvocationConfiguration { Output = output, Error = error }, cancel.Token);
            if (whileRunning is not null)
            {
                try
                {
                    await whileRunning();
                }
                finally
                {
                    cancel.Cancel();
                }
            }
            int exit = await run.WaitAsync(TimeSpan.FromSeconds(30));
            return (exit, output.ToString(), error.ToString());
        }
        finally
        {
            Console.SetOut(oldOut);
            Console.SetError(oldError);
        }
    }

    private static int FreePort()
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        int port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        return port;
    }

    [Fact]
    public async Task MissingCheckpointTellsHowToTrainOne()
    {
        var (exit, _, error) = await RunAsync(null, "serve", "--checkpoint", "/nonexistent/lenet5.safetensors");
        Assert.Equal(1, exit);
        Assert.Contains("No checkpoint at /nonexistent/lenet5.safetensors", error);
        Assert.Contains("-- train --model lenet5", error);
    }

    [Fact]
    public async Task BadPortIsRefused()
    {
        var (exit, _, error) = await RunAsync(null, "serve", "--port", "70000");
        Assert.NotEqual(0, exit);
        Assert.Contains("--port must be from 1 to 65535, not 70000.", error);
    }

    [Theory]
    [InlineData("--instances", "0", "--instances must be from 1 to 256, not 0.")]
    [InlineData("--max-connections", "0", "--max-connections must be at least 1, not 0.")]
    public async Task BadLimitsAreRefused(string option, string value, string message)
    {
        var (exit, _, error) = await RunAsync(null, "serve", option, value);
        Assert.NotEqual(0, exit);
        Assert.Contains(message, error);
    }

    [Fact]
    public async Task ServesTheCheckpointUntilCancelled()
    {
        var trained = new LeNet5BatchNorm(seed: 3);
        string path = Path.Combine(_dir, "bn.safetensors");
        Checkpoint.Save(path, trained, training: new TrainingState { Extra = new Dictionary<string, string> { [Cli.DataLoading.MeanKey] = "0.25" } });
        int port = FreePort();
        string? page = null;
        JsonElement answer = default, health = default, prediction = default;
        var (exit, output, error) = await RunAsync(async () =>
        {
            using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/") };
            for (var deadline = DateTime.UtcNow.AddSeconds(20); page is null; await Task.Delay(50))
            {
                try
                {
                    page = await client.GetStringAsync("/");
                }
                catch (HttpRequestException) when (DateTime.UtcNow < deadline)
                {
                    // not listening yet
                }
            }
            var response = await client.PostAsync("/activations", new StringContent(JsonSerializer.Serialize(new float[784])));
            answer = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
            health = JsonDocument.Parse(await client.GetStringAsync("/healthz")).RootElement.Clone();
            var picture = new ByteArrayContent(TestImages.Pgm(new byte[28 * 28], 28, 28));
            prediction = JsonDocument.Parse(await (await client.PostAsync("/predict?top=10", picture)).Content.ReadAsStringAsync()).RootElement.Clone();
        }, "serve", "--checkpoint", path, "--port", port.ToString(CultureInfo.InvariantCulture), "--instances", "3");

        Assert.True(exit == 0, error);
        Assert.Contains($"LeNet5BatchNorm from {path} (epoch 0) at http://localhost:{port}/ (3 instance(s))", output);
        Assert.Contains("Ctrl+C to stop", output);
        Assert.EndsWith("Stopped." + Environment.NewLine, output);
        Assert.Contains("<canvas id=\"draw\"", page);
        // The network the checkpoint was saved from (no --model given), with its mean pixel subtracted.
        Assert.Equal("LeNet5BatchNorm", answer.GetProperty("network").GetString());
        Assert.Equal(0.25f, answer.GetProperty("mean").GetSingle());
        float[] expected = trained.Activations(Enumerable.Repeat(-0.25f, 784).ToArray())[^1];
        Assert.Equal(expected, answer.GetProperty("probabilities").EnumerateArray().Select(p => p.GetSingle()));
        Assert.Equal(3, health.GetProperty("instances").GetInt32());
        Assert.Equal("PGM/PPM 28x28", prediction.GetProperty("input").GetString());
        var forward = new float[10];
        trained.Threads = 1;
        trained.Forward(Enumerable.Repeat(-0.25f, 784).ToArray(), forward, 1);  // folded BatchNorm: equal to the activations within rounding
        Assert.Equal(forward, prediction.GetProperty("probabilities").EnumerateArray().Select(p => p.GetSingle()));
        using var after = new HttpClient();
        await Assert.ThrowsAsync<HttpRequestException>(() => after.GetAsync($"http://127.0.0.1:{port}/"));
    }
}
