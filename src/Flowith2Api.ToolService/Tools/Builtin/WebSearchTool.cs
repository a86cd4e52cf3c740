using System.Text.Json;
using System.Text.Json.Serialization;
using Flowith2Api.ToolService.Outbound;
using Microsoft.Extensions.Options;

namespace Flowith2Api.ToolService.Tools.Builtin;

/// <summary><c>web_search</c>: a SearXNG-compatible JSON search backend (<c>SEARCH_URL</c>), results as title/url/snippet.</summary>
public sealed class WebSearchTool(IHttpClientFactory clients, OutboundGuard guard, IOptions<ToolOptions> options) : ITool, IToolAvailability
{
    private const string NoBackend = "web_search has no search backend: set SEARCH_URL to a SearXNG-compatible instance (its /search endpoint answers format=json).";

    public string? UnavailableReason => options.Value.SearchUrl is null ? NoBackend : null;

    private const int DefaultResults = 5;
    private const int MaxResults = 20;

    public string Name => "web_search";

    public string Description => "Search the web. Returns the top results with title, url and snippet.";

    public JsonElement InputSchema { get; } = ToolArgs.Schema("""
        {"type":"object","properties":{
          "query":{"type":"string","description":"What to search for"},
          "max_results":{"type":"integer","description":"How many results (1-20, default 5)"}},
         "required":["query"]}
        """);

    public ToolKind Kind => ToolKind.Builtin;

    public async Task<ToolResult> ExecuteAsync(JsonElement arguments, ToolContext context, CancellationToken cancellationToken)
    {
        var query = ToolArgs.Text(arguments, "query");
        if (string.IsNullOrWhiteSpace(query))
        {
            return ToolResult.Error("web_search needs a non-empty 'query'.");
        }

        if (options.Value.SearchUrl is not { } backend)
        {
            return ToolResult.Error(NoBackend);
        }

        var count = Math.Clamp(ToolArgs.Number(arguments, "max_results") ?? DefaultResults, 1, MaxResults);
        var path = backend.AbsolutePath.TrimEnd('/').EndsWith("/search", StringComparison.OrdinalIgnoreCase) ? "" : "/search";
        var url = new Uri($"{backend.GetLeftPart(UriPartial.Path).TrimEnd('/')}{path}?q={Uri.EscapeDataString(query)}&format=json");
        try
        {
            using var response = await clients.CreateClient(OutboundGuard.HttpClientName).GetAsync(url, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                return ToolResult.Error($"The search backend answered {(int)response.StatusCode}.");
            }

            var body = await guard.ReadCappedAsync(response.Content, cancellationToken);
            var parsed = JsonSerializer.Deserialize(body, BuiltinJsonContext.Default.SearxResponse);
            var results = (parsed?.Results ?? [])
                .Where(r => !string.IsNullOrEmpty(r.Url))
                .Take(count)
                .Select(r => new SearchResult(r.Title ?? r.Url!, r.Url!, r.Content ?? ""))
                .ToList();
            return ToolResult.Json(new SearchResults(query, results), BuiltinJsonContext.Default.SearchResults);
        }
        catch (Exception e) when (e is HttpRequestException or OutboundRefusedException or JsonException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return ToolResult.Error("The search failed: " + OutboundErrors.Describe(e));
        }
    }
}

public sealed record SearchResult(
    [property: JsonPropertyName("title")] string Title,
    [property: JsonPropertyName("url")] string Url,
    [property: JsonPropertyName("snippet")] string Snippet);

public sealed record SearchResults(
    [property: JsonPropertyName("query")] string Query,
    [property: JsonPropertyName("results")] IReadOnlyList<SearchResult> Results);

public sealed class SearxResponse
{
    [JsonPropertyName("results")] public List<SearxResult>? Results { get; set; }
}

public sealed class SearxResult
{
    [JsonPropertyName("title")] public string? Title { get; set; }
    [JsonPropertyName("url")] public string? Url { get; set; }
    [JsonPropertyName("content")] public string? Content { get; set; }
}
