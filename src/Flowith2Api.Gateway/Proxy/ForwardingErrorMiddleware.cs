using Flowith2Api.Gateway.Errors;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Health;
using Yarp.ReverseProxy.Model;

namespace Flowith2Api.Gateway.Proxy;

/// <summary>
/// The outermost step of the proxy pipeline. A request whose connection to the chosen replica could not be opened
/// (refused: the replica crashed or was scaled away; nothing was sent) goes through load balancing and forwarding again
/// among the other replicas, and the dead one is left out at once — so a crash costs only the requests the replica
/// held, not seconds of 502s until the health checks notice. Any other forwarding failure becomes a JSON error in the
/// caller's dialect, but only while the response has not started: once bytes went out, the service behind owns the
/// stream and YARP aborts it. A request-body error after the service answered (it answered without reading the whole
/// body, e.g. a 405 to a POST) keeps that answer.
/// </summary>
public sealed partial class ForwardingErrorMiddleware(RequestDelegate next, IDestinationHealthUpdater health, ILogger<ForwardingErrorMiddleware> logger)
{
    /// <summary>How many other replicas one request may try after the first refused its connection.</summary>
    public const int MaxFailovers = 2;

    /// <summary>The most of an unread request body the Gateway reads and drops; past it the connection is closed after the answer.</summary>
    private const int MaxDrainBytes = 1024 * 1024;

    public async Task InvokeAsync(HttpContext context)
    {
        var proxy = context.GetReverseProxyFeature();
        var candidates = proxy.AvailableDestinations; // load balancing narrows the feature's list to the one it picks
        await next(context);

        var error = context.GetForwarderErrorFeature();
        if (error is not null && IsRefusedConnection(error))
        {
            error = await FailOverAsync(context, proxy, candidates, error);
        }

        if (error is null || context.Response.HasStarted || context.RequestAborted.IsCancellationRequested)
        {
            return;
        }

        if (error.Error is ForwarderError.RequestBodyClient or ForwarderError.RequestBodyDestination or ForwarderError.RequestBodyCanceled
            && error.Exception is not AggregateException // YARP reports a body failure that replaced the answer (cleared, bare status) as an aggregate
            && context.Features.Get<DestinationAnswered>() is not null)
        {
            // The service's own answer (status, headers, body) is complete and goes out as it is, once the rest of the
            // client's body is read, so its connection stays in step for the next request.
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

    /// <summary>
    /// A connection that could not be opened: the request never left the Gateway (YARP had not started on its body), so
    /// sending it elsewhere cannot do anything twice.
    /// </summary>
    private static bool IsRefusedConnection(IForwarderErrorFeature error) =>
        error.Error == ForwarderError.Request && error.Exception is HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError };

    private async Task<IForwarderErrorFeature?> FailOverAsync(HttpContext context, IReverseProxyFeature proxy, IReadOnlyList<DestinationState> candidates,
        IForwarderErrorFeature error)
    {
        List<DestinationState>? tried = null;
        for (var attempt = 0; attempt < MaxFailovers; attempt++)
        {
            if (proxy.ProxiedDestination is not { } failed || proxy.Route.Cluster is not { } cluster
                || context.Response.HasStarted || context.RequestAborted.IsCancellationRequested)
            {
                break;
            }

            // After YARP's passive check has counted the failure: left out now, not only once the failure rate adds up.
            health.SetPassive(cluster, failed, DestinationHealth.Unhealthy, GatewayRoutes.PassiveReactivationPeriod);
            (tried ??= new List<DestinationState>(MaxFailovers + 1)).Add(failed);
            var others = candidates.Where(d => !tried.Contains(d)).ToList();
            if (others.Count == 0)
            {
                break;
            }

            LogFailover(logger, cluster.ClusterId, failed.DestinationId);
            proxy.AvailableDestinations = others;
            context.Features.Set<IForwarderErrorFeature>(null);
            context.Response.Clear(); // YARP's 502 for the refused attempt
            await next(context);
            error = context.GetForwarderErrorFeature()!;
            if (error is null || !IsRefusedConnection(error))
            {
                break;
            }
        }

        return error;
    }

    /// <summary>
    /// Reads and drops what YARP left of an HTTP/1.1 client's body before the answer goes out: YARP cancelled its read
    /// when the answer came, and left so, Kestrel dropped the connection with the answer unsent (under load; answering
    /// first and draining after lost it too). The client is sending it anyway; at most 1 MiB or 5 s is waited for.
    /// HTTP/2 streams are reset by Kestrel on their own.
    /// </summary>
    private static async Task DrainRequestBodyAsync(HttpContext context)
    {
        if ((HttpProtocol.IsHttp11(context.Request.Protocol) || HttpProtocol.IsHttp10(context.Request.Protocol))
            && !await ServiceDefaults.RequestBodyDrain.TryReadToEndAsync(context, MaxDrainBytes))
        {
            context.Response.Headers.Connection = "close"; // the client left, stalled or sent too much: the connection closes after the answer
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "A {Cluster} replica ({Destination}) refused the connection; the request goes to another")]
    private static partial void LogFailover(ILogger logger, string cluster, string destination);
}
