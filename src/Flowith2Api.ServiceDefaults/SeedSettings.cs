using Microsoft.Extensions.Logging;

namespace Flowith2Api.ServiceDefaults;

/// <summary>
/// The environment variable names of the original project (SPEC section 2), in one place. Every service reads
/// them through <see cref="Microsoft.Extensions.Configuration.IConfiguration"/>, so the same keys work as
/// environment variables, appsettings entries and Aspire parameters.
/// </summary>
public static class SeedSettings
{
    public const string Port = "PORT";
    public const string LogLevel = "LOG_LEVEL";
    public const string FlowithAuthTokens = "FLOWITH_AUTH_TOKENS";
    public const string ApiKeys = "API_KEYS";
    public const string AdminKey = "ADMIN_KEY";
    public const string FlowithBase = "FLOWITH_BASE";
    public const string FlowithRegion = "FLOWITH_REGION";
    public const string ProxyUrl = "PROXY_URL";
    public const string StorageType = "STORAGE_TYPE";
    public const string SqlitePath = "SQLITE_PATH";
    public const string DataPath = "DATA_PATH";
    public const string RedisUrl = "REDIS_URL";
    public const string UpstreamTimeoutMs = "UPSTREAM_TIMEOUT_MS";
    public const string UpstreamBodyTimeoutMs = "UPSTREAM_BODY_TIMEOUT_MS";
    public const string StreamIdleTimeoutMs = "STREAM_IDLE_TIMEOUT_MS";
    public const string StreamTotalTimeoutMs = "STREAM_TOTAL_TIMEOUT_MS";
    public const string UpstreamRetryMax = "UPSTREAM_RETRY_MAX";
    public const string UpstreamRetryBackoffMs = "UPSTREAM_RETRY_BACKOFF_MS";
    public const string SseRetryOnEmpty = "SSE_RETRY_ON_EMPTY";
    public const string SseMinContentLength = "SSE_MIN_CONTENT_LENGTH";
    public const string NoRetryOnTimeout = "NO_RETRY_ON_TIMEOUT";
    public const string EnableLongContext = "ENABLE_LONG_CONTEXT";
    public const string MaxContextMessages = "MAX_CONTEXT_MESSAGES";
    public const string ContextTtlSeconds = "CONTEXT_TTL_SECONDS";
    public const string EnableThinkingInjection = "ENABLE_THINKING_INJECTION";
    public const string ThinkingPrompt = "THINKING_PROMPT";
    public const string EnableMcp = "ENABLE_MCP";
    public const string McpTools = "MCP_TOOLS";
    public const string EnableCliMode = "ENABLE_CLI_MODE";
    public const string EnableClaudeApi = "ENABLE_CLAUDE_API";
    public const string EnableThinkingTags = "ENABLE_THINKING_TAGS";
    public const string EnableStreamOptimization = "ENABLE_STREAM_OPTIMIZATION";
    public const string ServerOnly = "SERVER_ONLY";
    public const string SystemPrompt = "SYSTEM_PROMPT";
    public const string EnableSystemPromptOverride = "ENABLE_SYSTEM_PROMPT_OVERRIDE";
    public const string McpPrompt = "MCP_PROMPT";
    public const string CliPrompt = "CLI_PROMPT";
    public const string ModelAliases = "MODEL_ALIASES";
    public const string DefaultModel = "DEFAULT_MODEL";
    public const string Rsync = "RSYNC";

    /// <summary>The shared secret every internal hop carries (an Aspire secret parameter).</summary>
    public const string InternalSecret = "INTERNAL_SECRET";

    /// <summary>Every name above that the AppHost passes through from its own environment to the services.</summary>
    public static readonly IReadOnlyList<string> PassThrough =
    [
        LogLevel, FlowithBase, FlowithRegion, ProxyUrl, StorageType, SqlitePath, DataPath,
        UpstreamTimeoutMs, UpstreamBodyTimeoutMs, StreamIdleTimeoutMs, StreamTotalTimeoutMs,
        UpstreamRetryMax, UpstreamRetryBackoffMs, SseRetryOnEmpty, SseMinContentLength, NoRetryOnTimeout,
        EnableLongContext, MaxContextMessages, ContextTtlSeconds, EnableThinkingInjection, ThinkingPrompt,
        EnableMcp, McpTools, EnableCliMode, EnableClaudeApi, EnableThinkingTags, EnableStreamOptimization,
        ServerOnly, SystemPrompt, EnableSystemPromptOverride, McpPrompt, CliPrompt, ModelAliases, DefaultModel, Rsync,

        // Settings this project added (README, configuration tables).
        "MODELS", "MAX_TOOL_ROUNDS", "STREAM_KEEPALIVE_MS", "CREDENTIAL_PROBE_INTERVAL_SECONDS", "RATE_LIMIT_COOLDOWN_MS",
        "REDIS_KEY_PREFIX", "SEARCH_URL", "IMAGE_API_BASE", "IMAGE_MODEL", "OUTBOUND_ALLOWED_HOSTS", "OUTBOUND_MAX_BYTES",
        "TOOL_TIMEOUT_MS", "TOOL_MAX_OUTPUT_BYTES", "TOOL_MAX_READ_BYTES", "TOOL_MAX_WRITE_BYTES",
    ];

    /// <summary>Secrets of the tools (passed as secret parameters to the ToolService only).</summary>
    public static readonly IReadOnlyList<string> ToolSecrets = ["IMAGE_API_KEY", "MCP_SERVERS"];

    /// <summary>The secret names: passed as Aspire secret parameters, never as plain environment values.</summary>
    public static readonly IReadOnlyList<string> Secrets = [FlowithAuthTokens, ApiKeys, AdminKey];

    public static LogLevel? ParseLogLevel(string? value) => value?.Trim().ToUpperInvariant() switch
    {
        "TRACE" => Microsoft.Extensions.Logging.LogLevel.Trace,
        "DEBUG" => Microsoft.Extensions.Logging.LogLevel.Debug,
        "INFO" or "INFORMATION" => Microsoft.Extensions.Logging.LogLevel.Information,
        "WARN" or "WARNING" => Microsoft.Extensions.Logging.LogLevel.Warning,
        "ERROR" => Microsoft.Extensions.Logging.LogLevel.Error,
        _ => null,
    };

    /// <summary>The admin key: <c>ADMIN_KEY</c>, else the first of <c>API_KEYS</c>, else none.</summary>
    public static string? AdminKeyOf(Microsoft.Extensions.Configuration.IConfiguration configuration) =>
        configuration[AdminKey]?.Trim() is { Length: > 0 } admin ? admin : SplitList(configuration[ApiKeys]) is [var first, ..] ? first : null;

    /// <summary>Splits a comma-separated list (FLOWITH_AUTH_TOKENS, API_KEYS), trimming blanks and duplicates, keeping order.</summary>
    public static IReadOnlyList<string> SplitList(string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return [];
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        var result = new List<string>();
        foreach (var part in value.Split([',', '\n', '\r'], StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (seen.Add(part))
            {
                result.Add(part);
            }
        }

        return result;
    }

    /// <summary>Reads a boolean the way the original project did: true/false, 1/0, yes/no, on/off.</summary>
    public static bool ParseBool(string? value, bool fallback) => value?.Trim().ToUpperInvariant() switch
    {
        "TRUE" or "1" or "YES" or "ON" => true,
        "FALSE" or "0" or "NO" or "OFF" => false,
        _ => fallback,
    };

    /// <summary>Masks a secret for logs and admin lists: the first three and last four characters survive.</summary>
    public static string Mask(string? secret)
    {
        if (string.IsNullOrEmpty(secret))
        {
            return "";
        }

        return secret.Length <= 10 ? "…" + secret[^Math.Min(2, secret.Length)..] : string.Concat(secret.AsSpan(0, 3), "…", secret.AsSpan(secret.Length - 4));
    }
}
