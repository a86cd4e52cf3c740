using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Model;

namespace Flowith2Api.Gateway.Proxy;

/// <summary>
/// The route table (DESIGN.md): which paths go to which service, and which realm (client key or admin key) each
/// needs. Destinations are service names resolved by service discovery (<c>http://chat-service</c>).
/// </summary>
public static class GatewayRoutes
{
    public const string RealmKey = "Realm";
    public const string UserRealm = "user";
    public const string AdminRealm = "admin";

    public const string ChatCluster = "chat-service";
    public const string ToolCluster = "tool-service";
    public const string AdminCluster = "admin-service";

    public static IReadOnlyList<RouteConfig> Routes { get; } =
    [
        Route("chat-completions", ChatCluster, "/v1/chat/completions", UserRealm),
        Route("messages", ChatCluster, "/v1/messages/{**rest}", UserRealm),
        Route("responses", ChatCluster, "/v1/responses/{**rest}", UserRealm),
        Route("models", ChatCluster, "/v1/models/{**rest}", UserRealm),
        Route("mcp", ToolCluster, "/mcp/{**rest}", UserRealm),
        Route("admin-tools", ToolCluster, "/v1/admin/tools/{**rest}", AdminRealm, order: -1),
        Route("admin-sessions", ChatCluster, "/v1/admin/sessions/{**rest}", AdminRealm, order: -1),
        Route("admin", AdminCluster, "/v1/admin/{**rest}", AdminRealm),
    ];

    public static IReadOnlyList<ClusterConfig> Clusters(GatewayOptions options) =>
    [
        Cluster(ChatCluster, options.StreamActivityTimeout),
        Cluster(ToolCluster, options.StreamActivityTimeout),
        Cluster(AdminCluster, options.AdminActivityTimeout),
    ];

    /// <summary>The realm of the route this request matched; anything unmatched needs a client key.</summary>
    public static string RealmOf(HttpContext context)
    {
        var path = context.Request.Path;
        if (path.StartsWithSegments(ServiceDefaults.Extensions.MetricsEndpointPath, StringComparison.OrdinalIgnoreCase))
        {
            return AdminRealm;
        }

        var route = context.GetEndpoint()?.Metadata.GetMetadata<RouteModel>();
        return route?.Config.Metadata?.TryGetValue(RealmKey, out var realm) == true ? realm : UserRealm;
    }

    private static RouteConfig Route(string id, string cluster, string path, string realm, int order = 0) => new()
    {
        RouteId = id,
        ClusterId = cluster,
        Order = order,
        Match = new RouteMatch { Path = path },
        Metadata = new Dictionary<string, string> { [RealmKey] = realm },
    };

    private static ClusterConfig Cluster(string id, TimeSpan activityTimeout) => new()
    {
        ClusterId = id,
        HttpRequest = new ForwarderRequestConfig
        {
            ActivityTimeout = activityTimeout,
            Version = System.Net.HttpVersion.Version11,
            VersionPolicy = HttpVersionPolicy.RequestVersionOrLower,
        },
        Destinations = new Dictionary<string, DestinationConfig>
        {
            ["primary"] = new() { Address = $"http://{id}" },
        },
    };
}
