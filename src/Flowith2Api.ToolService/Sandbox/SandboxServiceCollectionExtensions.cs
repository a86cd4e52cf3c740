using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Flowith2Api.ToolService.Sandbox;

public static class SandboxServiceCollectionExtensions
{
    /// <summary>Registers <see cref="ISandbox"/> as the bubblewrap sandbox (one per process; it probes bubblewrap once).</summary>
    public static IServiceCollection AddSandbox(this IServiceCollection services)
    {
        services.TryAddSingleton<ISandbox>(provider => new BubblewrapSandbox(provider.GetService<ILogger<BubblewrapSandbox>>()));
        return services;
    }
}
