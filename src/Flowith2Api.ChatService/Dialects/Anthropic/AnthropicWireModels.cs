using System.Text.Json.Serialization;

namespace Flowith2Api.ChatService.Dialects.Anthropic;

/// <summary>The body of <c>POST /v1/messages</c> and <c>/v1/messages/count_tokens</c>.</summary>
public sealed class AnthropicMessagesRequest
{
    [JsonPropertyName("model")] public string? Model { get; set; }
    [JsonPropertyName("max_tokens")] public int? MaxTokens { get; set; }
    [JsonPropertyName("messages")] public List<AnthropicMessage?>? Messages { get; set; }

    /// <summary>A string, or an array of text blocks (with optional <c>cache_control</c>).</summary>
    [JsonPropertyName("system")] public JsonElement? System { get; set; }

    [JsonPropertyName("stop_sequences")] public List<string>? StopSequences { get; set; }
    [JsonPropertyName("stream")] public bool? Stream { get; set; }
    [JsonPropertyName("temperature")] public double? Temperature { get; set; }
    [JsonPropertyName("top_p")] public double? TopP { get; set; }
    [JsonPropertyName("top_k")] public int? TopK { get; set; }
    [JsonPropertyName("tools")] public JsonElement? Tools { get; set; }
    [JsonPropertyName("tool_choice")] public JsonElement? ToolChoice { get; set; }
    [JsonPropertyName("thinking")] public JsonElement? Thinking { get; set; }

    /// <summary>Structured outputs: <c>{"type":"json_schema","schema":{…}}</c>.</summary>
    [JsonPropertyName("output_format")] public JsonElement? OutputFormat { get; set; }
    [JsonPropertyName("output_config")] public JsonElement? OutputConfig { get; set; }
    [JsonPropertyName("metadata")] public JsonElement? Metadata { get; set; }
    [JsonPropertyName("session_id")] public string? SessionId { get; set; }
    [JsonPropertyName("auto_session")] public bool? AutoSession { get; set; }
}

public sealed class AnthropicMessage
{
    [JsonPropertyName("role")] public string? Role { get; set; }

    /// <summary>A string, or an array of content blocks.</summary>
    [JsonPropertyName("content")] public JsonElement? Content { get; set; }
}

[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull, MaxDepth = 64)]
[JsonSerializable(typeof(AnthropicMessagesRequest))]
public sealed partial class AnthropicJsonContext : JsonSerializerContext;
