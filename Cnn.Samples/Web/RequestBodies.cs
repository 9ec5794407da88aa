using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using BadHttpRequestException = Microsoft.AspNetCore.Http.BadHttpRequestException;

namespace CnnGen.Samples.Web;

/// <summary>Reads a request body whole, within a limit of the path's own (Kestrel's limit is the largest of all).</summary>
internal static class RequestBodies
{
    /// <summary>Bytes read and thrown away after a body passes its limit, before answering 413: a client still sending
    /// then reads the answer, where closing on unread data would reset the connection under it.</summary>
    private const int DrainBytes = 1 << 20;

    /// <summary>The whole body, or null after answering 413 when it is larger than <paramref name="limit"/>.</summary>
    public static async Task<byte[]?> ReadAsync(HttpContext context, int limit)
    {
        var request = context.Request;
        var feature = context.Features.Get<IHttpMaxRequestBodySizeFeature>();
        if (feature is { IsReadOnly: false }) feature.MaxRequestBodySize = limit + DrainBytes;
        if (request.ContentLength > limit)
        {
            if (request.ContentLength <= limit + DrainBytes) await DrainAsync(context);
            await JsonAnswers.Error(context, 413, $"The request body has {request.ContentLength} bytes; at most {limit} are accepted on {request.Path}.");
            return null;
        }
        using var body = new MemoryStream(request.ContentLength is { } length ? (int)length : 4096);
        var chunk = new byte[16 * 1024];
        int n;
        while ((n = await request.Body.ReadAsync(chunk, context.RequestAborted)) > 0)
        {
            if (body.Length + n > limit)
            {
                await DrainAsync(context);
                await JsonAnswers.Error(context, 413, $"The request body is larger than {limit} bytes, the most accepted on {request.Path}.");
                return null;
            }
            body.Write(chunk, 0, n);
        }
        return body.ToArray();
    }

    /// <summary>Reads the rest of the body, up to <see cref="DrainBytes"/> more than the limit (Kestrel stops there).</summary>
    private static async Task DrainAsync(HttpContext context)
    {
        var sink = new byte[16 * 1024];
        try
        {
            while (await context.Request.Body.ReadAsync(sink, context.RequestAborted) > 0)
            {
            }
        }
        catch (BadHttpRequestException)
        {
            // Larger still: the connection will be closed after the answer.
        }
    }
}
