using System.Buffers;
using System.IO.Pipelines;
using System.Text.Json;
using Flowith2Api.ChatService.Conversation;
using Flowith2Api.ServiceDefaults;

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
public sealed class OpenAIStreamWriter : IDisposable
{
    private static readonly byte[] DataPrefix = "data: "u8.ToArray();
    private static readonly byte[] EventEnd = "\n\n"u8.ToArray();
    private static readonly byte[] DoneEvent = "data: [DONE]\n\n"u8.ToArray();

    private readonly PipeWriter _pipe;
    private readonly Utf8JsonWriter _json;
    private readonly string _id;
    private readonly long _created;
    private readonly string _model;
    private readonly string? _sessionId;

    public OpenAIStreamWriter(HttpResponse response, string id, long created, string model, string? sessionId = null)
    {
        _sessionId = sessionId;
        _pipe = response.BodyWriter;
        _json = new Utf8JsonWriter(_pipe);
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
        _json.WriteString("role", "assistant");
        _json.WriteString("content", "");
        EndChunk(finishReason: null);
        return _pipe.FlushAsync(cancellationToken);
    }

    public ValueTask<FlushResult> WriteContentAsync(string content, CancellationToken cancellationToken)
    {
        BeginChunk();
        _json.WriteString("content", content);
        EndChunk(finishReason: null);
        return _pipe.FlushAsync(cancellationToken);
    }

    /// <summary>A thinking piece, as <c>reasoning_content</c> (never repeated in <c>content</c>).</summary>
    public ValueTask<FlushResult> WriteReasoningAsync(string reasoning, CancellationToken cancellationToken)
    {
        BeginChunk();
        _json.WriteString("reasoning_content", reasoning);
        EndChunk(finishReason: null);
        return _pipe.FlushAsync(cancellationToken);
    }

    /// <summary>A tool call: its id, type and name first, then its arguments, at a stable index.</summary>
    public ValueTask<FlushResult> WriteToolCallAsync(ToolCall call, CancellationToken cancellationToken)
    {
        BeginChunk();
        WriteToolCallDelta(call, header: true);
        EndChunk(finishReason: null);
        BeginChunk();
        WriteToolCallDelta(call, header: false);
        EndChunk(finishReason: null);
        return _pipe.FlushAsync(cancellationToken);
    }

    private void WriteToolCallDelta(ToolCall call, bool header)
    {
        _json.WriteStartArray("tool_calls");
        _json.WriteStartObject();
        _json.WriteNumber("index", call.Index);
        if (header)
        {
            _json.WriteString("id", call.Id);
            _json.WriteString("type", "function");
        }

        _json.WriteStartObject("function");
        if (header)
        {
            _json.WriteString("name", call.Name);
        }

        _json.WriteString("arguments", header ? "" : call.ArgumentsJson);
        _json.WriteEndObject();
        _json.WriteEndObject();
        _json.WriteEndArray();
    }

    public ValueTask<FlushResult> WriteFinishAsync(string finishReason, CancellationToken cancellationToken)
    {
        BeginChunk();
        EndChunk(finishReason);
        return _pipe.FlushAsync(cancellationToken);
    }

    /// <summary>The usage chunk of <c>stream_options.include_usage</c>: empty choices, usage set.</summary>
    public ValueTask<FlushResult> WriteUsageAsync(Usage usage, CancellationToken cancellationToken)
    {
        _pipe.Write(DataPrefix);
        _json.Reset(_pipe);
        WriteChunkHeader();
        _json.WriteStartArray("choices");
        _json.WriteEndArray();
        OpenAIResponseWriter.WriteUsage(_json, usage);
        _json.WriteEndObject();
        _json.Flush();
        _pipe.Write(EventEnd);
        return _pipe.FlushAsync(cancellationToken);
    }

    /// <summary>An error after the first byte: an in-band error event, then the terminator.</summary>
    public ValueTask<FlushResult> WriteErrorAsync(string message, string type, string code, CancellationToken cancellationToken)
    {
        _pipe.Write(DataPrefix);
        _json.Reset(_pipe);
        ErrorEnvelopes.WriteOpenAI(_json, message, type, code);
        _json.Flush();
        _pipe.Write(EventEnd);
        _pipe.Write(DoneEvent);
        return _pipe.FlushAsync(cancellationToken);
    }

    public ValueTask<FlushResult> WriteDoneAsync(CancellationToken cancellationToken)
    {
        _pipe.Write(DoneEvent);
        return _pipe.FlushAsync(cancellationToken);
    }

    private void BeginChunk()
    {
        _pipe.Write(DataPrefix);
        _json.Reset(_pipe);
        WriteChunkHeader();
        _json.WriteStartArray("choices");
        _json.WriteStartObject();
        _json.WriteNumber("index", 0);
        _json.WriteStartObject("delta");
    }

    private void EndChunk(string? finishReason)
    {
        _json.WriteEndObject();
        _json.WriteNull("logprobs");
        if (finishReason is null)
        {
            _json.WriteNull("finish_reason");
        }
        else
        {
            _json.WriteString("finish_reason", finishReason);
        }

        _json.WriteEndObject();
        _json.WriteEndArray();
        _json.WriteEndObject();
        _json.Flush();
        _pipe.Write(EventEnd);
    }

    private void WriteChunkHeader()
    {
        _json.WriteStartObject();
        _json.WriteString("id", _id);
        _json.WriteString("object", "chat.completion.chunk");
        _json.WriteNumber("created", _created);
        _json.WriteString("model", _model);
        _json.WriteNull("system_fingerprint");
        if (_sessionId is not null)
        {
            _json.WriteString("session_id", _sessionId);
        }
    }

    public void Dispose() => _json.Dispose();
}
