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
            .WithSeedEnvironment(builder.Configuration);
        foreach (var reference in references)
        {
            if (reference is not null)
            {
                service.WithReference(reference.Resource, reference.ConnectionName).WaitFor(reference.Resource);
            }
        }

        return service;
    }

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
