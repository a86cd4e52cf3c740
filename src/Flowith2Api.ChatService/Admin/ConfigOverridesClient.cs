using System.Text.Json;
using Flowith2Api.ChatService.Credentials;
using Flowith2Api.ServiceDefaults;

namespace Flowith2Api.ChatService.Admin;

/// <summary>Keeps <see cref="RuntimeOverrides"/> equal to the AdminService's config overrides (within a second of a change).</summary>
public sealed class ConfigOverridesClient(AdminClient admin, RuntimeOverrides overrides) : IAdminStateCache
{
    public string Kind => "config";

    public async Task ReloadAsync(CancellationToken cancellationToken)
    {
        using var response = await admin.SendAsync(HttpMethod.Get, "/internal/config", content: null, cancellationToken);
        response.EnsureSuccessStatusCode();
        var values = await JsonSerializer.DeserializeAsync(await response.Content.ReadAsStreamAsync(cancellationToken),
            AdminCredentialsJsonContext.Default.DictionaryStringString, cancellationToken);
        overrides.Apply(values ?? []);
    }
}
