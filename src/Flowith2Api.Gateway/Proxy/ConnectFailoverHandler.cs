using System.Runtime.ExceptionServices;
using Yarp.ReverseProxy;
using Yarp.ReverseProxy.Health;
using Yarp.ReverseProxy.Model;

namespace Flowith2Api.Gateway.Proxy;

/// <summary>
/// A request whose connection to a replica could not even be opened (refused or unreachable: the replica crashed, was
/// scaled away or is restarting) was never seen by that replica, so it goes to another available replica of the same
/// service instead of becoming a 502; the replica that failed is left out at once, until the health checks (or the
/// reactivation period) let it back in. Nothing is resent once a connection carried the request: a failure after that
/// is the caller's error as before (the service may have acted on it).
/// </summary>
public sealed partial class ConnectFailoverHandler(string clusterId, IServiceProvider services, ILogger logger) : DelegatingHandler
{
    /// <summary>How many other replicas one request may try after the first refused it.</summary>
    public const int MaxFailovers = 2;

    /// <summary>How long a replica that refused a connection is left out before it is tried again (as YARP's passive checks do).</summary>
    public static readonly TimeSpan ReactivationPeriod = TimeSpan.FromSeconds(10);

    private IProxyStateLookup? _lookup;
    private IDestinationHealthUpdater? _health;

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        try
        {
            return await base.SendAsync(request, cancellationToken);
        }
        catch (HttpRequestException failure) when (IsConnectFailure(failure, cancellationToken))
        {
            return await FailOverAsync(request, failure, cancellationToken);
        }
    }

    private static bool IsConnectFailure(HttpRequestException failure, CancellationToken cancellationToken) =>
        failure.HttpRequestError == HttpRequestError.ConnectionError && !cancellationToken.IsCancellationRequested;

    private async Task<HttpResponseMessage> FailOverAsync(HttpRequestMessage request, HttpRequestException failure, CancellationToken cancellationToken)
    {
        // Resolved on first use: the proxy's state depends on the client factory that made this handler.
        _lookup ??= services.GetRequiredService<IProxyStateLookup>();
        _health ??= services.GetRequiredService<IDestinationHealthUpdater>();
        if (!_lookup.TryGetCluster(clusterId, out var cluster))
        {
            ExceptionDispatchInfo.Throw(failure);
        }

        var tried = new List<DestinationState>(MaxFailovers + 1);
        for (var attempt = 0; attempt < MaxFailovers; attempt++)
        {
            var failed = DestinationOf(cluster, request.RequestUri);
            if (failed is null)
            {
                break;
            }

            tried.Add(failed);
            _health.SetPassive(cluster, failed, DestinationHealth.Unhealthy, ReactivationPeriod);
            var next = LeastBusy(cluster.DestinationsState.AvailableDestinations, tried) ?? LeastBusy(cluster.DestinationsState.AllDestinations, tried);
            if (next is null)
            {
                break;
            }

            request.RequestUri = Rebase(request.RequestUri!, failed.Model.Config.Address, next.Model.Config.Address);
            LogFailover(logger, clusterId, failed.DestinationId, next.DestinationId);
            try
            {
                return await base.SendAsync(request, cancellationToken);
            }
            catch (HttpRequestException again) when (IsConnectFailure(again, cancellationToken))
            {
                failure = again;
            }
        }

        ExceptionDispatchInfo.Throw(failure);
        return null; // not reached
    }

    private static DestinationState? DestinationOf(ClusterState cluster, Uri? target)
    {
        if (target is null)
        {
            return null;
        }

        foreach (var destination in cluster.DestinationsState.AllDestinations)
        {
            if (Uri.TryCreate(destination.Model.Config.Address, UriKind.Absolute, out var address)
                && Uri.Compare(address, target, UriComponents.SchemeAndServer, UriFormat.Unescaped, StringComparison.OrdinalIgnoreCase) == 0)
            {
                return destination;
            }
        }

        return null;
    }

    private static DestinationState? LeastBusy(IReadOnlyList<DestinationState> destinations, List<DestinationState> tried)
    {
        DestinationState? best = null;
        foreach (var destination in destinations)
        {
            if (!tried.Contains(destination) && (best is null || destination.ConcurrentRequestCount < best.ConcurrentRequestCount))
            {
                best = destination;
            }
        }

        return best;
    }

    /// <summary>The same target on another destination: its address in place of the failed one's (paths kept).</summary>
    private static Uri Rebase(Uri target, string failedAddress, string nextAddress)
    {
        var failedPrefix = new Uri(failedAddress).GetLeftPart(UriPartial.Path).TrimEnd('/');
        var absolute = target.AbsoluteUri;
        var rest = absolute.StartsWith(failedPrefix, StringComparison.OrdinalIgnoreCase) ? absolute[failedPrefix.Length..] : target.PathAndQuery;
        return new Uri(new Uri(nextAddress).GetLeftPart(UriPartial.Path).TrimEnd('/') + rest);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "A {Cluster} replica ({Failed}) refused the connection; the request goes to {Next}")]
    private static partial void LogFailover(ILogger logger, string cluster, string failed, string next);
}
