using System.Buffers;
using System.IO.Pipelines;
using System.Text.Json;
using Flowith2Api.ChatService.Conversation;
using Flowith2Api.ServiceDefaults;

namespace Flowith2Api.ChatService.Dialects.Anthropic;

/// <summary>Anthropic's message objects and stop reasons.</summary>
public static class AnthropicResponseWriter
{
    public static string NewMessageId() => "msg_" + Guid.NewGuid().ToString("N")[..24];

    /// <summary>Our neutral call ids become Anthropic's <c>toolu_</c> ids.</summary>
    public static string ToolUseId(ToolCall call) => "toolu_" + call.Id["call_".Length..];

    /// <summary>An opaque signature for thinking blocks (clients send it back; we do not check it).</summary>
    public const string ThinkingSignature = "flowith2api";

    public static string StopReason(AnswerFinish finish) => finish switch
    {
        AnswerFinish.ToolUse => "tool_use",
        AnswerFinish.MaxTokens => "max_tokens",
        AnswerFinish.StopSequence => "stop_sequence",
        _ => "end_turn",
    };

    /// <summary>A non-streaming <c>message</c>: thinking first, then text, then tool_use blocks.</summary>
    public static Task WriteMessageAsync(HttpContext context, string id, string model, AnswerSummary answer, AnswerFinish finish, Usage usage,
        string? sessionId) =>
        JsonResponse.WriteAsync(context, StatusCodes.Status200OK, json =>
        {
            json.WriteStartObject();
            json.WriteString("id", id);
            json.WriteString("type", "message");
            json.WriteString("role", "assistant");
            json.WriteString("model", model);
            json.WriteStartArray("content");
            if (answer.Reasoning.Length > 0)
            {
                json.WriteStartObject();
                json.WriteString("type", "thinking");
                json.WriteString("thinking", answer.Reasoning);
                json.WriteString("signature", ThinkingSignature);
                json.WriteEndObject();
            }

            if (answer.Text.Length > 0 || answer.ToolCalls.Count == 0)
            {
                json.WriteStartObject();
                json.WriteString("type", "text");
                json.WriteString("text", answer.Text);
                json.WriteEndObject();
            }

            foreach (var call in answer.ToolCalls)
            {
                json.WriteStartObject();
                json.WriteString("type", "tool_use");
                json.WriteString("id", ToolUseId(call));
                json.WriteString("name", call.Name);
                json.WritePropertyName("input");
                json.WriteRawValue(call.ArgumentsJson, skipInputValidation: true);
                WriteDirectCaller(json);
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteString("stop_reason", StopReason(finish));
            if (answer.StopSequence is { } stop)
            {
                json.WriteString("stop_sequence", stop);
            }
            else
            {
                json.WriteNull("stop_sequence");
            }

            WriteUsage(json, usage);
            if (sessionId is not null)
            {
                json.WriteString("session_id", sessionId);
            }

            json.WriteEndObject();
        });

    /// <summary>The API marks every tool_use block with who called it; ours are always the model's own calls.</summary>
    internal static void WriteDirectCaller(Utf8JsonWriter json)
    {
        json.WriteStartObject("caller");
        json.WriteString("type", "direct");
        json.WriteEndObject();
    }

    internal static void WriteUsage(Utf8JsonWriter json, Usage usage)
    {
        json.WriteStartObject("usage");
        json.WriteNumber("input_tokens", usage.InputTokens);
        json.WriteNumber("cache_creation_input_tokens", 0);
        json.WriteNumber("cache_read_input_tokens", 0);
        json.WriteNumber("output_tokens", usage.OutputTokens);
        json.WriteEndObject();
    }
}

/// <summary>
/// One Anthropic event stream, in the exact order clients parse: message_start; per block content_block_start,
/// its deltas, content_block_stop, with consecutive indices (thinking before text, never inside it); message_delta
/// with the stop reason and cumulative usage; message_stop. <c>ping</c> keeps a quiet stream alive; an error after
/// the first byte is an <c>error</c> event.
/// </summary>
public sealed class AnthropicStreamWriter : IDisposable
{
    private enum Block
    {
        None,
        Thinking,
        Text,
    }

    private readonly PipeWriter _pipe;
    private readonly Utf8JsonWriter _json;
    private readonly string _id;
    private readonly string _model;
    private readonly string? _sessionId;
    private int _index = -1;
    private Block _open;

    public AnthropicStreamWriter(HttpResponse response, string id, string model, string? sessionId = null)
    {
        _sessionId = sessionId;
        _pipe = response.BodyWriter;
        _json = new Utf8JsonWriter(_pipe);
        _id = id;
        _model = model;
    }

    public bool Started { get; private set; }

    public static void PrepareHeaders(HttpResponse response)
    {
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "text/event-stream; charset=utf-8";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";
    }

    public ValueTask<FlushResult> WriteMessageStartAsync(int inputTokens, CancellationToken cancellationToken)
    {
        Started = true;
        Begin("message_start");
        _json.WriteStartObject("message");
        _json.WriteString("id", _id);
        _json.WriteString("type", "message");
        _json.WriteString("role", "assistant");
        _json.WriteString("model", _model);
        _json.WriteStartArray("content");
        _json.WriteEndArray();
        _json.WriteNull("stop_reason");
        _json.WriteNull("stop_sequence");
        AnthropicResponseWriter.WriteUsage(_json, new Usage(inputTokens, 0));
        if (_sessionId is not null)
        {
            _json.WriteString("session_id", _sessionId);
        }

        _json.WriteEndObject();
        End();
        return _pipe.FlushAsync(cancellationToken);
    }

    public ValueTask<FlushResult> WritePingAsync(CancellationToken cancellationToken)
    {
        Begin("ping");
        End();
        return _pipe.FlushAsync(cancellationToken);
    }

    public ValueTask<FlushResult> WriteThinkingAsync(string text, CancellationToken cancellationToken)
    {
        Open(Block.Thinking);
        Delta("thinking_delta", "thinking", text);
        return _pipe.FlushAsync(cancellationToken);
    }

    public ValueTask<FlushResult> WriteTextAsync(string text, CancellationToken cancellationToken)
    {
        Open(Block.Text);
        Delta("text_delta", "text", text);
        return _pipe.FlushAsync(cancellationToken);
    }

    /// <summary>A whole tool_use block: start (empty input), the arguments as one input_json_delta, stop.</summary>
    public ValueTask<FlushResult> WriteToolUseAsync(ToolCall call, CancellationToken cancellationToken)
    {
        Close();
        _index++;
        Begin("content_block_start");
        _json.WriteNumber("index", _index);
        _json.WriteStartObject("content_block");
        _json.WriteString("type", "tool_use");
        _json.WriteString("id", AnthropicResponseWriter.ToolUseId(call));
        _json.WriteString("name", call.Name);
        _json.WriteStartObject("input");
        _json.WriteEndObject();
        AnthropicResponseWriter.WriteDirectCaller(_json);
        _json.WriteEndObject();
        End();
        Delta("input_json_delta", "partial_json", call.ArgumentsJson);
        StopBlock();
        return _pipe.FlushAsync(cancellationToken);
    }

    public ValueTask<FlushResult> WriteFinishAsync(string stopReason, string? stopSequence, Usage usage, CancellationToken cancellationToken)
    {
        if (_index < 0)
        {
            Open(Block.Text); // a message always has at least one block
        }

        Close();
        Begin("message_delta");
        _json.WriteStartObject("delta");
        _json.WriteString("stop_reason", stopReason);
        if (stopSequence is null)
        {
            _json.WriteNull("stop_sequence");
        }
        else
        {
            _json.WriteString("stop_sequence", stopSequence);
        }

        _json.WriteEndObject();
        AnthropicResponseWriter.WriteUsage(_json, usage);
        End();
        Begin("message_stop");
        End();
        return _pipe.FlushAsync(cancellationToken);
    }

    public ValueTask<FlushResult> WriteErrorAsync(string type, string message, CancellationToken cancellationToken)
    {
        _pipe.Write("event: error\ndata: "u8);
        _json.Reset(_pipe);
        ErrorEnvelopes.WriteAnthropic(_json, message, type, requestId: null);
        _json.Flush();
        _pipe.Write("\n\n"u8);
        return _pipe.FlushAsync(cancellationToken);
    }

    private void Open(Block block)
    {
        if (_open == block)
        {
            return;
        }

        Close();
        _index++;
        _open = block;
        Begin("content_block_start");
        _json.WriteNumber("index", _index);
        _json.WriteStartObject("content_block");
        if (block == Block.Thinking)
        {
            _json.WriteString("type", "thinking");
            _json.WriteString("thinking", "");
            _json.WriteString("signature", "");
        }
        else
        {
            _json.WriteString("type", "text");
            _json.WriteString("text", "");
        }

        _json.WriteEndObject();
        End();
    }

    private void Close()
    {
        if (_open == Block.None)
        {
            return;
        }

        if (_open == Block.Thinking)
        {
            Delta("signature_delta", "signature", AnthropicResponseWriter.ThinkingSignature);
        }

        StopBlock();
        _open = Block.None;
    }

    private void StopBlock()
    {
        Begin("content_block_stop");
        _json.WriteNumber("index", _index);
        End();
    }

    private void Delta(string type, string field, string value)
    {
        Begin("content_block_delta");
        _json.WriteNumber("index", _index);
        _json.WriteStartObject("delta");
        _json.WriteString("type", type);
        _json.WriteString(field, value);
        _json.WriteEndObject();
        End();
    }

    private void Begin(string type)
    {
        _pipe.Write("event: "u8);
        _pipe.Advance(System.Text.Encoding.ASCII.GetBytes(type, _pipe.GetSpan(type.Length)));
        _pipe.Write("\ndata: "u8);
        _json.Reset(_pipe);
        _json.WriteStartObject();
        _json.WriteString("type", type);
    }

    private void End()
    {
        _json.WriteEndObject();
        _json.Flush();
        _pipe.Write("\n\n"u8);
    }

    public void Dispose() => _json.Dispose();
}
