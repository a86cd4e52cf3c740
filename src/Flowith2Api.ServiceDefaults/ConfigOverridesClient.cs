using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;

namespace Flowith2Api.ServiceDefaults;

/// <summary>Keeps <see cref="RuntimeOverrides"/> equal to the AdminService's config overrides (within a second of a change).</summary>
public sealed class ConfigOverridesClient(AdminClient admin, RuntimeOverrides overrides) : IAdminStateCache
{
    public string Kind => "config";

    public async Task ReloadAsync(CancellationToken cancellationToken)
    {
        using var response = await admin.SendAsync(HttpMethod.Get, "/internal/config", content: null, cancellationToken);
        response.EnsureSuccessStatusCode();
        var values = await JsonSerializer.DeserializeAsync(await response.Content.ReadAsStreamAsync(cancellationToken),
            OverridesJsonContext.Default.DictionaryStringString, cancellationToken);
        overrides.Apply(values ?? []);
    }
}

[System.Text.Json.Serialization.JsonSerializable(typeof(Dictionary<string, string>))]
internal sealed partial class OverridesJsonContext : System.Text.Json.Serialization.JsonSerializerContext;

public static class AdminStateRegistration
{
    /// <summary>
    /// When the AdminService is known (service discovery or <c>ADMIN_SERVICE_URL</c>): its config overrides become the
    /// last configuration source and follow changes within a second. Returns false when there is no AdminService.
    /// </summary>
    public static bool AddAdminState(this Microsoft.AspNetCore.Builder.WebApplicationBuilder builder)
    {
        var overrides = new RuntimeOverrides();
        builder.Configuration.Sources.Add(overrides);
        builder.Services.AddSingleton(overrides);
        if (AdminClient.AdminServiceUri(builder.Configuration) is null)
        {
            return false;
        }

        builder.AddRedisWhenConfigured(); // change notifications arrive through Redis pub/sub when there is one

        builder.Services.AddHttpClient(AdminClient.HttpClientName, http => http.Timeout = Timeout.InfiniteTimeSpan).WithoutDefaultResilience();
        builder.Services.AddSingleton(services => ActivatorUtilities.CreateInstance<AdminClient>(services,
            services.GetRequiredService<IHttpClientFactory>().CreateClient(AdminClient.HttpClientName)));
        builder.Services.AddSingleton<IAdminStateCache, ConfigOverridesClient>();
        builder.Services.AddHostedService<AdminChanges>();
        return true;
    }
}
