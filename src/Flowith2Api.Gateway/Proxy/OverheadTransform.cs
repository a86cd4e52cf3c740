using System.Diagnostics;
using System.Globalization;
using Flowith2Api.ServiceDefaults;
using Yarp.ReverseProxy.Transforms;

namespace Flowith2Api.Gateway.Proxy;

/// <summary>When the Gateway started on a request (set first thing by the auth middleware).</summary>
public sealed class GatewayRequestStart(long timestamp)
{
    public long Timestamp { get; } = timestamp;
}

/// <summary>
/// Answers <c>x-gateway-overhead-ms</c>: the service's own time (its elapsed time minus its upstream waits) plus the
/// Gateway's (the Gateway's elapsed time minus the service's). The internal timing headers never reach the client.
/// </summary>
public static class OverheadTransform
{
    public static ValueTask ApplyAsync(ResponseTransformContext context)
    {
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
        }

        return ValueTask.CompletedTask;
    }
}
