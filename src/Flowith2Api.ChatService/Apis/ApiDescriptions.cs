using System.ComponentModel;
using System.Text.Json.Serialization;

namespace Flowith2Api.ChatService.Apis;

// The answers' shapes as the OpenAPI document describes them. The writers write these fields by hand (Utf8JsonWriter,
// for speed); OpenApiDocumentTests checks a real answer against them, so a field the writers add must be described here.

/// <summary>An OpenAI chat completion as the Gateway answers it (non-streamed; a stream sends <c>chat.completion.chunk</c> events of the same fields, with <c>delta</c> for <c>message</c>).</summary>
public sealed record ChatCompletionDescription(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("object")] string ObjectType,
    [property: JsonPropertyName("created")] long Created,
    [property: JsonPropertyName("model")] string Model,
    [property: JsonPropertyName("choices")] IReadOnlyList<ChatChoiceDescription> Choices,
    [property: JsonPropertyName("usage")] ChatUsageDescription Usage,
    [property: JsonPropertyName("system_fingerprint")] string? SystemFingerprint,
    [property: JsonPropertyName("session_id"), Description("Extension: the gateway session this turn belongs to (with session_id, auto_session or x-session-id).")] string? SessionId);

public sealed record ChatChoiceDescription(
    [property: JsonPropertyName("index")] int Index,
    [property: JsonPropertyName("message")] ChatAnswerMessageDescription Message,
    [property: JsonPropertyName("logprobs")] object? Logprobs,
    [property: JsonPropertyName("finish_reason"), Description("stop, length, tool_calls")] string FinishReason);

public sealed record ChatAnswerMessageDescription(
    [property: JsonPropertyName("role")] string Role,
    [property: JsonPropertyName("content")] string? Content,
    [property: JsonPropertyName("reasoning_content"), Description("Extension: the model's thinking (<think> in Flowith's answer), never repeated in content.")] string? ReasoningContent,
    [property: JsonPropertyName("tool_calls")] IReadOnlyList<ChatToolCallDescription>? ToolCalls,
    [property: JsonPropertyName("refusal")] string? Refusal);

public sealed record ChatToolCallDescription(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("function")] ChatFunctionCallDescription Function);

public sealed record ChatFunctionCallDescription(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("arguments")] string Arguments);

public sealed record ChatUsageDescription(
    [property: JsonPropertyName("prompt_tokens")] int PromptTokens,
    [property: JsonPropertyName("completion_tokens")] int CompletionTokens,
    [property: JsonPropertyName("total_tokens")] int TotalTokens,
    [property: JsonPropertyName("completion_tokens_details")] ChatCompletionTokensDescription? CompletionTokensDetails);

public sealed record ChatCompletionTokensDescription([property: JsonPropertyName("reasoning_tokens")] int ReasoningTokens);

/// <summary>An Anthropic message as the Gateway answers it (non-streamed; a stream sends Anthropic's event sequence).</summary>
public sealed record AnthropicMessageDescription(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("role")] string Role,
    [property: JsonPropertyName("model")] string Model,
    [property: JsonPropertyName("content")] IReadOnlyList<AnthropicBlockDescription> Content,
    [property: JsonPropertyName("stop_reason"), Description("end_turn, max_tokens, stop_sequence, tool_use")] string StopReason,
    [property: JsonPropertyName("stop_sequence")] string? StopSequence,
    [property: JsonPropertyName("usage")] AnthropicUsageDescription Usage,
    [property: JsonPropertyName("session_id"), Description("Extension: the gateway session this turn belongs to.")] string? SessionId);

public sealed record AnthropicBlockDescription(
    [property: JsonPropertyName("type"), Description("text, thinking, tool_use")] string Type,
    [property: JsonPropertyName("text")] string? Text,
    [property: JsonPropertyName("thinking")] string? Thinking,
    [property: JsonPropertyName("signature")] string? Signature,
    [property: JsonPropertyName("id")] string? Id,
    [property: JsonPropertyName("name")] string? Name,
    [property: JsonPropertyName("input")] object? Input,
    [property: JsonPropertyName("caller")] object? Caller);

public sealed record AnthropicUsageDescription(
    [property: JsonPropertyName("input_tokens")] int InputTokens,
    [property: JsonPropertyName("cache_creation_input_tokens")] int CacheCreationInputTokens,
    [property: JsonPropertyName("cache_read_input_tokens")] int CacheReadInputTokens,
    [property: JsonPropertyName("output_tokens")] int OutputTokens);

/// <summary>Anthropic's token count (<c>/v1/messages/count_tokens</c>).</summary>
public sealed record TokenCountDescription([property: JsonPropertyName("input_tokens")] int InputTokens);
