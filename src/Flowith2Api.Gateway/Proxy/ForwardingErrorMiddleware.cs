using Flowith2Api.Gateway.Errors;
using Yarp.ReverseProxy.Forwarder;

namespace Flowith2Api.Gateway.Proxy;

/// <summary>
/// Turns a forwarding failure into a JSON error in the caller's dialect, but only while the response has not
/// started: once bytes went out, the service behind owns the stream and YARP aborts it. A request-body error after
/// the service answered (it answered without reading the whole body, e.g. a 405 to a POST) keeps that answer.
/// </summary>
public sealed partial class ForwardingErrorMiddleware(RequestDelegate next, ILogger<ForwardingErrorMiddleware> logger)
{
    public async Task InvokeAsync(HttpContext context)
    {
        await next(context);

        var error = context.GetForwarderErrorFeature();
        if (error is null || context.Response.HasStarted || context.RequestAborted.IsCancellationRequested)
        {
            return;
        }

        if (error.Error is ForwarderError.RequestBodyClient or ForwarderError.RequestBodyDestination or ForwarderError.RequestBodyCanceled
            && context.Features.Get<DestinationAnswered>() is not null)
        {
            // The service's own answer (status, headers, body) is complete and goes out as it is. YARP cancelled its read
            // of the request body; the rest is read here, so the connection stays in step for its next request.
            await DrainRequestBodyAsync(context);
            return;
        }

        LogForwardingError(logger, error.Error, context.Request.Path, error.Exception?.GetType().Name);
        var (status, message, code) = error.Error switch
        {
            ForwarderError.RequestTimedOut => (StatusCodes.Status504GatewayTimeout,
                "The service behind the gateway did not answer in time.", "gateway_timeout"),
            ForwarderError.NoAvailableDestinations => (StatusCodes.Status503ServiceUnavailable,
                "The service behind the gateway is not available.", "service_unavailable"),
            ForwarderError.RequestBodyClient when IsTooLarge(error.Exception) => (StatusCodes.Status413PayloadTooLarge,
                "The request body is larger than the gateway's limit.", "request_too_large"),
            ForwarderError.RequestBodyClient or ForwarderError.RequestCanceled => (StatusCodes.Status400BadRequest,
                "The request body could not be read.", "invalid_request_body"),
            _ => (StatusCodes.Status502BadGateway,
                "The service behind the gateway could not be reached.", "bad_gateway"),
        };

        context.Response.Clear(); // nothing the service may have answered (status, Content-Length) mixes into ours
        await DialectErrors.WriteAsync(context, status, message, code);
    }

    /// <summary>The most of an unread request body the Gateway reads and drops; past it the connection is closed instead.</summary>
    private const int MaxDrainBytes = 1024 * 1024;

    private static async Task DrainRequestBodyAsync(HttpContext context)
    {
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
            timeout.CancelAfter(TimeSpan.FromSeconds(5));
            var drained = 0;
            int read;
            while ((read = await context.Request.Body.ReadAsync(buffer, timeout.Token)) > 0)
            {
                drained += read;
                if (drained > MaxDrainBytes)
                {
                    context.Response.Headers.Connection = "close";
                    return;
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or BadHttpRequestException or InvalidOperationException)
        {
            if (!context.Response.HasStarted)
            {
                context.Response.Headers.Connection = "close";
            }
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static bool IsTooLarge(Exception? exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge })
            {
                return true;
            }
        }

        return false;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Forwarding failed ({Error}) for {Path}: {ExceptionType}")]
    private static partial void LogForwardingError(ILogger logger, ForwarderError error, PathString path, string? exceptionType);
}
