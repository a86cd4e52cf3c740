using System.Diagnostics;
using System.Globalization;
using Flowith2Api.Contracts;
using Flowith2Api.ServiceDefaults;
using Yarp.ReverseProxy.Transforms;

namespace Flowith2Api.Gateway.Proxy;

/// <summary>When the Gateway started on a request (set first thing in its pipeline).</summary>
public sealed class GatewayRequestStart(long timestamp)
{
    public long Timestamp { get; } = timestamp;
}

public static class GatewayRequestStartExtensions
{
    /// <summary>The first step of the Gateway's pipeline: when it started on the request, for <c>x-gateway-overhead-ms</c>.</summary>
    public static IApplicationBuilder UseGatewayRequestStart(this IApplicationBuilder app) => app.Use(static (context, next) =>
    {
        context.Features.Set(new GatewayRequestStart(Stopwatch.GetTimestamp()));
        return next(context);
    });
}

/// <summary>
/// Marks a request whose destination answered (its status and headers are on the response): a request-body error
/// YARP reports afterwards (the service answered without reading the whole body) must not replace that answer.
/// </summary>
public sealed class DestinationAnswered
{
    public static readonly DestinationAnswered Instance = new();

    private DestinationAnswered()
    {
    }
}

/// <summary>
/// Answers <c>x-gateway-overhead-ms</c>: the service's own time (its elapsed time minus its upstream waits) plus the
/// Gateway's (the Gateway's elapsed time minus the service's). The internal timing headers never reach the client.
/// </summary>
public static class OverheadTransform
{
    private static readonly System.Diagnostics.Metrics.Histogram<double> Overhead = Telemetry.Meter.CreateHistogram("flowith2api.gateway.overhead", "s",
        "The product's own time per forwarded call (Gateway + service, upstream waits excluded), as answered in x-gateway-overhead-ms.",
        advice: new System.Diagnostics.Metrics.InstrumentAdvice<double>
        {
            HistogramBucketBoundaries = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
        });

    public static ValueTask ApplyAsync(ResponseTransformContext context)
    {
        if (context.ProxyResponse is not null)
        {
            context.HttpContext.Features.Set(DestinationAnswered.Instance);
        }

        var serviceElapsed = ResponseTransform.TakeHeader(context, InternalHeaders.ServiceElapsedMs);
        var serviceOverhead = ResponseTransform.TakeHeader(context, InternalHeaders.ServiceOverheadMs);
        var start = context.HttpContext.Features.Get<GatewayRequestStart>();
        if (start is not null
            && double.TryParse(serviceElapsed, NumberStyles.Float, CultureInfo.InvariantCulture, out var elapsed)
            && double.TryParse(serviceOverhead, NumberStyles.Float, CultureInfo.InvariantCulture, out var overhead))
        {
            var gateway = Stopwatch.GetElapsedTime(start.Timestamp).TotalMilliseconds - elapsed;
            var total = Math.Max(0, gateway) + overhead;
            context.HttpContext.Response.Headers[InternalHeaders.GatewayOverheadMs] = total.ToString("F3", CultureInfo.InvariantCulture);
            Overhead.Record(total / 1000);
        }

        return ValueTask.CompletedTask;
    }
}
