using System.ComponentModel.DataAnnotations;

namespace Flowith2Api.ChatService.Conversation;

/// <summary>Retries, thinking and prompts (SPEC section 2), bound from the seed's variable names in one place.</summary>
public sealed class ChatOptions
{
    public const string DefaultThinkingPrompt =
        "Think step by step before you answer. Put your reasoning inside <think></think> tags first, then give the final answer after the closing tag.";

    [Range(0, 20)]
    public int RetryMax { get; set; } = 3;

    [Range(0, 60_000)]
    public int RetryBackoffMs { get; set; } = 200;

    public bool RetryOnEmpty { get; set; } = true;

    [Range(0, 10_000)]
    public int MinContentLength { get; set; } = 10;

    public bool NoRetryOnTimeout { get; set; } = true;

    public bool EnableThinkingInjection { get; set; } = true;

    public string ThinkingPrompt { get; set; } = DefaultThinkingPrompt;

    public bool EnableThinkingTags { get; set; } = true;

    public string? SystemPrompt { get; set; }

    public bool EnableSystemPromptOverride { get; set; }

    public string? DefaultModel { get; set; }

    /// <summary>The Anthropic Messages API (<c>ENABLE_CLAUDE_API</c>).</summary>
    public bool EnableClaudeApi { get; set; } = true;

    /// <summary>Longest silence on a committed stream before a keep-alive (<c>STREAM_KEEPALIVE_MS</c> [10000]).</summary>
    [Range(100, 600_000)]
    public int KeepAliveMs { get; set; } = 10_000;

    public static void Bind(ChatOptions options, IConfiguration configuration)
    {
        options.RetryMax = ReadInt(configuration, SeedSettings.UpstreamRetryMax, options.RetryMax);
        options.RetryBackoffMs = ReadInt(configuration, SeedSettings.UpstreamRetryBackoffMs, options.RetryBackoffMs);
        options.RetryOnEmpty = SeedSettings.ParseBool(configuration[SeedSettings.SseRetryOnEmpty], options.RetryOnEmpty);
        options.MinContentLength = ReadInt(configuration, SeedSettings.SseMinContentLength, options.MinContentLength);
        options.NoRetryOnTimeout = SeedSettings.ParseBool(configuration[SeedSettings.NoRetryOnTimeout], options.NoRetryOnTimeout);
        options.EnableThinkingInjection = SeedSettings.ParseBool(configuration[SeedSettings.EnableThinkingInjection], options.EnableThinkingInjection);
        options.ThinkingPrompt = NonEmpty(configuration[SeedSettings.ThinkingPrompt]) ?? options.ThinkingPrompt;
        options.EnableThinkingTags = SeedSettings.ParseBool(configuration[SeedSettings.EnableThinkingTags], options.EnableThinkingTags);
        options.SystemPrompt = NonEmpty(configuration[SeedSettings.SystemPrompt]) ?? options.SystemPrompt;
        options.EnableSystemPromptOverride = SeedSettings.ParseBool(configuration[SeedSettings.EnableSystemPromptOverride], options.EnableSystemPromptOverride);
        options.DefaultModel = NonEmpty(configuration[SeedSettings.DefaultModel]) ?? options.DefaultModel;
        options.EnableClaudeApi = SeedSettings.ParseBool(configuration[SeedSettings.EnableClaudeApi], options.EnableClaudeApi);
        options.KeepAliveMs = ReadInt(configuration, "STREAM_KEEPALIVE_MS", options.KeepAliveMs);
    }

    internal static int ReadInt(IConfiguration configuration, string key, int fallback) =>
        int.TryParse(configuration[key], out var value) ? value : fallback;

    private static string? NonEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;
}
