using System.Text;
using System.Text.Json;
using Flowith2Api.Contracts;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Flowith2Api.ServiceDefaults;

/// <summary>
/// The net under every handler: an exception that escapes becomes a clear error in the route's own envelope (OpenAI's,
/// Anthropic's, or a problem document), never a bare 500 or a stack trace. Unreadable input (invalid UTF-8 or JSON found
/// late) is the client's 400; anything else is our 500, logged with the request id.
/// </summary>
public static partial class LastResortErrors
{
    public static WebApplication UseLastResortErrors(this WebApplication app)
    {
        app.UseExceptionHandler(new ExceptionHandlerOptions
        {
            ExceptionHandler = async context =>
            {
                var exception = context.Features.Get<IExceptionHandlerFeature>()?.Error;
                var clientFault = IsUnreadableInput(exception);
                var tooLarge = exception is BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge };
                var unavailable = !clientFault && !tooLarge && IsUnavailableStore(exception);
                var status = tooLarge ? StatusCodes.Status413PayloadTooLarge : clientFault ? StatusCodes.Status400BadRequest
                    : unavailable ? StatusCodes.Status503ServiceUnavailable : StatusCodes.Status500InternalServerError;
                if (unavailable)
                {
                    context.Response.Headers.RetryAfter = "1";
                    LogStoreUnavailable(context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Flowith2Api.Errors"),
                        context.TraceIdentifier, exception?.GetType().Name ?? "unknown");
                }
                else if (!clientFault)
                {
                    LogUnhandled(context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Flowith2Api.Errors"),
                        context.TraceIdentifier, exception?.GetType().Name ?? "unknown");
                }

                var message = tooLarge ? "The request body is too large."
                    : clientFault
                    ? "The request body could not be read: it is not valid UTF-8 JSON."
                    : unavailable
                    ? "A database or cache this service needs is unavailable right now (restarting?); retry shortly."
                    : $"An internal error occurred (request id {context.TraceIdentifier}).";
                await WriteInRouteDialectAsync(context, status, message, clientFault ? "invalid_request_error" : "server_error",
                    clientFault ? "invalid_json" : unavailable ? "store_unavailable" : "internal_error");
            },
        });
        return app;
    }

    /// <summary>
    /// An error status a handler or the router set without a body (a 405 for the wrong method, a 400 for a query
    /// parameter that does not parse) still gets one, in the route's envelope: SDKs show its message. For the services
    /// only: the Gateway relays their answers as they are.
    /// </summary>
    public static WebApplication UseErrorBodiesForBareStatuses(this WebApplication app)
    {
        app.UseStatusCodePages(static context => WriteStatusOnlyAsync(context.HttpContext));
        return app;
    }

    private static Task WriteStatusOnlyAsync(HttpContext context)
    {
        var status = context.Response.StatusCode;
        var (message, code) = status switch
        {
            StatusCodes.Status405MethodNotAllowed => ($"{context.Request.Method} is not allowed on {context.Request.Path}.", "method_not_allowed"),
            StatusCodes.Status404NotFound => ($"Unknown route: {context.Request.Method} {context.Request.Path}.", "unknown_route"),
            StatusCodes.Status415UnsupportedMediaType => ("The request body must be JSON (Content-Type: application/json).", "unsupported_media_type"),
            StatusCodes.Status400BadRequest => ("The request is invalid: a parameter could not be read.", "invalid_request"),
            _ => ($"The request failed ({status} {ReasonPhrases.GetReasonPhrase(status)}).", null),
        };
        return WriteInRouteDialectAsync(context, status, message, ErrorEnvelopes.OpenAIType(status), code);
    }

    private static string AnthropicType(int status) =>
        ErrorEnvelopes.AnthropicType(status) is "api_error" && status < 500 ? "invalid_request_error" : ErrorEnvelopes.AnthropicType(status);

    /// <summary>An error in the envelope of the route's API: Anthropic's under /v1/messages, OpenAI's under the other /v1 chat routes, else a problem document.</summary>
    public static async Task WriteInRouteDialectAsync(HttpContext context, int status, string message, string openAIType, string? code)
    {
        var path = context.Request.Path;
        if (ErrorEnvelopes.IsAnthropicPath(path))
        {
            await ErrorEnvelopes.WriteResponseAsync(context, status, json =>
                ErrorEnvelopes.WriteAnthropic(json, message, AnthropicType(status), context.TraceIdentifier));
        }
        else if (path.StartsWithSegments("/v1/chat", StringComparison.OrdinalIgnoreCase) || path.StartsWithSegments("/v1/models", StringComparison.OrdinalIgnoreCase)
            || path.StartsWithSegments("/v1/responses", StringComparison.OrdinalIgnoreCase))
        {
            await ErrorEnvelopes.WriteResponseAsync(context, status, json => ErrorEnvelopes.WriteOpenAI(json, message, openAIType, code));
        }
        else
        {
            await Results.Problem(statusCode: status, detail: message).ExecuteAsync(context);
        }
    }

    /// <summary>
    /// A database or Redis that cannot be reached right now (restarting, failing over, network): the caller should retry,
    /// so it is a 503, not a 500 — found by the fault suite (a PostgreSQL restart under the admin API).
    /// </summary>
    public static bool IsUnavailableStore(Exception? exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is System.Data.Common.DbException { IsTransient: true } or StackExchange.Redis.RedisConnectionException
                or StackExchange.Redis.RedisTimeoutException)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// System.Text.Json reading a string of the request that is no text: an unpaired \uD800-\uDFFF escape. Only the
    /// places that read the client's body ask this (a server-side read failing the same way is not the client's fault).
    /// </summary>
    public const string InvalidTextMessage = "The request contains a string that is not valid text (an unpaired \\uD800-\\uDFFF escape).";

    public static bool IsInvalidTextInRequest(Exception exception) =>
        exception is InvalidOperationException { Source: { } source } && source.StartsWith("System.Text.Json", StringComparison.Ordinal)
        && exception.Message.Contains("UTF-16", StringComparison.OrdinalIgnoreCase);

    public static bool IsUnreadableInput(Exception? exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is JsonException or DecoderFallbackException or BadHttpRequestException
                || (e is InvalidOperationException && e.Message.Contains("UTF-8", StringComparison.OrdinalIgnoreCase)))
            {
                return true;
            }
        }

        return false;
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Request {RequestId} failed with an unhandled {ExceptionType}")]
    private static partial void LogUnhandled(ILogger logger, string requestId, string exceptionType);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Request {RequestId}: a store is unavailable ({ExceptionType}); answered 503")]
    private static partial void LogStoreUnavailable(ILogger logger, string requestId, string exceptionType);
}
