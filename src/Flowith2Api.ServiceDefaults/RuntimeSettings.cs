using System.Globalization;

namespace Flowith2Api.ServiceDefaults;

public enum RuntimeSettingType
{
    Boolean,
    WholeNumber,
    Text,
    LogLevel,
}

/// <summary>One setting an admin may change at run time: its API key (camelCase), its environment name, type and limits.</summary>
public sealed record RuntimeSetting(string Key, string EnvironmentName, RuntimeSettingType Type, string Default, string Description, long Min = 0, long Max = int.MaxValue)
{
    /// <summary>Checks a JSON-ish value (already turned into text) against the type; returns the normalised text or an error.</summary>
    public (string? Value, string? Error) Normalize(object? value) => Type switch
    {
        RuntimeSettingType.Boolean => value is bool b ? (b ? "true" : "false", null) : (null, $"'{Key}' must be true or false."),
        RuntimeSettingType.WholeNumber => value is long l && l >= Min && l <= Max
            ? (l.ToString(CultureInfo.InvariantCulture), null)
            : (null, $"'{Key}' must be an integer from {Min} to {Max}."),
        RuntimeSettingType.LogLevel => value is string s && SeedSettings.ParseLogLevel(s) is not null
            ? (s.Trim().ToLowerInvariant(), null)
            : (null, $"'{Key}' must be one of debug, info, warn, error."),
        _ => value is string text && text.Length <= 20_000 ? (text, null) : (null, $"'{Key}' must be a string (at most 20000 characters)."),
    };
}

/// <summary>
/// The settings <c>PATCH /v1/admin/config</c> may change (SPEC section 2, camelCase keys as in the original project).
/// Overrides persist in the AdminService and win over the environment on every replica.
/// </summary>
public static class RuntimeSettings
{
    public static readonly IReadOnlyList<RuntimeSetting> All =
    [
        new("logLevel", SeedSettings.LogLevel, RuntimeSettingType.LogLevel, "info", "Log level: debug, info, warn or error."),
        new("retryMax", SeedSettings.UpstreamRetryMax, RuntimeSettingType.WholeNumber, "3", "Retries of a failed upstream call before the first byte.", 0, 20),
        new("retryBackoffMs", SeedSettings.UpstreamRetryBackoffMs, RuntimeSettingType.WholeNumber, "200", "Base backoff between retries (ms), exponential with jitter.", 0, 60_000),
        new("sseRetryOnEmpty", SeedSettings.SseRetryOnEmpty, RuntimeSettingType.Boolean, "true", "Retry an upstream answer without content."),
        new("sseMinContentLength", SeedSettings.SseMinContentLength, RuntimeSettingType.WholeNumber, "10", "Characters buffered before a stream is committed.", 0, 10_000),
        new("noRetryOnTimeout", SeedSettings.NoRetryOnTimeout, RuntimeSettingType.Boolean, "true", "Do not retry after one of our own timeouts."),
        new("upstreamTimeoutMs", SeedSettings.UpstreamTimeoutMs, RuntimeSettingType.WholeNumber, "25000", "Time until the upstream's response headers (ms).", 100, 3_600_000),
        new("upstreamBodyTimeoutMs", SeedSettings.UpstreamBodyTimeoutMs, RuntimeSettingType.WholeNumber, "30000", "Time for a whole non-streaming body (ms).", 100, 3_600_000),
        new("streamIdleTimeoutMs", SeedSettings.StreamIdleTimeoutMs, RuntimeSettingType.WholeNumber, "15000", "Longest gap between two stream events (ms).", 100, 3_600_000),
        new("streamTotalTimeoutMs", SeedSettings.StreamTotalTimeoutMs, RuntimeSettingType.WholeNumber, "180000", "Longest whole stream (ms).", 100, 86_400_000),
        new("enableLongContext", SeedSettings.EnableLongContext, RuntimeSettingType.Boolean, "true", "Server-side sessions."),
        new("maxContextMessages", SeedSettings.MaxContextMessages, RuntimeSettingType.WholeNumber, "20", "Messages kept per session.", 1, 1000),
        new("contextTtlSeconds", SeedSettings.ContextTtlSeconds, RuntimeSettingType.WholeNumber, "3600", "Idle expiry of a session, and how long a stored response is kept (s).", 1, 30_000_000),
        new("enableThinkingInjection", SeedSettings.EnableThinkingInjection, RuntimeSettingType.Boolean, "true", "Add the thinking prompt when a client asks for reasoning."),
        new("thinkingPrompt", SeedSettings.ThinkingPrompt, RuntimeSettingType.Text, "", "The thinking prompt (empty: the built-in one)."),
        new("enableThinkingTags", SeedSettings.EnableThinkingTags, RuntimeSettingType.Boolean, "true", "<think> becomes reasoning content."),
        new("enableMCP", SeedSettings.EnableMcp, RuntimeSettingType.Boolean, "true", "Let the server tools run (for the model, the admin API and MCP clients)."),
        new("mcpTools", SeedSettings.McpTools, RuntimeSettingType.Text, "", "Allow-list of tools, comma-separated (empty: all). When it names tools they are described to the model in every request; empty, only a request that asks for one (a hosted tool) or CLI mode gets them."),
        new("enableCLIMode", SeedSettings.EnableCliMode, RuntimeSettingType.Boolean, "false", "File and command tools."),
        new("enableClaudeAPI", SeedSettings.EnableClaudeApi, RuntimeSettingType.Boolean, "true", "The Anthropic Messages API."),
        new("systemPrompt", SeedSettings.SystemPrompt, RuntimeSettingType.Text, "", "Prepended to the client's system prompt."),
        new("enableSystemPromptOverride", SeedSettings.EnableSystemPromptOverride, RuntimeSettingType.Boolean, "false", "The system prompt replaces the client's."),
        new("mcpPrompt", SeedSettings.McpPrompt, RuntimeSettingType.Text, "", "Describes the server tools to the model."),
        new("cliPrompt", SeedSettings.CliPrompt, RuntimeSettingType.Text, "", "Describes CLI mode to the model."),
        new("defaultModel", SeedSettings.DefaultModel, RuntimeSettingType.Text, "", "Model used when a request names none."),
        new("modelAliases", SeedSettings.ModelAliases, RuntimeSettingType.Text, "", "pattern=model aliases, comma-separated."),
    ];

    public static RuntimeSetting? Find(string key) => All.FirstOrDefault(s => string.Equals(s.Key, key, StringComparison.OrdinalIgnoreCase));
}
