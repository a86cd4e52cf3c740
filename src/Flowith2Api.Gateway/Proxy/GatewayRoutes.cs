using Flowith2Api.Gateway.Auth;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Health;
using Yarp.ReverseProxy.LoadBalancing;
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

    /// <summary>The web console's pages: a signed-in console session (cookie), except the sign-in page and the assets.</summary>
    public const string ConsoleRealm = "console";

    /// <summary>How long a replica YARP's passive checks (or a refused connection) left out stays out before it is tried again.</summary>
    public static readonly TimeSpan PassiveReactivationPeriod = TimeSpan.FromSeconds(10);

    public const string ChatCluster = "chat-service";
    public const string ToolCluster = "tool-service";
    public const string AdminCluster = "admin-service";

    /// <summary>The console's pages are only read (GET, HEAD): every change goes through the admin API.</summary>
    public static readonly string[] ConsoleMethods = ["GET", "HEAD"];

    public static IReadOnlyList<RouteConfig> Routes { get; } =
    [
        Route("chat-completions", ChatCluster, "/v1/chat/completions", UserRealm, EdgeAuth.UserPolicy),
        Route("messages", ChatCluster, "/v1/messages/{**rest}", UserRealm, EdgeAuth.UserPolicy),
        Route("responses", ChatCluster, "/v1/responses/{**rest}", UserRealm, EdgeAuth.UserPolicy),
        Route("models", ChatCluster, "/v1/models/{**rest}", UserRealm, EdgeAuth.UserPolicy),
        Route("mcp", ToolCluster, "/mcp/{**rest}", UserRealm, EdgeAuth.UserPolicy),
        Route("admin-tools", ToolCluster, "/v1/admin/tools/{**rest}", AdminRealm, EdgeAuth.AdminPolicy, order: -1),
        Route("admin-sessions", ChatCluster, "/v1/admin/sessions/{**rest}", AdminRealm, EdgeAuth.AdminPolicy, order: -1),
        Route("admin", AdminCluster, "/v1/admin/{**rest}", AdminRealm, EdgeAuth.AdminPolicy),
        // The sign-in page and its assets are for anyone; every other page needs a console session (or the admin key).
        Route("console-login", AdminCluster, "/admin/login", ConsoleRealm, "anonymous", order: -1, methods: ConsoleMethods),
        Route("console-assets", AdminCluster, "/admin/assets/{**rest}", ConsoleRealm, "anonymous", order: -1, methods: ConsoleMethods),
        Route("console", AdminCluster, "/admin/{**rest}", ConsoleRealm, EdgeAuth.ConsolePolicy, methods: ConsoleMethods),
    ];

    /// <summary>The service-discovery endpoint name of a service's HTTP/2-only (prior knowledge) listener.</summary>
    public const string Http2EndpointName = "h2c";

    /// <summary>
    /// One cluster per service. A service that publishes an <c>h2c</c> endpoint (<c>services:&lt;name&gt;:h2c:0</c>)
    /// is called over HTTP/2 with prior knowledge, so thousands of open streams share a few connections instead of
    /// holding a socket each; otherwise over HTTP/1.1.
    /// </summary>
    public static IReadOnlyList<ClusterConfig> Clusters(GatewayOptions options, IConfiguration configuration) =>
    [
        Cluster(ChatCluster, options.StreamActivityTimeout, configuration),
        Cluster(ToolCluster, options.StreamActivityTimeout, configuration),
        Cluster(AdminCluster, options.AdminActivityTimeout, configuration),
    ];

    /// <summary>The realm of the route this request matched; anything else is the client keys' realm.</summary>
    public static string RealmOf(HttpContext context) =>
        context.GetEndpoint()?.Metadata.GetMetadata<RouteModel>()?.Config.Metadata?.TryGetValue(RealmKey, out var realm) == true ? realm : UserRealm;

    private static RouteConfig Route(string id, string cluster, string path, string realm, string policy, int order = 0, string[]? methods = null) => new()
    {
        RouteId = id,
        ClusterId = cluster,
        Order = order,
        AuthorizationPolicy = policy,
        Match = new RouteMatch { Path = path, Methods = methods },
        Metadata = new Dictionary<string, string> { [RealmKey] = realm },
    };

    private static ClusterConfig Cluster(string id, TimeSpan activityTimeout, IConfiguration configuration)
    {
        var http2 = configuration.GetSection($"services:{id}:{Http2EndpointName}").GetChildren().Any(e => !string.IsNullOrEmpty(e.Value));
        return new ClusterConfig
        {
            ClusterId = id,
            HttpRequest = new ForwarderRequestConfig
            {
                ActivityTimeout = activityTimeout,
                Version = http2 ? System.Net.HttpVersion.Version20 : System.Net.HttpVersion.Version11,
                VersionPolicy = http2 ? HttpVersionPolicy.RequestVersionExact : HttpVersionPolicy.RequestVersionOrLower,
            },
            Destinations = new Dictionary<string, DestinationConfig>
            {
                ["primary"] = new() { Address = http2 ? $"http://_{Http2EndpointName}.{id}" : $"http://{id}" },
            },
            // Service discovery may name several replicas: the less busy of two random ones gets the request. A replica
            // whose connections fail (it crashed) is left out at once, and one that stops answering /ready (it crashed or
            // is draining) twice in a row within seconds, until it answers again — unless none is left, when all are tried rather than none.
            LoadBalancingPolicy = LoadBalancingPolicies.PowerOfTwoChoices,
            Metadata = new Dictionary<string, string> { ["ConsecutiveFailuresHealthPolicy.Threshold"] = "2" },
            HealthCheck = new HealthCheckConfig
            {
                AvailableDestinationsPolicy = HealthCheckConstants.AvailableDestinations.HealthyOrPanic,
                Active = new ActiveHealthCheckConfig
                {
                    Enabled = true,
                    Interval = TimeSpan.FromSeconds(3),
                    Timeout = TimeSpan.FromSeconds(2),
                    Policy = HealthCheckConstants.ActivePolicy.ConsecutiveFailures,
                    Path = ServiceDefaults.Extensions.ReadinessEndpointPath,
                },
                Passive = new PassiveHealthCheckConfig
                {
                    Enabled = true,
                    Policy = HealthCheckConstants.PassivePolicy.TransportFailureRate,
                    ReactivationPeriod = PassiveReactivationPeriod,
                },
            },
        };
    }
}
