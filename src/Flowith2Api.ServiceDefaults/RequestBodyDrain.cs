using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Flowith2Api.ServiceDefaults;

/// <summary>
/// An internal service answers only once it holds the whole request body. A handler that stops reading early (a JSON
/// error in the first buffer of a large body, a 404 or a 405 to a POST) would otherwise answer while the Gateway's
/// proxy is still sending that body; the proxy then sees its body copy fail after the answer went out and drops the
/// client's kept-alive connection, and the client's next request on it fails with no answer at all. Reading what is
/// left just before the answer starts keeps both connections in step. A body that does not end (past
/// <see cref="MaxDrainBytes"/> or <see cref="DrainTimeout"/>) gets its answer with <c>Connection: close</c>.
/// </summary>
public static class RequestBodyDrain
{
    /// <summary>The most of an unread body read and dropped before the answer (the Gateway lets 32 MiB through by default).</summary>
    public const long MaxDrainBytes = 64L * 1024 * 1024;

    public static readonly TimeSpan DrainTimeout = TimeSpan.FromSeconds(5);

    public static IApplicationBuilder UseRequestBodyDrain(this IApplicationBuilder app) => app.Use(static (context, next) =>
    {
        if (context.Features.Get<IHttpRequestBodyDetectionFeature>() is { CanHaveBody: true })
        {
            context.Response.OnStarting(static state => DrainAsync((HttpContext)state), context);
        }

        return next(context);
    });

    private static async Task DrainAsync(HttpContext context)
    {
        if (!await TryReadToEndAsync(context, MaxDrainBytes))
        {
            context.Response.Headers.Connection = "close";
        }
    }

    /// <summary>
    /// Reads and drops what is left of the request body: true once it ended; false when it went past
    /// <paramref name="maxBytes"/>, stalled for <see cref="DrainTimeout"/>, broke or the client left (then the
    /// connection should close after the answer).
    /// </summary>
    public static async Task<bool> TryReadToEndAsync(HttpContext context, long maxBytes)
    {
        var reader = context.Request.BodyReader;
        try
        {
            // Most answers come after the body was read to its end: what is left is known at once, without waiting.
            long drained = 0;
            if (reader.TryRead(out var first))
            {
                drained = first.Buffer.Length;
                reader.AdvanceTo(first.Buffer.End);
                if (first.IsCompleted)
                {
                    return true;
                }
            }

            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
            timeout.CancelAfter(DrainTimeout);
            while (drained <= maxBytes)
            {
                var result = await reader.ReadAsync(timeout.Token);
                drained += result.Buffer.Length;
                reader.AdvanceTo(result.Buffer.End);
                if (result.IsCompleted)
                {
                    return true;
                }
            }

            return false;
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or BadHttpRequestException or InvalidOperationException)
        {
            return false;
        }
    }
}
