using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Flowith2Api.Contracts;

/// <summary>Writes a JSON response straight into the response pipe with a <see cref="Utf8JsonWriter"/>.</summary>
public static class JsonResponse
{
    /// <summary>Writes a complete JSON response, unless the response has already started.</summary>
    public static Task WriteAsync(HttpContext context, int status, Action<Utf8JsonWriter> write)
    {
        var response = context.Response;
        if (response.HasStarted)
        {
            return Task.CompletedTask;
        }

        response.StatusCode = status;
        response.ContentType = "application/json";
        response.Headers.CacheControl = "no-store";
        using (var json = new Utf8JsonWriter(response.BodyWriter))
        {
            write(json);
        }

        return response.BodyWriter.FlushAsync(context.RequestAborted).AsTask();
    }
}
