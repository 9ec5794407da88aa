using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Xunit;

namespace CnnGen.Samples.Tests;

/// <summary>Helpers for talking to the server: its JSON errors, and raw requests that HttpClient would not send.</summary>
internal static class HttpTesting
{
    /// <summary>Asserts the status and the JSON error shape, and returns the error message.</summary>
    public static async Task<string> ErrorOf(HttpResponseMessage response, HttpStatusCode status)
    {
        string text = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"expected {(int)status}, got {(int)response.StatusCode}: {text}");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var json = JsonDocument.Parse(text);
        Assert.Equal((int)status, json.RootElement.GetProperty("status").GetInt32());
        return json.RootElement.GetProperty("error").GetString()!;
    }

    /// <summary>A raw HTTP exchange: status, head and body of the answer (the connection is read to its end).</summary>
    public sealed record RawAnswer(int Status, string Head, string Body)
    {
        public string Error => JsonDocument.Parse(Body).RootElement.GetProperty("error").GetString()!;
    }

    /// <summary>Sends <paramref name="request"/> as is on a new connection and reads until the server closes it.</summary>
    public static async Task<RawAnswer> SendRawAsync(int port, byte[] request)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, port);
        var stream = client.GetStream();
        await stream.WriteAsync(request);
        return await ReadAnswerAsync(stream);
    }

    public static Task<RawAnswer> SendRawAsync(int port, string request) => SendRawAsync(port, Encoding.UTF8.GetBytes(request));

    /// <summary>Reads one answer: its head, then a Content-Length body (or everything until the connection closes).</summary>
    public static async Task<RawAnswer> ReadAnswerAsync(NetworkStream stream)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var received = new MemoryStream();
        var buffer = new byte[8192];
        int headEnd;
        while ((headEnd = received.ToArray().AsSpan().IndexOf("\r\n\r\n"u8)) < 0)
        {
            int n = await stream.ReadAsync(buffer, timeout.Token);
            if (n == 0) throw new IOException($"The connection closed before the answer's head ended: '{Encoding.UTF8.GetString(received.ToArray())}'");
            received.Write(buffer, 0, n);
        }
        string head = Encoding.ASCII.GetString(received.ToArray(), 0, headEnd);
        int status = int.Parse(head.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
        var lengthLine = head.Split("\r\n").FirstOrDefault(l => l.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase));
        long? length = lengthLine is null ? null : long.Parse(lengthLine["Content-Length:".Length..].Trim(), System.Globalization.CultureInfo.InvariantCulture);
        while (length is null || received.Length < headEnd + 4 + length)
        {
            int n = await stream.ReadAsync(buffer, timeout.Token);
            if (n == 0) break;
            received.Write(buffer, 0, n);
        }
        string body = Encoding.UTF8.GetString(received.ToArray(), headEnd + 4, (int)received.Length - headEnd - 4);
        return new RawAnswer(status, head, body);
    }
}
