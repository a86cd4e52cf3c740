using System.Text.Json.Serialization;

namespace Flowith2Api.ChatService.Dialects.Responses;

/// <summary>The body of <c>POST /v1/responses</c> (OpenAI Responses API).</summary>
public sealed class ResponsesRequest
{
    [JsonPropertyName("model")] public string? Model { get; set; }

    /// <summary>A string (one user message) or an array of input items.</summary>
    [JsonPropertyName("input")] public JsonElement? Input { get; set; }

    [JsonPropertyName("instructions")] public string? Instructions { get; set; }
    [JsonPropertyName("stream")] public bool? Stream { get; set; }
    [JsonPropertyName("tools")] public JsonElement? Tools { get; set; }
    [JsonPropertyName("tool_choice")] public JsonElement? ToolChoice { get; set; }
    [JsonPropertyName("parallel_tool_calls")] public bool? ParallelToolCalls { get; set; }
    [JsonPropertyName("max_output_tokens")] public int? MaxOutputTokens { get; set; }
    [JsonPropertyName("temperature")] public double? Temperature { get; set; }
    [JsonPropertyName("top_p")] public double? TopP { get; set; }
    [JsonPropertyName("reasoning")] public ResponsesReasoning? Reasoning { get; set; }
    [JsonPropertyName("text")] public ResponsesText? Text { get; set; }
    [JsonPropertyName("store")] public bool? Store { get; set; }
    [JsonPropertyName("previous_response_id")] public string? PreviousResponseId { get; set; }
    [JsonPropertyName("metadata")] public Dictionary<string, string>? Metadata { get; set; }
    [JsonPropertyName("user")] public string? User { get; set; }
}

public sealed class ResponsesReasoning
{
    [JsonPropertyName("effort")] public string? Effort { get; set; }
    [JsonPropertyName("summary")] public string? Summary { get; set; }
}

public sealed class ResponsesText
{
    /// <summary>{"type":"text"} | {"type":"json_object"} | {"type":"json_schema","name","schema","strict"}.</summary>
    [JsonPropertyName("format")] public JsonElement? Format { get; set; }
}

[JsonSourceGenerationOptions(
    PropertyNameCaseInsensitive = false,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    AllowTrailingCommas = false,
    MaxDepth = 64)]
[JsonSerializable(typeof(ResponsesRequest))]
public sealed partial class ResponsesJsonContext : JsonSerializerContext;
