using System.Text.Json.Serialization;

namespace Flowith2Api.ChatService.Dialects.OpenAI;

/// <summary>The body of <c>POST /v1/chat/completions</c> (every field SPEC section 3 lists).</summary>
public sealed class OpenAIChatRequest
{
    [JsonPropertyName("model")] public string? Model { get; set; }
    [JsonPropertyName("messages")] public List<OpenAIChatMessage?>? Messages { get; set; }
    [JsonPropertyName("stream")] public bool? Stream { get; set; }
    [JsonPropertyName("stream_options")] public OpenAIStreamOptions? StreamOptions { get; set; }
    [JsonPropertyName("temperature")] public double? Temperature { get; set; }
    [JsonPropertyName("top_p")] public double? TopP { get; set; }
    [JsonPropertyName("max_tokens")] public int? MaxTokens { get; set; }
    [JsonPropertyName("max_completion_tokens")] public int? MaxCompletionTokens { get; set; }
    [JsonPropertyName("n")] public int? N { get; set; }
    [JsonPropertyName("stop")] public JsonElement? Stop { get; set; }
    [JsonPropertyName("tools")] public JsonElement? Tools { get; set; }
    [JsonPropertyName("tool_choice")] public JsonElement? ToolChoice { get; set; }

    /// <summary>Chat Completions' web search (for search models): asks for the server's web_search tool.</summary>
    [JsonPropertyName("web_search_options")] public JsonElement? WebSearchOptions { get; set; }
    [JsonPropertyName("parallel_tool_calls")] public bool? ParallelToolCalls { get; set; }
    [JsonPropertyName("response_format")] public JsonElement? ResponseFormat { get; set; }
    [JsonPropertyName("reasoning_effort")] public string? ReasoningEffort { get; set; }
    [JsonPropertyName("user")] public string? User { get; set; }
    [JsonPropertyName("session_id")] public string? SessionId { get; set; }
    [JsonPropertyName("auto_session")] public bool? AutoSession { get; set; }
}

public sealed class OpenAIStreamOptions
{
    [JsonPropertyName("include_usage")] public bool? IncludeUsage { get; set; }
}

public sealed class OpenAIChatMessage
{
    [JsonPropertyName("role")] public string? Role { get; set; }

    /// <summary>A string, an array of content parts, or null (assistant messages with tool calls).</summary>
    [JsonPropertyName("content")] public JsonElement? Content { get; set; }

    [JsonPropertyName("name")] public string? Name { get; set; }
    [JsonPropertyName("tool_calls")] public JsonElement? ToolCalls { get; set; }
    [JsonPropertyName("tool_call_id")] public string? ToolCallId { get; set; }
}

[JsonSourceGenerationOptions(
    PropertyNameCaseInsensitive = false,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    AllowTrailingCommas = false,
    MaxDepth = 64)]
[JsonSerializable(typeof(OpenAIChatRequest))]
public sealed partial class OpenAIJsonContext : JsonSerializerContext;
