namespace Flowith2Api.FakeFlowith;

/// <summary>Settings of the fake Flowith server (configuration section <c>FakeFlowith</c>).</summary>
public sealed class FakeFlowithOptions
{
    /// <summary>The configuration section bound in process mode.</summary>
    public const string SectionName = "FakeFlowith";

    /// <summary>The models listed when <see cref="Models"/> is not set.</summary>
    public static IReadOnlyList<string> DefaultModels { get; } =
    [
        "gpt-4.1-mini", "gpt-4.1", "gpt-4o-mini", "gpt-4o", "o4-mini", "claude-4-sonnet",
        "claude-3.7-sonnet", "gemini-2.5-flash", "gemini-2.5-pro", "deepseek-chat", "deepseek-reasoner",
    ];

    /// <summary>
    /// Port on 127.0.0.1. In-process (<see cref="FakeFlowithServer.StartAsync"/>) 0 picks a free one;
    /// in process mode 0 means "use <c>--urls</c> / <c>ASPNETCORE_URLS</c>".
    /// </summary>
    public int Port { get; set; }

    /// <summary>Spec of the server-wide default scenario (e.g. <c>chunk=4;delay=10</c>); null is a normal answer.</summary>
    public string? DefaultScenario { get; set; }

    /// <summary>Models listed by <c>GET /external/use/knowledge-base/models</c>; null is <see cref="DefaultModels"/>.</summary>
    public IReadOnlyList<string>? Models { get; set; }

    /// <summary>Accepted bearer tokens; null accepts any non-empty token.</summary>
    public IReadOnlyList<string>? ValidTokens { get; set; }

    /// <summary>Requests kept by <see cref="FakeRequestLog"/>; 0 disables recording.</summary>
    public int RecordCapacity { get; set; } = 10_000;

    /// <summary>A server-wide per-token limit of requests per window (a scenario's <c>ratelimit</c> overrides it); null is off.</summary>
    public int? RateLimitPerMinute { get; set; }

    /// <summary>The rate-limit window in seconds (60 = "per minute"; tests may shorten it).</summary>
    public int RateLimitWindowSeconds { get; set; } = 60;

    /// <summary>Throws when a setting is out of range or the default scenario spec is invalid.</summary>
    public void Validate()
    {
        if (Port is < 0 or > 65535)
            throw new InvalidOperationException($"{SectionName}:Port must be between 0 and 65535.");
        if (RecordCapacity < 0)
            throw new InvalidOperationException($"{SectionName}:RecordCapacity must not be negative.");
        if (RateLimitPerMinute is < 1)
            throw new InvalidOperationException($"{SectionName}:RateLimitPerMinute must be at least 1.");
        if (RateLimitWindowSeconds < 1)
            throw new InvalidOperationException($"{SectionName}:RateLimitWindowSeconds must be at least 1.");
        if (!FakeScenario.TryParse(DefaultScenario, out _, out var error))
            throw new InvalidOperationException($"{SectionName}:DefaultScenario is invalid: {error}");
    }

    internal FakeScenario ParseDefaultScenario() =>
        string.IsNullOrWhiteSpace(DefaultScenario) ? FakeScenario.Default : FakeScenario.Parse(DefaultScenario);
}
