using System.Text;
using System.Text.Json.Serialization;
using Flowith2Api.Contracts;
using Microsoft.Extensions.Options;

namespace Flowith2Api.ChatService.ServerTools;

/// <summary>The server tools and the tool loop's limits (SPEC section 4).</summary>
public sealed class ServerToolOptions
{
    public bool Enabled { get; set; } = true;

    public int MaxRounds { get; set; } = 5;

    public string? McpPrompt { get; set; }

    public string? CliPrompt { get; set; }

    public bool CliMode { get; set; }

    /// <summary>
    /// The <c>MCP_TOOLS</c> allow-list. When it names tools (or in CLI mode) the enabled server tools are described to
    /// the model in every request; otherwise only those a request asks for (costly prompt text is never added unasked).
    /// </summary>
    public IReadOnlyList<string> AllowedTools { get; set; } = [];

    /// <summary>Where the ToolService is (service discovery name by default).</summary>
    public Uri ToolServiceUri { get; set; } = new("http://tool-service");

    public TimeSpan ToolTimeout { get; set; } = TimeSpan.FromMinutes(2);

    public TimeSpan ListCacheDuration { get; set; } = TimeSpan.FromSeconds(30);

    public static void Bind(ServerToolOptions options, IConfiguration configuration)
    {
        options.Enabled = SeedSettings.ParseBool(configuration[SeedSettings.EnableMcp], options.Enabled);
        options.CliMode = SeedSettings.ParseBool(configuration[SeedSettings.EnableCliMode], options.CliMode);
        options.AllowedTools = SeedSettings.SplitList(configuration[SeedSettings.McpTools]);
        options.MaxRounds = Math.Clamp(ChatOptions.ReadInt(configuration, "MAX_TOOL_ROUNDS", options.MaxRounds), 1, 20);
        options.McpPrompt = configuration[SeedSettings.McpPrompt] is { Length: > 0 } mcp ? mcp : null;
        options.CliPrompt = configuration[SeedSettings.CliPrompt] is { Length: > 0 } cli ? cli : null;
        if (Uri.TryCreate(configuration["TOOL_SERVICE_URL"], UriKind.Absolute, out var uri))
        {
            options.ToolServiceUri = uri;
        }
    }
}

/// <summary>The ChatService's side of the ToolService's internal door: which tools exist, and running one.</summary>
public sealed partial class ToolServiceClient(HttpClient http, InternalSecret secret, IOptionsMonitor<ServerToolOptions> options, TimeProvider time,
    ILogger<ToolServiceClient> logger)
{
    private IReadOnlyList<ToolDefinition> _tools = [];
    private DateTimeOffset _expires = DateTimeOffset.MinValue;

    /// <summary>The ToolService's enabled, usable tools (cached briefly); none when tools are off or it cannot be reached.</summary>
    public async Task<IReadOnlyList<ToolDefinition>> ToolsAsync(CancellationToken cancellationToken)
    {
        var settings = options.CurrentValue;
        if (!settings.Enabled)
        {
            return [];
        }

        if (time.GetUtcNow() < _expires)
        {
            return _tools;
        }

        try
        {
            using var request = Request(HttpMethod.Get, "/internal/tools", keyId: null);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(5));
            using var response = await http.SendAsync(request, timeout.Token);
            response.EnsureSuccessStatusCode();
            var list = await response.Content.ReadFromJsonAsync(ServerToolsJsonContext.Default.ToolList, timeout.Token);
            _tools = [.. (list?.Tools ?? []).Select(t => new ToolDefinition(t.Name, t.Description, t.InputSchema))];
        }
        catch (Exception e) when (e is HttpRequestException or JsonException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            LogUnreachable(logger, e.GetType().Name);
            _tools = [];
        }

        _expires = time.GetUtcNow() + settings.ListCacheDuration;
        return _tools;
    }

    /// <summary>Runs a server tool for the caller's key; failures come back as an error result the model can read.</summary>
    public async Task<(bool IsError, string Text)> ExecuteAsync(string name, string argumentsJson, string keyId, CancellationToken cancellationToken)
    {
        try
        {
            using var request = Request(HttpMethod.Post, "/internal/tools/execute", keyId);
            request.Content = new StringContent($"{{\"tool\":{JsonSerializer.Serialize(name, ServerToolsJsonContext.Default.String)},\"arguments\":{argumentsJson}}}",
                Encoding.UTF8, "application/json");
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(options.CurrentValue.ToolTimeout);
            using var response = await http.SendAsync(request, timeout.Token);
            if (!response.IsSuccessStatusCode)
            {
                return (true, $"The tool '{name}' could not run (the tool service answered {(int)response.StatusCode}).");
            }

            var result = await response.Content.ReadFromJsonAsync(ServerToolsJsonContext.Default.ToolRun, timeout.Token);
            return (result?.IsError ?? true, result?.Result ?? "The tool returned nothing.");
        }
        catch (Exception e) when (e is HttpRequestException or JsonException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            LogUnreachable(logger, e.GetType().Name);
            return (true, $"The tool '{name}' could not run: the tool service did not answer.");
        }
    }

    private HttpRequestMessage Request(HttpMethod method, string path, string? keyId)
    {
        var request = new HttpRequestMessage(method, new Uri(options.CurrentValue.ToolServiceUri, path));
        if (secret.Value is { } value)
        {
            request.Headers.TryAddWithoutValidation(InternalHeaders.Secret, value);
        }

        if (keyId is not null)
        {
            request.Headers.TryAddWithoutValidation(InternalHeaders.KeyId, keyId);
        }

        return request;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The tool service could not be reached ({ExceptionType}); no server tools this time")]
    private static partial void LogUnreachable(ILogger logger, string exceptionType);
}

public sealed class ToolList
{
    [JsonPropertyName("tools")] public List<ToolEntry>? Tools { get; set; }
}

public sealed class ToolEntry
{
    [JsonPropertyName("name")] public string Name { get; set; } = "";
    [JsonPropertyName("description")] public string? Description { get; set; }
    [JsonPropertyName("input_schema")] public JsonElement? InputSchema { get; set; }
}

public sealed class ToolRun
{
    [JsonPropertyName("is_error")] public bool IsError { get; set; }
    [JsonPropertyName("result")] public string? Result { get; set; }
}

[JsonSerializable(typeof(ToolList))]
[JsonSerializable(typeof(ToolRun))]
[JsonSerializable(typeof(string))]
internal sealed partial class ServerToolsJsonContext : JsonSerializerContext;
