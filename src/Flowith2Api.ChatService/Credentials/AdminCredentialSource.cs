using System.Text.Json;
using System.Text.Json.Serialization;
using Flowith2Api.ChatService.Admin;
using Flowith2Api.ServiceDefaults;

namespace Flowith2Api.ChatService.Credentials;

/// <summary>Told when the upstream rejects a credential, so the rejection persists where credentials are kept.</summary>
public interface ICredentialOutcomeReporter
{
    Task ReportDisabledAsync(Credential credential, string reason);
}

/// <summary>
/// The pool's members as the AdminService keeps them, reloaded within a second of any change. Until the AdminService
/// has answered once, the environment's <c>FLOWITH_AUTH_TOKENS</c> serve, so the service never starts empty-handed.
/// </summary>
public sealed class AdminCredentialSource(AdminClient admin, IConfiguration configuration) : ICredentialSource, ICredentialOutcomeReporter, IAdminStateCache
{
    private volatile IReadOnlyList<Credential> _current = new EnvironmentCredentialSource(configuration).Current;

    public string Kind => "credentials";

    public IReadOnlyList<Credential> Current => _current;

    public async Task ReloadAsync(CancellationToken cancellationToken)
    {
        using var response = await admin.SendAsync(HttpMethod.Get, "/internal/credentials", content: null, cancellationToken);
        response.EnsureSuccessStatusCode();
        var list = await JsonSerializer.DeserializeAsync(await response.Content.ReadAsStreamAsync(cancellationToken),
            AdminCredentialsJsonContext.Default.AdminCredentialList, cancellationToken);
        _current = [.. (list?.Credentials ?? []).Where(c => !string.IsNullOrEmpty(c.Value)).Select(c => new Credential(c.Value!))];
    }

    public async Task ReportDisabledAsync(Credential credential, string reason)
    {
        var body = new StringContent(JsonSerializer.Serialize(new AdminDisabledReport(Redaction.Redact(reason, credential.Value)),
            AdminCredentialsJsonContext.Default.AdminDisabledReport), System.Text.Encoding.UTF8, "application/json");
        try
        {
            using var response = await admin.SendAsync(HttpMethod.Post, $"/internal/credentials/{credential.Id}/disabled", body, CancellationToken.None);
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException)
        {
            // Best effort: the pool's own state (Redis) already has the credential disabled.
        }
    }
}

public sealed class AdminCredentialList
{
    [JsonPropertyName("credentials")] public List<AdminCredential>? Credentials { get; set; }
}

public sealed class AdminCredential
{
    [JsonPropertyName("value")] public string? Value { get; set; }
    [JsonPropertyName("state")] public string? State { get; set; }
}

public sealed record AdminDisabledReport([property: JsonPropertyName("reason")] string Reason);

[JsonSerializable(typeof(AdminCredentialList))]
[JsonSerializable(typeof(AdminDisabledReport))]
[JsonSerializable(typeof(Dictionary<string, string>))]
internal sealed partial class AdminCredentialsJsonContext : JsonSerializerContext;
