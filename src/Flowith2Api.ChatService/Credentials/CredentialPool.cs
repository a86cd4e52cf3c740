using Microsoft.Extensions.Options;

namespace Flowith2Api.ChatService.Credentials;

/// <summary>The credential pool as the chat path sees it (kept behind an interface so an admin-backed source drops in).</summary>
public interface ICredentialPool
{
    int Count { get; }

    /// <summary>The next usable credential in the shared rotation, skipping <paramref name="exclude"/>; null when none is usable.</summary>
    Task<CredentialLease?> NextAsync(IReadOnlySet<string>? exclude = null);

    Task ReportSuccessAsync(CredentialLease lease);

    /// <summary>Records a failure: disables, cools down or counts it, by failure class.</summary>
    Task ReportFailureAsync(CredentialLease lease, UpstreamException failure);

    Task<IReadOnlyList<CredentialStatus>> StatusesAsync();

    /// <summary>Brings a disabled or cooling credential back (the probe, or an admin).</summary>
    Task EnableAsync(string id, string reason);

    Task ResetCursorAsync(long index);
}

/// <summary>
/// Round robin over the source's credentials with a cursor shared by every replica, and health per credential:
/// 401/402/403 disable it until a probe or an admin brings it back; 429 cools it down for Retry-After (or a backoff);
/// repeated 5xx and network failures cool it down with exponential backoff and jitter.
/// </summary>
public sealed class CredentialPool(ICredentialSource source, ICredentialStateStore store, IOptionsMonitor<PoolOptions> options, TimeProvider time,
    IEnumerable<ICredentialOutcomeReporter> reporters) : ICredentialPool
{
    /// <summary>While Redis does not answer, this replica rotates on its own (health is then local too).</summary>
    private readonly InMemoryCredentialStateStore _fallback = new();

    private async Task<T> WithFallback<T>(Func<ICredentialStateStore, Task<T>> action)
    {
        try
        {
            return await action(store);
        }
        catch (StackExchange.Redis.RedisException)
        {
            return await action(_fallback);
        }
    }

    private async Task BestEffort(Func<ICredentialStateStore, Task> action)
    {
        try
        {
            await action(store);
        }
        catch (StackExchange.Redis.RedisException)
        {
            await action(_fallback);
        }
    }

    public int Count => source.Current.Count;

    public async Task<CredentialLease?> NextAsync(IReadOnlySet<string>? exclude = null)
    {
        var credentials = source.Current;
        if (credentials.Count == 0)
        {
            return null;
        }

        var (cursor, health) = await WithFallback(s => s.NextAsync());
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var start = (int)((ulong)cursor % (ulong)credentials.Count);
        for (var i = 0; i < credentials.Count; i++)
        {
            var credential = credentials[(start + i) % credentials.Count];
            if (exclude?.Contains(credential.Id) == true)
            {
                continue;
            }

            CredentialHealth? state = health.TryGetValue(credential.Id, out var h) ? h : null;
            if (state is null || state.Value.IsUsable(now))
            {
                return new CredentialLease(credential, state);
            }
        }

        return null;
    }

    public Task ReportSuccessAsync(CredentialLease lease)
    {
        foreach (var reporter in reporters)
        {
            reporter.Count(lease.Credential, success: true, failure: null);
        }

        return lease.Health is null ? Task.CompletedTask : BestEffort(s => s.ClearAsync(lease.Credential.Id));
    }

    public Task ReportFailureAsync(CredentialLease lease, UpstreamException failure)
    {
        var settings = options.CurrentValue;
        foreach (var reporter in reporters)
        {
            reporter.Count(lease.Credential, success: false, failure.Message);
        }

        var failures = (lease.Health?.Failures ?? 0) + 1;
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var reason = failure.Message;
        switch (failure.Kind)
        {
            case UpstreamFailureKind.CredentialRejected:
                foreach (var reporter in reporters)
                {
                    _ = reporter.ReportDisabledAsync(lease.Credential, reason); // persisted in the background; the pool does not wait
                }

                return BestEffort(s => s.SetAsync(lease.Credential.Id, new CredentialHealth(CredentialState.Disabled, 0, failures, reason)));
            case UpstreamFailureKind.RateLimited:
                var wait = failure.RetryAfter ?? Backoff(settings.RateLimitCooldown, failures, settings.MaxCooldown);
                return BestEffort(s => s.SetAsync(lease.Credential.Id, new CredentialHealth(CredentialState.Cooling, now + (long)wait.TotalMilliseconds, failures, reason)));
            case UpstreamFailureKind.ServerError or UpstreamFailureKind.Network or UpstreamFailureKind.BadResponse:
                // One transient failure is the upstream's, not the credential's; a run of them cools the credential.
                var cooling = failures >= settings.TransientFailuresBeforeCooldown;
                var until = cooling ? now + (long)Backoff(settings.TransientCooldown, failures, settings.MaxCooldown).TotalMilliseconds : 0;
                return BestEffort(s => s.SetAsync(lease.Credential.Id,
                    new CredentialHealth(cooling ? CredentialState.Cooling : CredentialState.Active, until, failures, reason)));
            default:
                return Task.CompletedTask;
        }
    }

    public async Task<IReadOnlyList<CredentialStatus>> StatusesAsync()
    {
        var health = await WithFallback(s => s.ReadAllAsync());
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        return [.. source.Current.Select(c =>
        {
            if (!health.TryGetValue(c.Id, out var h) || (h.State == CredentialState.Cooling && h.UntilUnixMs <= now))
            {
                return new CredentialStatus(c.Id, c.Masked, CredentialState.Active, null, health.TryGetValue(c.Id, out var old) ? old.Failures : 0, null);
            }

            return new CredentialStatus(c.Id, c.Masked, h.State,
                h.State == CredentialState.Cooling ? DateTimeOffset.FromUnixTimeMilliseconds(h.UntilUnixMs) : null, h.Failures, h.Reason);
        })];
    }

    public Task EnableAsync(string id, string reason) => BestEffort(s => s.ClearAsync(id));

    public Task ResetCursorAsync(long index) => BestEffort(s => s.ResetCursorAsync(index));

    /// <summary>Exponential backoff with full jitter in the upper half: base·2^(n−1), capped.</summary>
    public static TimeSpan Backoff(TimeSpan baseDelay, int attempt, TimeSpan max)
    {
        var exponential = baseDelay.TotalMilliseconds * Math.Pow(2, Math.Min(attempt - 1, 20));
        var capped = Math.Min(exponential, max.TotalMilliseconds);
        return TimeSpan.FromMilliseconds((capped / 2) + (Random.Shared.NextDouble() * capped / 2));
    }
}

/// <summary>Cooldown and probe settings of the credential pool.</summary>
public sealed class PoolOptions
{
    /// <summary>Cooldown after a 429 without Retry-After (doubles with each one in a row).</summary>
    public TimeSpan RateLimitCooldown { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Cooldown base after repeated 5xx/network failures (<c>UPSTREAM_RETRY_BACKOFF_MS</c>, doubled each time).</summary>
    public TimeSpan TransientCooldown { get; set; } = TimeSpan.FromMilliseconds(200);

    public int TransientFailuresBeforeCooldown { get; set; } = 2;

    public TimeSpan MaxCooldown { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How often disabled credentials are probed (<c>CREDENTIAL_PROBE_INTERVAL_SECONDS</c> [300]; 0 turns it off).</summary>
    public TimeSpan ProbeInterval { get; set; } = TimeSpan.FromMinutes(5);
}
