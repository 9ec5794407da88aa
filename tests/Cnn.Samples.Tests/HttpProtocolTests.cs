using System.Net;
using System.Net.Sockets;
using System.Text;
using CnnGen.Data;
using CnnGen.Samples.Networks;
using CnnGen.Samples.Web;
using Xunit;

namespace CnnGen.Samples.Tests;

/// <summary>The server at the HTTP level, with requests written byte by byte: the Host check, malformed framing,
/// non-ASCII targets, the connection bound and graceful shutdown. After each refusal the server still answers.</summary>
public sealed class HttpProtocolTests : IDisposable
{
    private readonly ActivationServer _server;

    public HttpProtocolTests()
    {
        _server = new ActivationServer(new LeNet5(seed: 1), FashionMnist.ClassNames, 0.25f);
        _server.Start(0);
    }

    public void Dispose() => _server.Dispose();

    private int Port => _server.Port;

    private Task<HttpTesting.RawAnswer> Send(string request) => HttpTesting.SendRawAsync(Port, request);

    private async Task AssertStillServing()
    {
        var answer = await Send("GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
        Assert.Equal(200, answer.Status);
        Assert.Contains("\"status\":\"ok\"", answer.Body);
    }

    [Theory]
    [InlineData("localhost")]
    [InlineData("LOCALHOST")]
    [InlineData("127.0.0.1")]
    [InlineData("[::1]")]
    public async Task LoopbackHostNamesAreServedWithOrWithoutAPort(string host)
    {
        Assert.Equal(200, (await Send($"GET /healthz HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n")).Status);
        Assert.Equal(200, (await Send($"GET /healthz HTTP/1.1\r\nHost: {host}:{Port}\r\nConnection: close\r\n\r\n")).Status);
    }

    [Fact]
    public async Task OtherHostNamesAreRefusedByName()
    {
        // A page elsewhere that rebinds its own name to 127.0.0.1 still sends its own name as Host.
        var answer = await Send($"GET / HTTP/1.1\r\nHost: evil.example:{Port}\r\nConnection: close\r\n\r\n");
        Assert.Equal(400, answer.Status);
        Assert.Equal("Host evil.example is not served here: this server answers localhost, 127.0.0.1, [::1].", answer.Error);
        answer = await Send("GET / HTTP/1.0\r\n\r\n");
        Assert.Equal(400, answer.Status);
        Assert.StartsWith("The request has no Host header", answer.Error);
        await AssertStillServing();
    }

    [Fact]
    public async Task PercentEncodedNonAsciiTargetsAreDecodedInTheMessage()
    {
        var answer = await Send("GET /caf%C3%A9?x=%E2%9C%93 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
        Assert.Equal(404, answer.Status);
        Assert.StartsWith("Nothing at /café:", answer.Error);
    }

    [Fact]
    public async Task RawNonAsciiBytesInTheTargetAreABadRequest()
    {
        byte[] request = [.. "GET /caf"u8.ToArray(), 0xC3, 0xA9, 0xFF, .. " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"u8.ToArray()];
        var answer = await HttpTesting.SendRawAsync(Port, request);
        Assert.Equal(400, answer.Status);
        await AssertStillServing();
    }

    [Theory]
    [InlineData("Content-Length: 3\r\nContent-Length: 5\r\n", 400)]
    [InlineData("Content-Length: 3\r\nContent-Length: 3\r\n", 400)]
    [InlineData("Content-Length: -1\r\n", 400)]
    [InlineData("Content-Length: 1e3\r\n", 400)]
    [InlineData("Content-Length: 99999999999999999999\r\n", 400)]
    [InlineData("Transfer-Encoding: gzip\r\n", 400)]
    public async Task MalformedFramingIsABadRequest(string headers, int status)
    {
        var answer = await Send($"POST /activations HTTP/1.1\r\nHost: localhost\r\n{headers}Connection: close\r\n\r\n[0]");
        Assert.Equal(status, answer.Status);
        await AssertStillServing();
    }

    [Fact]
    public async Task ABadChunkIsABadRequestNamedAsJson()
    {
        var answer = await Send("POST /predict HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\nzz\r\nabc\r\n0\r\n\r\n");
        Assert.Equal(400, answer.Status);
        Assert.StartsWith("Bad request body:", answer.Error);
        await AssertStillServing();
    }

    [Fact]
    public async Task OversizedRequestLinesAndHeadersAreRefused()
    {
        var longTarget = await Send($"GET /{new string('a', 9000)} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
        Assert.Equal(414, longTarget.Status);
        var longHeaders = await Send($"GET / HTTP/1.1\r\nHost: localhost\r\nX-Filler: {new string('b', 17000)}\r\nConnection: close\r\n\r\n");
        Assert.Equal(431, longHeaders.Status);
        await AssertStillServing();
    }

    [Fact]
    public async Task ConnectionsBeyondTheBoundAreClosedAndAcceptedAgainOnceOthersEnd()
    {
        await using var bounded = new ActivationServer(new LeNet5(seed: 1), FashionMnist.ClassNames, 0f, new ServerSettings { MaxConnections = 2 });
        await bounded.StartAsync(0);
        const string keepAlive = "GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n";
        var held = new List<TcpClient>();
        for (int i = 0; i < 2; i++)
        {
            var client = new TcpClient();
            await client.ConnectAsync(IPAddress.Loopback, bounded.Port);
            await client.GetStream().WriteAsync(Encoding.ASCII.GetBytes(keepAlive));
            Assert.Equal(200, (await HttpTesting.ReadAnswerAsync(client.GetStream())).Status);
            held.Add(client);
        }
        // A third connection is closed without an answer.
        using (var third = new TcpClient())
        {
            await third.ConnectAsync(IPAddress.Loopback, bounded.Port);
            var stream = third.GetStream();
            try
            {
                await stream.WriteAsync(Encoding.ASCII.GetBytes(keepAlive));
                var buffer = new byte[256];
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                Assert.Equal(0, await stream.ReadAsync(buffer, timeout.Token));
            }
            catch (IOException)
            {
                // reset by the server: refused as well
            }
        }
        held[0].Dispose();
        // Once one ends, new connections are served again.
        for (var deadline = DateTime.UtcNow.AddSeconds(10); ; await Task.Delay(50))
        {
            try
            {
                var answer = await HttpTesting.SendRawAsync(bounded.Port, "GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
                Assert.Equal(200, answer.Status);
                break;
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                // the server has not yet seen the held connection end
            }
        }
        held[1].Dispose();
    }

    [Fact]
    public async Task StoppingAnswersTheRequestInProgressAndThenRefusesConnections()
    {
        string json = "[" + string.Join(",", Enumerable.Repeat("0", 784)) + "]";
        byte[] body = Encoding.ASCII.GetBytes(json);
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, Port);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"POST /activations HTTP/1.1\r\nHost: localhost\r\nContent-Length: {body.Length}\r\n\r\n"));
        await stream.WriteAsync(body.AsMemory(0, 100));
        await Task.Delay(200);  // the request is in progress: its body is being read

        int port = Port;
        var stopping = _server.StopAsync();
        await Task.Delay(200);
        Assert.False(stopping.IsCompleted);  // waiting for the request
        await stream.WriteAsync(body.AsMemory(100));
        var answer = await HttpTesting.ReadAnswerAsync(stream);
        Assert.Equal(200, answer.Status);
        Assert.Contains("\"layers\":", answer.Body);
        await stopping.WaitAsync(TimeSpan.FromSeconds(20));
        using var after = new TcpClient();
        await Assert.ThrowsAnyAsync<SocketException>(() => after.ConnectAsync(IPAddress.Loopback, port));
    }
}
