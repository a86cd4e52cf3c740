using Flowith2Api.Contracts;
using Flowith2Api.ServiceDefaults;

namespace Flowith2Api.Gateway.Auth;

/// <summary>
/// Keeps the <see cref="ApiKeyStore"/> equal to the AdminService's keys: at start, within a second of a change, and
/// every 30 s (through <see cref="AdminChanges"/>), and the web console's sessions with them. Until the AdminService
/// answers, the environment's keys serve.
/// </summary>
public sealed class AdminKeySource(AdminClient admin, ApiKeyStore store, ConsoleSessionStore consoleSessions) : IAdminStateCache
{
    public string Kind => "keys";

    public async Task ReloadAsync(CancellationToken cancellationToken)
    {
        using var response = await admin.SendAsync(HttpMethod.Get, "/internal/keys", content: null, cancellationToken);
        response.EnsureSuccessStatusCode();
        var list = await response.Content.ReadFromJsonAsync(InternalKeysJsonContext.Default.InternalKeyList, cancellationToken);
        if (list?.Keys is null)
        {
            throw new System.Text.Json.JsonException("/internal/keys answered without its keys."); // a failed reload, retried
        }

        store.Replace(list.Keys);
        if (list.ConsoleSessions is not null)
        {
            consoleSessions.Replace(list.ConsoleSessions);
        }
    }
}
