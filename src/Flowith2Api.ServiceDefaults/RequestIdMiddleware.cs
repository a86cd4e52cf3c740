using System.Collections;
using System.Diagnostics;
using Flowith2Api.Contracts;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Flowith2Api.ServiceDefaults;

/// <summary>
/// Gives every request an id: the caller's <c>x-request-id</c> when it is a sane token, else a new one. The id is
/// put back on the request (so YARP forwards it), on the response (once), on the current span and in
/// <see cref="HttpContext.TraceIdentifier"/>.
/// </summary>
public sealed class RequestIdMiddleware(RequestDelegate next, ILoggerFactory loggers)
{
    private const int MaxLength = 128;

    private readonly ILogger _logger = loggers.CreateLogger("Flowith2Api.Requests");

    public async Task InvokeAsync(HttpContext context)
    {
        var headers = context.Request.Headers;
        var candidate = headers[InternalHeaders.RequestId].ToString();
        var id = IsAcceptable(candidate) ? candidate : NewId();
        if (!ReferenceEquals(id, candidate))
        {
            headers[InternalHeaders.RequestId] = id;
        }

        context.TraceIdentifier = id;
        Activity.Current?.SetTag(Telemetry.RequestIdTag, id);

        // Set when the response starts, so a copy forwarded from a service behind (YARP copies response headers)
        // is replaced rather than repeated.
        context.Response.OnStarting(static state =>
        {
            var http = (HttpContext)state;
            http.Response.Headers[InternalHeaders.RequestId] = http.TraceIdentifier;
            return Task.CompletedTask;
        }, context);

        // Every log line written while this request runs carries its id.
        using (_logger.BeginScope(new RequestScope(id)))
        {
            await next(context);
        }
    }

    public static string NewId() => string.Create(36, Guid.NewGuid(), static (span, guid) =>
    {
        "req_".AsSpan().CopyTo(span);
        guid.TryFormat(span[4..], out _, "N");
    });

    public static bool IsAcceptable(string? value)
    {
        if (string.IsNullOrEmpty(value) || value.Length > MaxLength)
        {
            return false;
        }

        foreach (var c in value)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or ':'))
            {
                return false;
            }
        }

        return true;
    }
}

/// <summary>The logging scope of one request: just its id (a one-entry list, no dictionary per request).</summary>
internal sealed class RequestScope(string requestId) : IReadOnlyList<KeyValuePair<string, object?>>
{
    public int Count => 1;

    public KeyValuePair<string, object?> this[int index] => index == 0
        ? new(RedactingJsonConsoleFormatter.RequestIdScopeKey, requestId)
        : throw new ArgumentOutOfRangeException(nameof(index));

    public IEnumerator<KeyValuePair<string, object?>> GetEnumerator()
    {
        yield return this[0];
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public override string ToString() => $"request_id:{requestId}";
}
