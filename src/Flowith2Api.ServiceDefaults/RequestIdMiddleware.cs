using System.Diagnostics;
using Microsoft.AspNetCore.Http;

namespace Flowith2Api.ServiceDefaults;

/// <summary>
/// Gives every request an id: the caller's <c>x-request-id</c> when it is a sane token, else a new one. The id is
/// put back on the request (so YARP forwards it), on the response (once), on the current span and in
/// <see cref="HttpContext.TraceIdentifier"/>.
/// </summary>
public sealed class RequestIdMiddleware(RequestDelegate next)
{
    private const int MaxLength = 128;

    public Task InvokeAsync(HttpContext context)
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
        return next(context);
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
