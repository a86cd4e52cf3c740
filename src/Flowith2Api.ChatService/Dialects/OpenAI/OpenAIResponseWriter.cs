using System.Buffers;
using Flowith2Api.Contracts;

namespace Flowith2Api.ChatService.Dialects.OpenAI;

/// <summary>Writes OpenAI chat completion answers: the whole object, or the chunk stream.</summary>
public static class OpenAIResponseWriter
{
    public static string NewCompletionId() => "chatcmpl-" + Guid.NewGuid().ToString("N");

    /// <summary>A non-streaming <c>chat.completion</c> object.</summary>
    public static Task WriteCompletionAsync(HttpResponse response, string id, long created, string model, AnswerSummary answer,
        string finishReason, Usage usage, string? sessionId, CancellationToken cancellationToken)
    {
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "application/json";
        using var json = new Utf8JsonWriter(response.BodyWriter);
        json.WriteStartObject();
        json.WriteString("id", id);
        json.WriteString("object", "chat.completion");
        json.WriteNumber("created", created);
        json.WriteString("model", model);
        json.WriteStartArray("choices");
        json.WriteStartObject();
        json.WriteNumber("index", 0);
        json.WriteStartObject("message");
        json.WriteString("role", "assistant");
        var content = answer.Text;
        if (content.Length == 0 && answer.ToolCalls.Count > 0)
        {
            json.WriteNull("content");
        }
        else
        {
            json.WriteString("content", content);
        }

        var reasoning = answer.Reasoning;
        if (reasoning.Length > 0)
        {
            json.WriteString("reasoning_content", reasoning);
        }

        if (answer.ToolCalls.Count > 0)
        {
            json.WriteStartArray("tool_calls");
            foreach (var call in answer.ToolCalls)
            {
                json.WriteStartObject();
                json.WriteString("id", call.Id);
                json.WriteString("type", "function");
                json.WriteStartObject("function");
                json.WriteString("name", call.Name);
                json.WriteString("arguments", call.ArgumentsJson);
                json.WriteEndObject();
                json.WriteEndObject();
            }

            json.WriteEndArray();
        }

        json.WriteNull("refusal");
        json.WriteEndObject();
        json.WriteNull("logprobs");
        json.WriteString("finish_reason", finishReason);
        json.WriteEndObject();
        json.WriteEndArray();
        WriteUsage(json, usage);
        json.WriteNull("system_fingerprint");
        if (sessionId is not null)
        {
            json.WriteString("session_id", sessionId);
        }

        json.WriteEndObject();
        json.Flush();
        return response.BodyWriter.FlushAsync(cancellationToken).AsTask();
    }

    internal static void WriteUsage(Utf8JsonWriter json, Usage usage)
    {
        json.WriteStartObject("usage");
        json.WriteNumber("prompt_tokens", usage.InputTokens);
        json.WriteNumber("completion_tokens", usage.OutputTokens);
        json.WriteNumber("total_tokens", usage.TotalTokens);
        if (usage.ReasoningTokens > 0)
        {
            json.WriteStartObject("completion_tokens_details");
            json.WriteNumber("reasoning_tokens", usage.ReasoningTokens);
            json.WriteEndObject();
        }

        json.WriteEndObject();
    }
}

/// <summary>
/// One <c>chat.completion.chunk</c> stream: <c>data: {json}\n\n</c> events written straight into the response
/// pipe and flushed one by one, so every piece reaches the client as soon as it arrives.
/// </summary>
public sealed class OpenAIStreamWriter : SseEventWriter, IAnswerEventWriter
{
    private static readonly byte[] DoneEvent = "data: [DONE]\n\n"u8.ToArray();

    private readonly string _id;
    private readonly long _created;
    private readonly string _model;
    private readonly string? _sessionId;

    public OpenAIStreamWriter(HttpResponse response, string id, long created, string model, string? sessionId = null)
        : base(response)
    {
        _sessionId = sessionId;
        _id = id;
        _created = created;
        _model = model;
    }

    /// <summary>Sets the event-stream headers; nothing is sent until the first flush.</summary>
    public static void PrepareHeaders(HttpResponse response)
    {
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "text/event-stream; charset=utf-8";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";
    }

    /// <summary>The first chunk: the assistant role with empty content.</summary>
    public ValueTask<FlushResult> WriteRoleAsync(CancellationToken cancellationToken)
    {
        BeginChunk();
        Json.WriteString("role", "assistant");
        Json.WriteString("content", "");
        EndChunk(finishReason: null);
        return Pipe.FlushAsync(cancellationToken);
    }

    ValueTask<FlushResult> IAnswerEventWriter.WriteTextAsync(string text, CancellationToken cancellationToken) => WriteContentAsync(text, cancellationToken);

    public ValueTask<FlushResult> WriteContentAsync(string content, CancellationToken cancellationToken)
    {
        BeginChunk();
        Json.WriteString("content", content);
        EndChunk(finishReason: null);
        return Pipe.FlushAsync(cancellationToken);
    }

    /// <summary>A thinking piece, as <c>reasoning_content</c> (never repeated in <c>content</c>).</summary>
    public ValueTask<FlushResult> WriteReasoningAsync(string text, CancellationToken cancellationToken)
    {
        BeginChunk();
        Json.WriteString("reasoning_content", text);
        EndChunk(finishReason: null);
        return Pipe.FlushAsync(cancellationToken);
    }

    /// <summary>A tool call: its id, type and name first, then its arguments, at a stable index.</summary>
    public ValueTask<FlushResult> WriteToolCallAsync(ToolCall toolCall, CancellationToken cancellationToken)
    {
        BeginChunk();
        WriteToolCallDelta(toolCall, header: true);
        EndChunk(finishReason: null);
        BeginChunk();
        WriteToolCallDelta(toolCall, header: false);
        EndChunk(finishReason: null);
        return Pipe.FlushAsync(cancellationToken);
    }

    private void WriteToolCallDelta(ToolCall call, bool header)
    {
        Json.WriteStartArray("tool_calls");
        Json.WriteStartObject();
        Json.WriteNumber("index", call.Index);
        if (header)
        {
            Json.WriteString("id", call.Id);
            Json.WriteString("type", "function");
        }

        Json.WriteStartObject("function");
        if (header)
        {
            Json.WriteString("name", call.Name);
        }

        Json.WriteString("arguments", header ? "" : call.ArgumentsJson);
        Json.WriteEndObject();
        Json.WriteEndObject();
        Json.WriteEndArray();
    }

    public ValueTask<FlushResult> WriteFinishAsync(string finishReason, CancellationToken cancellationToken)
    {
        BeginChunk();
        EndChunk(finishReason);
        return Pipe.FlushAsync(cancellationToken);
    }

    /// <summary>The usage chunk of <c>stream_options.include_usage</c>: empty choices, usage set.</summary>
    public ValueTask<FlushResult> WriteUsageAsync(Usage usage, CancellationToken cancellationToken)
    {
        BeginEvent();
        WriteChunkHeader();
        Json.WriteStartArray("choices");
        Json.WriteEndArray();
        OpenAIResponseWriter.WriteUsage(Json, usage);
        Json.WriteEndObject();
        EndEvent();
        return Pipe.FlushAsync(cancellationToken);
    }

    /// <summary>An error after the first byte: an in-band error event, then the terminator.</summary>
    public ValueTask<FlushResult> WriteErrorAsync(string message, string type, string code, CancellationToken cancellationToken)
    {
        BeginEvent();
        ErrorEnvelopes.WriteOpenAI(Json, message, type, code);
        EndEvent();
        Pipe.Write(DoneEvent);
        return Pipe.FlushAsync(cancellationToken);
    }

    public ValueTask<FlushResult> WriteDoneAsync(CancellationToken cancellationToken)
    {
        Pipe.Write(DoneEvent);
        return Pipe.FlushAsync(cancellationToken);
    }

    private void BeginChunk()
    {
        BeginEvent();
        WriteChunkHeader();
        Json.WriteStartArray("choices");
        Json.WriteStartObject();
        Json.WriteNumber("index", 0);
        Json.WriteStartObject("delta");
    }

    private void EndChunk(string? finishReason)
    {
        Json.WriteEndObject();
        Json.WriteNull("logprobs");
        if (finishReason is null)
        {
            Json.WriteNull("finish_reason");
        }
        else
        {
            Json.WriteString("finish_reason", finishReason);
        }

        Json.WriteEndObject();
        Json.WriteEndArray();
        Json.WriteEndObject();
        EndEvent();
    }

    private void WriteChunkHeader()
    {
        Json.WriteStartObject();
        Json.WriteString("id", _id);
        Json.WriteString("object", "chat.completion.chunk");
        Json.WriteNumber("created", _created);
        Json.WriteString("model", _model);
        Json.WriteNull("system_fingerprint");
        if (_sessionId is not null)
        {
            Json.WriteString("session_id", _sessionId);
        }
    }
}
