using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace CnnGen.Samples.Web;

/// <summary>Writes the server's answers: a body with its type, or an error as JSON <c>{status, error}</c>.</summary>
internal static class JsonAnswers
{
    /// <summary>Messages stay readable (quotes, non-ASCII paths): the body is JSON, never HTML.</summary>
    private static readonly JsonWriterOptions Relaxed = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static Task Body(HttpContext context, int status, string contentType, byte[] body)
    {
        var response = context.Response;
        response.StatusCode = status;
        response.ContentType = contentType;
        response.ContentLength = body.Length;
        return HttpMethods.IsHead(context.Request.Method) ? Task.CompletedTask : response.Body.WriteAsync(body, context.RequestAborted).AsTask();
    }

    public static Task Error(HttpContext context, int status, string message, string? allow = null)
    {
        if (allow is not null) context.Response.Headers.Allow = allow;
        return Body(context, status, "application/json; charset=utf-8", ErrorJson(status, message));
    }

    public static byte[] ErrorJson(int status, string message)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, Relaxed))
        {
            json.WriteStartObject();
            json.WriteNumber("status", status);
            json.WriteString("error", message);
            json.WriteEndObject();
        }
        return buffer.ToArray();
    }
}
