using Flowith2Api.Contracts;

namespace Flowith2Api.ChatService.Credentials;

/// <summary>Told how credentials fare, so their state, counts and last error persist where credentials are kept.</summary>
public interface ICredentialOutcomeReporter
{
    Task ReportDisabledAsync(Credential credential, string reason);

    /// <summary>Counted in memory and sent in batches (never a write per request).</summary>
    void Count(Credential credential, bool success, string? failure);
}

/// <summary>
/// The pool's members as the AdminService keeps them, reloaded within a second of any change. Until the AdminService
/// has answered once, the environment's <c>FLOWITH_AUTH_TOKENS</c> serve, so the service never starts empty-handed.
/// </summary>
public sealed class AdminCredentialSource(AdminClient admin, IConfiguration configuration) : ICredentialSource, ICredentialOutcomeReporter, IAdminStateCache
{
    private volatile IReadOnlyList<Credential> _current = new EnvironmentCredentialSource(configuration).Current;
    private readonly Lock _gate = new();
    private Dictionary<string, OutcomeTally> _tallies = [];

    public void Count(Credential credential, bool success, string? failure)
    {
        lock (_gate)
        {
            _tallies[credential.Id] = _tallies.TryGetValue(credential.Id, out var t)
                ? new OutcomeTally(t.Successes + (success ? 1 : 0), t.Failures + (success ? 0 : 1), DateTimeOffset.UtcNow, failure ?? t.LastError)
                : new OutcomeTally(success ? 1 : 0, success ? 0 : 1, DateTimeOffset.UtcNow, failure);
        }
    }

    /// <summary>Sends what was counted since the last flush (kept for the next flush if the AdminService does not answer).</summary>
    public async Task FlushOutcomesAsync(CancellationToken cancellationToken)
    {
        Dictionary<string, OutcomeTally> tallies;
        lock (_gate)
        {
            (tallies, _tallies) = (_tallies, []);
        }

        if (tallies.Count == 0)
        {
            return;
        }

        var report = tallies.Select(t => new CredentialOutcome(t.Key, t.Value.Successes, t.Value.Failures, t.Value.LastUsed,
            t.Value.LastError is null ? null : Redaction.Redact(t.Value.LastError))).ToList();
        try
        {
            using var response = await admin.SendAsync(HttpMethod.Post, "/internal/credentials/outcomes",
                new StringContent(JsonSerializer.Serialize(report, InternalCredentialsJsonContext.Default.ListCredentialOutcome), System.Text.Encoding.UTF8, "application/json"),
                cancellationToken);
            response.EnsureSuccessStatusCode();
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException)
        {
            lock (_gate)
            {
                foreach (var (id, tally) in tallies)
                {
                    _tallies[id] = _tallies.TryGetValue(id, out var t)
                        ? new OutcomeTally(t.Successes + tally.Successes, t.Failures + tally.Failures, t.LastUsed, t.LastError ?? tally.LastError)
                        : tally;
                }
            }
        }
    }

    private sealed record OutcomeTally(long Successes, long Failures, DateTimeOffset LastUsed, string? LastError);

    public string Kind => "credentials";

    public IReadOnlyList<Credential> Current => _current;

    public async Task ReloadAsync(CancellationToken cancellationToken)
    {
        using var response = await admin.SendAsync(HttpMethod.Get, "/internal/credentials", content: null, cancellationToken);
        response.EnsureSuccessStatusCode();
        var list = await JsonSerializer.DeserializeAsync(await response.Content.ReadAsStreamAsync(cancellationToken),
            InternalCredentialsJsonContext.Default.InternalCredentialList, cancellationToken);
        _current = [.. (list?.Credentials ?? []).Where(c => !string.IsNullOrEmpty(c.Value)).Select(c => new Credential(c.Value!))];
    }

    public async Task ReportDisabledAsync(Credential credential, string reason)
    {
        var body = new StringContent(JsonSerializer.Serialize(new CredentialDisabledReport(Redaction.Redact(reason, credential.Value)),
            InternalCredentialsJsonContext.Default.CredentialDisabledReport), System.Text.Encoding.UTF8, "application/json");
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
