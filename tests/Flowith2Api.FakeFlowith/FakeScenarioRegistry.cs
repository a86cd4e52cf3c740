using System.Collections.Concurrent;

namespace Flowith2Api.FakeFlowith;

/// <summary>
/// Scripted scenarios of a running fake server. Precedence, highest first: the
/// <c>x-fake-scenario</c> header, <see cref="ForRequestId"/>, <see cref="Enqueue"/>,
/// <see cref="SetForToken"/>, a <c>fake:&lt;spec&gt;</c> token, a <c>[[fake:&lt;spec&gt;]]</c>
/// directive in the last user message, then <see cref="Default"/>.
/// </summary>
public sealed class FakeScenarioRegistry
{
    /// <summary>The prefix of a token that carries its own scenario spec (<c>fake:status=401</c>).</summary>
    public const string InlineTokenPrefix = "fake:";

    private readonly ConcurrentDictionary<string, FakeScenario> _byRequestId = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ConcurrentQueue<FakeScenario>> _queues = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, FakeScenario> _sticky = new(StringComparer.Ordinal);
    private readonly FakeScenario _initialDefault;

    /// <summary>Creates a registry whose <see cref="Default"/> is <paramref name="defaultScenario"/>.</summary>
    public FakeScenarioRegistry(FakeScenario? defaultScenario = null, int rateLimitWindowSeconds = 60)
    {
        _initialDefault = defaultScenario ?? FakeScenario.Default;
        Default = _initialDefault;
        RateLimiter = new FakeRateLimiter(TimeSpan.FromSeconds(rateLimitWindowSeconds));
    }

    /// <summary>The server-wide default scenario (lowest precedence). <see cref="Reset"/> restores the configured one.</summary>
    public FakeScenario Default
    {
        get => Volatile.Read(ref field);
        set => Volatile.Write(ref field, value ?? throw new ArgumentNullException(nameof(value)));
    }

    internal FakeRateLimiter RateLimiter { get; }

    /// <summary>Uses <paramref name="scenario"/> for every request with this <c>X-Request-ID</c>; null removes it.</summary>
    public void ForRequestId(string requestId, FakeScenario? scenario)
    {
        ArgumentException.ThrowIfNullOrEmpty(requestId);
        if (scenario is null)
            _byRequestId.TryRemove(requestId, out _);
        else
            _byRequestId[requestId] = scenario;
    }

    /// <summary>Queues one-shot scenarios: each next request with <paramref name="token"/> takes and removes the head.</summary>
    public void Enqueue(string token, params FakeScenario[] scenarios)
    {
        ArgumentException.ThrowIfNullOrEmpty(token);
        ArgumentNullException.ThrowIfNull(scenarios);
        var queue = _queues.GetOrAdd(token, static _ => new ConcurrentQueue<FakeScenario>());
        foreach (var scenario in scenarios)
            queue.Enqueue(scenario ?? throw new ArgumentException("A queued scenario is null.", nameof(scenarios)));
    }

    /// <summary>How many one-shot scenarios are still queued for <paramref name="token"/>.</summary>
    public int QueuedCount(string token) => _queues.TryGetValue(token, out var queue) ? queue.Count : 0;

    /// <summary>Uses <paramref name="scenario"/> for every request with <paramref name="token"/>; null removes it.</summary>
    public void SetForToken(string token, FakeScenario? scenario)
    {
        ArgumentException.ThrowIfNullOrEmpty(token);
        if (scenario is null)
            _sticky.TryRemove(token, out _);
        else
            _sticky[token] = scenario;
    }

    /// <summary>Removes the sticky scenario, the queue and the rate-limit window of <paramref name="token"/>.</summary>
    public void ClearToken(string token)
    {
        ArgumentException.ThrowIfNullOrEmpty(token);
        _sticky.TryRemove(token, out _);
        _queues.TryRemove(token, out _);
        RateLimiter.Reset(token);
    }

    /// <summary>Forgets every registered scenario and rate-limit window and restores the configured default.</summary>
    public void Reset()
    {
        _byRequestId.Clear();
        _queues.Clear();
        _sticky.Clear();
        RateLimiter.ResetAll();
        Default = _initialDefault;
    }

    /// <summary>
    /// The scenario from levels 2–5 (request id, queue, sticky, inline token), or null.
    /// </summary>
    /// <exception cref="FormatException">An inline token spec is invalid.</exception>
    internal FakeScenario? ResolveExplicit(string token, string? requestId, bool allowQueue, out FakeScenarioSource source)
    {
        if (requestId is not null && _byRequestId.TryGetValue(requestId, out var scenario))
        {
            source = FakeScenarioSource.RequestId;
            return scenario;
        }

        if (allowQueue && _queues.TryGetValue(token, out var queue) && queue.TryDequeue(out scenario))
        {
            source = FakeScenarioSource.Queue;
            return scenario;
        }

        if (_sticky.TryGetValue(token, out scenario))
        {
            source = FakeScenarioSource.Token;
            return scenario;
        }

        if (token.StartsWith(InlineTokenPrefix, StringComparison.Ordinal))
        {
            source = FakeScenarioSource.InlineToken;
            return FakeScenario.Parse(token[InlineTokenPrefix.Length..]);
        }

        source = FakeScenarioSource.None;
        return null;
    }
}
