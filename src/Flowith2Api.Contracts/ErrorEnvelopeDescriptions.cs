using System.Text.Json.Serialization;

namespace Flowith2Api.Contracts;

/// <summary>OpenAI's error envelope (chat completions, Responses, models, admin).</summary>
public sealed record OpenAIErrorDescription([property: JsonPropertyName("error")] OpenAIErrorBodyDescription Error);

public sealed record OpenAIErrorBodyDescription(
    [property: JsonPropertyName("message")] string Message,
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("param")] string? Param,
    [property: JsonPropertyName("code")] string? Code);

/// <summary>Anthropic's error envelope (<c>/v1/messages</c>).</summary>
public sealed record AnthropicErrorDescription(
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("error")] AnthropicErrorBodyDescription Error);

public sealed record AnthropicErrorBodyDescription(
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("message")] string Message);
