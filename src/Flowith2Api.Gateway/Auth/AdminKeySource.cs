using System.Text.Json;
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
        using var document = await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync(cancellationToken), default, cancellationToken);
        store.Replace(document.RootElement.GetProperty("keys").EnumerateArray().Select(k => (
            k.GetProperty("hash").GetString() ?? "",
            k.GetProperty("name").GetString() ?? "",
            k.GetProperty("is_admin").GetBoolean(),
            k.GetProperty("enabled").GetBoolean(),
            k.TryGetProperty("rate_limit_per_minute", out var limit) ? limit.GetInt32() : (int?)null)));
        if (document.RootElement.TryGetProperty("console_sessions", out var sessions))
        {
            consoleSessions.Replace(sessions);
        }
    }
}
