using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using BadHttpRequestException = Microsoft.AspNetCore.Http.BadHttpRequestException;

namespace CnnGen.Samples.Web;

/// <summary>Reads a request body whole, within a limit of the path's own (Kestrel's limit is the largest of all).</summary>
internal static class RequestBodies
{
    /// <summary>The whole body, or null after answering 413 when it is larger than <paramref name="limit"/>.</summary>
    public static async Task<byte[]?> ReadAsync(HttpContext context, int limit)
    {
        var request = context.Request;
        var feature = context.Features.Get<IHttpMaxRequestBodySizeFeature>();
        if (feature is { IsReadOnly: false }) feature.MaxRequestBodySize = limit;
        if (request.ContentLength > limit)
        {
            await JsonAnswers.Error(context, 413, $"The request body has {request.ContentLength} bytes; at most {limit} are accepted on {request.Path}.");
            return null;
        }
        using var body = new MemoryStream(request.ContentLength is { } length ? (int)length : 4096);
        var chunk = new byte[16 * 1024];
        try
        {
            int n;
            while ((n = await request.Body.ReadAsync(chunk, context.RequestAborted)) > 0)
            {
                if (body.Length + n > limit) throw new BadHttpRequestException("too large", StatusCodes.Status413PayloadTooLarge);
                body.Write(chunk, 0, n);
            }
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            await JsonAnswers.Error(context, 413, $"The request body is larger than {limit} bytes, the most accepted on {request.Path}.");
            return null;
        }
        return body.ToArray();
    }
}
