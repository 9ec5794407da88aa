using System.Buffers.Binary;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using CnnGen.Data;
using CnnGen.Samples.Images;
using CnnGen.Samples.Networks;
using CnnGen.Samples.Web;
using Xunit;

namespace CnnGen.Samples.Tests;

/// <summary><c>POST /predict</c> and <c>GET /healthz</c> over real HTTP: pictures by Content-Type or by their first
/// bytes, raw float32 values, answers equal to a single-threaded forward pass, and every refusal named.</summary>
public sealed class PredictEndpointTests : IDisposable
{
    private const float Mean = 0.25f;
    private readonly ActivationServer _server;
    private readonly HttpClient _client;
    private readonly LeNet5 _reference = new(seed: 7);

    public PredictEndpointTests()
    {
        var pool = NetworkPool.Create(() => new LeNet5(seed: 7) { Threads = 1 }, 2);
        _server = new ActivationServer(pool, FashionMnist.ClassNames, Mean, new ServerSettings { MaxImageBytes = 64 * 1024 });
        _server.Start(0);
        _client = new HttpClient { BaseAddress = _server.Url, Timeout = TimeSpan.FromSeconds(30) };
    }

    public void Dispose()
    {
        _client.Dispose();
        _server.Dispose();
    }

    /// <summary>A 56x56 grey picture of a shirt-like blob: bright, with a darker diagonal.</summary>
    internal static byte[,] Shape(int seed = 0)
    {
        var pixels = new byte[56, 56];
        for (int y = 0; y < 56; y++)
            for (int x = 0; x < 56; x++)
                pixels[y, x] = (byte)(Math.Abs(x - 28) < 12 + seed % 7 && y is > 6 and < 50 ? 220 - Math.Abs(x - y + seed) * 3 % 200 : (x * seed + y) % 23);
        return pixels;
    }

    /// <summary>The probabilities a single-threaded forward pass gives for a picture, preprocessed as the server does.</summary>
    private float[] Expected(byte[] picture, bool invert = false)
    {
        float[] input = ImageInput.ToInput(ImageDecoder.Decode(picture, 1), 28, 28, invert);
        return ExpectedFromInput(input);
    }

    private float[] ExpectedFromInput(float[] levels)
    {
        var input = levels.Select(v => v - Mean).ToArray();
        var output = new float[10];
        _reference.Forward(input, output, 1);
        return output;
    }

    private Task<HttpResponseMessage> Post(byte[] body, string? contentType, string query = "")
    {
        var content = new ByteArrayContent(body);
        if (contentType is not null) content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        return _client.PostAsync("/predict" + query, content);
    }

    private static async Task<JsonElement> Answer(HttpResponseMessage response)
    {
        string text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    private static float[] Probabilities(JsonElement answer) => answer.GetProperty("probabilities").EnumerateArray().Select(p => p.GetSingle()).ToArray();

    [Fact]
    public async Task APngGetsTheTopClassesOfASingleThreadedForwardPass()
    {
        byte[] png = TestImages.GreyPng(Shape());
        var answer = await Answer(await Post(png, "image/png"));
        float[] expected = Expected(png);
        Assert.Equal(expected, Probabilities(answer));
        int best = Array.IndexOf(expected, expected.Max());
        Assert.Equal("LeNet5", answer.GetProperty("network").GetString());
        Assert.Equal("PNG 56x56", answer.GetProperty("input").GetString());
        Assert.Equal(best, answer.GetProperty("predicted").GetInt32());
        Assert.Equal(FashionMnist.ClassNames[best], answer.GetProperty("name").GetString());
        var top = answer.GetProperty("top").EnumerateArray().ToArray();
        Assert.Equal(3, top.Length);
        Assert.Equal(Enumerable.Range(0, 10).OrderByDescending(c => expected[c]).Take(3), top.Select(t => t.GetProperty("class").GetInt32()));
        Assert.All(top, t => Assert.Equal(FashionMnist.ClassNames[t.GetProperty("class").GetInt32()], t.GetProperty("name").GetString()));
        Assert.Equal(expected[best], top[0].GetProperty("probability").GetSingle());
        Assert.InRange(answer.GetProperty("inferenceMicroseconds").GetDouble(), 0.1, 5e6);
    }

    [Fact]
    public async Task PicturesAreKnownByTheirBytesWhenTheContentTypeIsAbsentOrGeneric()
    {
        var grey = Shape(3);
        byte[] png = TestImages.GreyPng(grey);
        var colours = new byte[56, 56, 3];
        var flat = new byte[56 * 56];
        for (int y = 0; y < 56; y++)
            for (int x = 0; x < 56; x++)
            {
                flat[y * 56 + x] = grey[y, x];
                for (int c = 0; c < 3; c++) colours[y, x, c] = grey[y, x];
            }
        byte[] bmp = TestImages.Bmp(colours), pgm = TestImages.Pgm(flat, 56, 56);
        float[] expected = Expected(png);
        foreach (var (body, type, source) in new[]
                 {
                     (png, (string?)null, "PNG 56x56"), (bmp, "application/octet-stream", "BMP 56x56"),
                     (pgm, "application/x-www-form-urlencoded", "PGM/PPM 56x56"), (pgm, "image/x-portable-graymap", "PGM/PPM 56x56"),
                     (bmp, "image/bmp", "BMP 56x56"),
                 })
        {
            var answer = await Answer(await Post(body, type));
            Assert.Equal(source, answer.GetProperty("input").GetString());
            Assert.Equal(expected, Probabilities(answer));
        }
    }

    [Fact]
    public async Task RawFloatsAreTheInputAsIsAndInvertAndTopApply()
    {
        var levels = new float[784];
        for (int i = 0; i < 784; i++) levels[i] = (i * 37 % 101) / 100f;
        var body = new byte[784 * 4];
        for (int i = 0; i < 784; i++) BinaryPrimitives.WriteSingleLittleEndian(body.AsSpan(4 * i), levels[i]);

        var answer = await Answer(await Post(body, "application/octet-stream", "?top=10"));
        Assert.Equal("float32 x784", answer.GetProperty("input").GetString());
        Assert.Equal(ExpectedFromInput(levels), Probabilities(answer));
        Assert.Equal(10, answer.GetProperty("top").GetArrayLength());

        var inverted = await Answer(await Post(body, "application/octet-stream", "?invert=true&top=1"));
        Assert.Equal(ExpectedFromInput(levels.Select(v => 1f - v).ToArray()), Probabilities(inverted));
        Assert.Equal(1, inverted.GetProperty("top").GetArrayLength());
        byte[] png = TestImages.GreyPng(Shape(1));
        Assert.Equal(Expected(png, invert: true), Probabilities(await Answer(await Post(png, "image/png", "?invert=1"))));
    }

    public static TheoryData<byte[], string?, string, int, string> BadRequests()
    {
        var nan = new byte[784 * 4];
        BinaryPrimitives.WriteSingleLittleEndian(nan.AsSpan(4 * 9), float.NaN);
        var bright = new byte[784 * 4];
        BinaryPrimitives.WriteSingleLittleEndian(bright.AsSpan(4 * 2), 2.5f);
        byte[] png = TestImages.GreyPng(Shape());
        return new()
        {
            { [], "image/png", "", 400, "The request body is empty: send a PNG, JPEG, BMP, PGM or PPM picture, or 784 little-endian float32 grey levels (3136 bytes) as application/octet-stream." },
            { new byte[100], "application/octet-stream", "", 400, "An application/octet-stream body holds 784 little-endian float32 grey levels (3136 bytes, 1x28x28); this one has 100 bytes." },
            { nan, "application/octet-stream", "", 400, "Value 9 (NaN) is not a finite number." },
            { bright, "application/octet-stream", "", 400, "Value 2 (2.5) is outside 0..1: grey levels run from 0 (black) to 1 (white)." },
            { png, "text/plain", "", 415, "Content-Type text/plain is not read here: send image/png, image/jpeg, image/bmp, image/x-portable-graymap, image/x-portable-pixmap, or application/octet-stream." },
            { "GIF89a...."u8.ToArray(), "image/gif", "", 415, "Content-Type image/gif is not read here" },
            { "hello"u8.ToArray(), null, "", 415, "The body is not a PNG, JPEG, BMP, PGM or PPM picture and its Content-Type (none) names none" },
            { "hello"u8.ToArray(), "image/png", "", 400, "The body is not a readable PNG picture: not a PNG, JPEG, BMP, PGM or PPM image (it starts with 68 65 6C 6C 6F)." },
            { png[..(png.Length / 2)], "image/png", "", 400, "The body is not a readable PNG picture: PNG image cannot be decoded" },
            { TestImages.PngClaiming(60000, 60000), "image/png", "", 400, "PNG image is 60000x60000 (3,600,000,000 pixels); at most 16,777,216 pixels are decoded" },
            { "P5\n28 x8\n255\n"u8.ToArray(), null, "", 400, "The body is not a readable PGM/PPM picture: PGM/PPM height 'x8' is not a whole number." },
            { png, "image/png", "?top=0", 400, "top=0 is not a whole number from 1 to 10." },
            { png, "image/png", "?top=eleven", 400, "top=eleven is not a whole number from 1 to 10." },
            { png, "image/png", "?invert=maybe", 400, "invert=maybe is not true, false, 1 or 0." },
            { new byte[64 * 1024 + 1], "application/octet-stream", "", 413, "The request body has 65537 bytes; at most 65536 are accepted on /predict." },
        };
    }

    [Theory]
    [MemberData(nameof(BadRequests))]
    public async Task BadRequestsGetAJsonErrorNamingTheProblem(byte[] body, string? contentType, string query, int status, string message)
    {
        string error = await HttpTesting.ErrorOf(await Post(body, contentType, query), (HttpStatusCode)status);
        Assert.Contains(message, error);
        // Nothing was lost: the server answers the next request.
        Assert.Equal(HttpStatusCode.OK, (await _client.GetAsync("/healthz")).StatusCode);
    }

    [Fact]
    public async Task APictureAtThePixelLimitIsReadAndOneBeyondItIsRefused()
    {
        byte[] atLimit = TestImages.UniformPng(4096, 4096, 200);
        var answer = await Answer(await Post(atLimit, "image/png"));
        Assert.Equal("PNG 4096x4096", answer.GetProperty("input").GetString());
        Assert.Equal(ExpectedFromInput(Enumerable.Repeat(200 / 255f, 784).ToArray()), Probabilities(answer));
        string error = await HttpTesting.ErrorOf(await Post(TestImages.UniformPng(4097, 4096, 200), "image/png"), HttpStatusCode.BadRequest);
        Assert.Contains("PNG image is 4097x4096 (16,781,312 pixels); at most 16,777,216 pixels are decoded", error);
    }

    [Fact]
    public async Task WrongMethodsAndPathsAreNamed()
    {
        var get = await _client.GetAsync("/predict");
        Assert.Equal("GET is not allowed on /predict: POST a picture or 784 float32 values.", await HttpTesting.ErrorOf(get, HttpStatusCode.MethodNotAllowed));
        Assert.Equal(["POST"], get.Content.Headers.Allow);
        var post = await _client.PostAsync("/healthz", new ByteArrayContent([]));
        Assert.Equal(["GET", "HEAD"], post.Content.Headers.Allow);
        await HttpTesting.ErrorOf(post, HttpStatusCode.MethodNotAllowed);
        Assert.StartsWith("Nothing at /predict/", await HttpTesting.ErrorOf(await _client.PostAsync("/predict/", new ByteArrayContent([1])), HttpStatusCode.NotFound));
    }

    [Fact]
    public async Task HealthSaysHowManyInstancesServe()
    {
        var response = await _client.GetAsync("/healthz");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("ok", json.RootElement.GetProperty("status").GetString());
        Assert.Equal("LeNet5", json.RootElement.GetProperty("network").GetString());
        Assert.Equal(2, json.RootElement.GetProperty("instances").GetInt32());
        Assert.Equal(2, json.RootElement.GetProperty("idle").GetInt32());
    }

    [Fact]
    public async Task ClassesWithoutNamesAreAnsweredByNumberOnly()
    {
        await using var unnamed = new ActivationServer(new LeNet5(seed: 7), ["T-shirt/top"], Mean);
        await unnamed.StartAsync(0);
        using var client = new HttpClient { BaseAddress = unnamed.Url };
        var body = new ByteArrayContent(TestImages.GreyPng(Shape()));
        var answer = await Answer(await client.PostAsync("/predict?top=10", body));
        foreach (var entry in answer.GetProperty("top").EnumerateArray())
            Assert.Equal(entry.GetProperty("class").GetInt32() == 0, entry.TryGetProperty("name", out _));
    }
}
