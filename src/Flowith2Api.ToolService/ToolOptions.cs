using Flowith2Api.ServiceDefaults;

namespace Flowith2Api.ToolService;

/// <summary>Tool switches, the workspace, sandbox limits and backends (SPEC section 2 and 4), bound in one place.</summary>
public sealed class ToolOptions
{
    public bool EnableMcp { get; set; } = true;

    /// <summary>Allow-list of tool names (<c>MCP_TOOLS</c>); empty allows every enabled tool.</summary>
    public IReadOnlyList<string> AllowedTools { get; set; } = [];

    public bool EnableCliMode { get; set; }

    /// <summary>Root of the per-key workspaces (<c>CLI_WORKSPACE</c> [./data/workspace]).</summary>
    public string WorkspaceRoot { get; set; } = Path.GetFullPath(Path.Combine("data", "workspace"));

    /// <summary>Wall time of one command (<c>TOOL_TIMEOUT_MS</c> [30000]).</summary>
    public TimeSpan CommandTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Cap on each of stdout and stderr (<c>TOOL_MAX_OUTPUT_BYTES</c> [65536]).</summary>
    public int MaxOutputBytes { get; set; } = 64 * 1024;

    /// <summary>Largest file a tool reads (<c>TOOL_MAX_READ_BYTES</c> [1 MiB]).</summary>
    public long MaxReadBytes { get; set; } = 1024 * 1024;

    /// <summary>Largest file a tool writes (<c>TOOL_MAX_WRITE_BYTES</c> [10 MiB]).</summary>
    public long MaxWriteBytes { get; set; } = 10 * 1024 * 1024;

    /// <summary>SearXNG-compatible search backend (<c>SEARCH_URL</c>).</summary>
    public Uri? SearchUrl { get; set; }

    /// <summary>OpenAI-compatible images API (<c>IMAGE_API_BASE</c>, <c>IMAGE_API_KEY</c>, <c>IMAGE_MODEL</c>).</summary>
    public Uri? ImageApiBase { get; set; }

    public string? ImageApiKey { get; set; }

    public string ImageModel { get; set; } = "dall-e-3";

    /// <summary>
    /// <c>host:port</c> entries outbound fetches may reach although they are private or loopback addresses
    /// (<c>OUTBOUND_ALLOWED_HOSTS</c>); everything else private, loopback, link-local or metadata is refused.
    /// </summary>
    public IReadOnlyList<string> OutboundAllowedHosts { get; set; } = [];

    /// <summary>Largest outbound response read (<c>OUTBOUND_MAX_BYTES</c> [5 MiB]).</summary>
    public long OutboundMaxBytes { get; set; } = 5 * 1024 * 1024;

    /// <summary>
    /// External MCP servers (<c>MCP_SERVERS</c>): <c>name=url</c> pairs, comma-separated, or a JSON object
    /// <c>{"name":{"url":"…","headers":{"Authorization":"Bearer …"}}}</c>.
    /// </summary>
    public IReadOnlyList<McpServerConfig> McpServers { get; set; } = [];

    public static void Bind(ToolOptions options, IConfiguration configuration)
    {
        options.EnableMcp = SeedSettings.ParseBool(configuration[SeedSettings.EnableMcp], options.EnableMcp);
        options.AllowedTools = SeedSettings.SplitList(configuration[SeedSettings.McpTools]);
        options.EnableCliMode = SeedSettings.ParseBool(configuration[SeedSettings.EnableCliMode], options.EnableCliMode);
        if (configuration["CLI_WORKSPACE"] is { Length: > 0 } workspace)
        {
            options.WorkspaceRoot = Path.GetFullPath(workspace);
        }

        options.CommandTimeout = TimeSpan.FromMilliseconds(ReadLong(configuration, "TOOL_TIMEOUT_MS", (long)options.CommandTimeout.TotalMilliseconds));
        options.MaxOutputBytes = (int)ReadLong(configuration, "TOOL_MAX_OUTPUT_BYTES", options.MaxOutputBytes);
        options.MaxReadBytes = ReadLong(configuration, "TOOL_MAX_READ_BYTES", options.MaxReadBytes);
        options.MaxWriteBytes = ReadLong(configuration, "TOOL_MAX_WRITE_BYTES", options.MaxWriteBytes);
        options.SearchUrl = ReadUri(configuration["SEARCH_URL"]);
        options.ImageApiBase = ReadUri(configuration["IMAGE_API_BASE"]);
        options.ImageApiKey = configuration["IMAGE_API_KEY"] is { Length: > 0 } key ? key : null;
        options.ImageModel = configuration["IMAGE_MODEL"] is { Length: > 0 } model ? model : options.ImageModel;
        options.OutboundAllowedHosts = SeedSettings.SplitList(configuration["OUTBOUND_ALLOWED_HOSTS"]);
        options.OutboundMaxBytes = ReadLong(configuration, "OUTBOUND_MAX_BYTES", options.OutboundMaxBytes);
        options.McpServers = McpServerConfig.Parse(configuration["MCP_SERVERS"]);
    }

    private static long ReadLong(IConfiguration configuration, string key, long fallback) =>
        long.TryParse(configuration[key], out var value) && value > 0 ? value : fallback;

    internal static Uri? ReadUri(string? value) =>
        Uri.TryCreate(value?.Trim(), UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps) ? uri : null;
}

/// <summary>One external MCP server: a name (the prefix of its tools), a Streamable HTTP URL and optional headers.</summary>
public sealed record McpServerConfig(string Name, Uri Url, IReadOnlyDictionary<string, string> Headers)
{
    public static IReadOnlyList<McpServerConfig> Parse(string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return [];
        }

        value = value.Trim();
        if (value.StartsWith('{'))
        {
            using var document = System.Text.Json.JsonDocument.Parse(value);
            var servers = new List<McpServerConfig>();
            foreach (var server in document.RootElement.EnumerateObject())
            {
                var url = server.Value.ValueKind == System.Text.Json.JsonValueKind.String ? server.Value.GetString()
                    : server.Value.TryGetProperty("url", out var u) ? u.GetString() : null;
                if (ToolOptions.ReadUri(url) is not { } uri || !IsValidName(server.Name))
                {
                    throw new InvalidOperationException($"MCP_SERVERS entry '{server.Name}' needs a valid name (letters, digits, '-', '_') and an http(s) url.");
                }

                var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
                if (server.Value.ValueKind == System.Text.Json.JsonValueKind.Object && server.Value.TryGetProperty("headers", out var h))
                {
                    foreach (var header in h.EnumerateObject())
                    {
                        headers[header.Name] = header.Value.GetString() ?? "";
                    }
                }

                servers.Add(new McpServerConfig(server.Name, uri, headers));
            }

            return servers;
        }

        return [.. SeedSettings.SplitList(value).Select(pair =>
        {
            var parts = pair.Split('=', 2);
            return parts.Length == 2 && IsValidName(parts[0].Trim()) && ToolOptions.ReadUri(parts[1]) is { } uri
                ? new McpServerConfig(parts[0].Trim(), uri, new Dictionary<string, string>())
                : throw new InvalidOperationException($"MCP_SERVERS entry '{pair}' needs the form name=http(s)://host/path.");
        })];
    }

    private static bool IsValidName(string name) => name.Length is > 0 and <= 32 && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_');
}
