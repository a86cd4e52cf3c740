using Flowith2Api.AppHost.Infrastructure;
using Flowith2Api.ServiceDefaults;
using Microsoft.Extensions.Configuration;

namespace Flowith2Api.AppHost;

internal static class ServiceResourceExtensions
{
    /// <summary>One internal service: its HTTP endpoint, health check, the internal secret, infrastructure references.</summary>
    public static IResourceBuilder<ProjectResource> AddService<TProject>(this IDistributedApplicationBuilder builder, string name,
        SecretParameters secrets, params InfrastructureReference?[] references)
        where TProject : IProjectMetadata, new()
    {
        var service = builder.AddProject<TProject>(name, launchProfileName: null)
            .WithHttpEndpoint(name: "http")
            .WithHttpHealthCheck("/health")
            .WithEnvironment(SeedSettings.InternalSecret, secrets.InternalSecret)
            .WithSeedEnvironment(builder.Configuration)
            .WithShutdownTiming(builder.ExecutionContext.IsPublishMode);
        foreach (var reference in references)
        {
            if (reference is not null)
            {
                service.WithReference(reference.Resource, reference.ConnectionName).WaitFor(reference.Resource);
            }
        }

        return service;
    }

    /// <summary>The name of the HTTP/2-only listener; the Gateway calls a service over h2c when it sees one.</summary>
    public const string Http2EndpointName = "h2c";

    /// <summary>
    /// Adds an HTTP/2-only (prior knowledge, cleartext) listener next to the service's HTTP/1.1 one. The Gateway then
    /// multiplexes every forwarded request over a few connections instead of holding a socket per open stream.
    /// Kestrel cannot offer HTTP/1.1 and HTTP/2 on one cleartext port, and health probes speak HTTP/1.1, so there
    /// are two: Kestrel endpoints "http" and "h2c", bound to the ports Aspire (or the Kubernetes Service) gives.
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithHttp2Endpoint(this IResourceBuilder<ProjectResource> service, bool publishMode)
    {
        service.WithEndpoint(Http2EndpointName, endpoint =>
        {
            endpoint.UriScheme = "http";
            endpoint.Transport = "http2";
            if (publishMode)
            {
                endpoint.TargetPort = 8081; // next to the http endpoint's 8080 in the container
            }
        });
        var http = service.GetEndpoint("http");
        var h2c = service.GetEndpoint(Http2EndpointName);
        var host = publishMode ? "+" : "localhost";
        return service.WithEnvironment(context =>
        {
            context.EnvironmentVariables["Kestrel__Endpoints__http__Url"] =
                ReferenceExpression.Create($"http://{host}:{http.Property(EndpointProperty.TargetPort)}");
            context.EnvironmentVariables[$"Kestrel__Endpoints__{Http2EndpointName}__Url"] =
                ReferenceExpression.Create($"http://{host}:{h2c.Property(EndpointProperty.TargetPort)}");
            context.EnvironmentVariables[$"Kestrel__Endpoints__{Http2EndpointName}__Protocols"] = "Http2";
        });
    }

    /// <summary>
    /// Deployed behind a load balancer, a service keeps answering for a few seconds after SIGTERM (reporting not
    /// ready) so the balancer stops sending before it stops listening; locally it stops at once.
    /// </summary>
    /// <remarks>
    /// The ChatService ends a stream properly when its drain runs out; the Gateway cannot (it only relays bytes), so it
    /// is given a longer drain (<paramref name="drainSeconds"/>) than the services behind it.
    /// </remarks>
    public static IResourceBuilder<ProjectResource> WithShutdownTiming(this IResourceBuilder<ProjectResource> service, bool publishMode, int drainSeconds = 30) =>
        publishMode
            ? service.WithEnvironment("SHUTDOWN_DELAY_SECONDS", "5")
                .WithEnvironment("SHUTDOWN_DRAIN_SECONDS", drainSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture))
            : service;

    /// <summary>Passes the original project's (non-secret) environment variables through to a service.</summary>
    public static IResourceBuilder<T> WithSeedEnvironment<T>(this IResourceBuilder<T> resource, IConfiguration configuration)
        where T : IResourceWithEnvironment
    {
        foreach (var name in SeedSettings.PassThrough)
        {
            var value = configuration[name];
            if (!string.IsNullOrEmpty(value))
            {
                resource.WithEnvironment(name, value);
            }
        }

        return resource;
    }
}
