using Flowith2Api.Contracts;

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
public sealed class AnthropicStreamWriter : SseEventWriter, IAnswerEventWriter
{
    private enum Block
    {
        None,
        Thinking,
        Text,
    }

    private readonly string _id;
    private readonly string _model;
    private readonly string? _sessionId;
    private int _index = -1;
    private Block _open;

    public AnthropicStreamWriter(HttpResponse response, string id, string model, string? sessionId = null)
        : base(response)
    {
        _sessionId = sessionId;
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
        Json.WriteStartObject("message");
        Json.WriteString("id", _id);
        Json.WriteString("type", "message");
        Json.WriteString("role", "assistant");
        Json.WriteString("model", _model);
        Json.WriteStartArray("content");
        Json.WriteEndArray();
        Json.WriteNull("stop_reason");
        Json.WriteNull("stop_sequence");
        AnthropicResponseWriter.WriteUsage(Json, new Usage(inputTokens, 0));
        if (_sessionId is not null)
        {
            Json.WriteString("session_id", _sessionId);
        }

        Json.WriteEndObject();
        End();
        return Pipe.FlushAsync(cancellationToken);
    }

    public ValueTask<FlushResult> WritePingAsync(CancellationToken cancellationToken)
    {
        Begin("ping");
        End();
        return Pipe.FlushAsync(cancellationToken);
    }

    ValueTask<FlushResult> IAnswerEventWriter.WriteReasoningAsync(string text, CancellationToken cancellationToken) => WriteThinkingAsync(text, cancellationToken);

    ValueTask<FlushResult> IAnswerEventWriter.WriteToolCallAsync(ToolCall toolCall, CancellationToken cancellationToken) => WriteToolUseAsync(toolCall, cancellationToken);

    public ValueTask<FlushResult> WriteThinkingAsync(string text, CancellationToken cancellationToken)
    {
        Open(Block.Thinking);
        Delta("thinking_delta", "thinking", text);
        return Pipe.FlushAsync(cancellationToken);
    }

    public ValueTask<FlushResult> WriteTextAsync(string text, CancellationToken cancellationToken)
    {
        Open(Block.Text);
        Delta("text_delta", "text", text);
        return Pipe.FlushAsync(cancellationToken);
    }

    /// <summary>A whole tool_use block: start (empty input), the arguments as one input_json_delta, stop.</summary>
    public ValueTask<FlushResult> WriteToolUseAsync(ToolCall call, CancellationToken cancellationToken)
    {
        Close();
        _index++;
        Begin("content_block_start");
        Json.WriteNumber("index", _index);
        Json.WriteStartObject("content_block");
        Json.WriteString("type", "tool_use");
        Json.WriteString("id", AnthropicResponseWriter.ToolUseId(call));
        Json.WriteString("name", call.Name);
        Json.WriteStartObject("input");
        Json.WriteEndObject();
        AnthropicResponseWriter.WriteDirectCaller(Json);
        Json.WriteEndObject();
        End();
        Delta("input_json_delta", "partial_json", call.ArgumentsJson);
        StopBlock();
        return Pipe.FlushAsync(cancellationToken);
    }

    public ValueTask<FlushResult> WriteFinishAsync(string stopReason, string? stopSequence, Usage usage, CancellationToken cancellationToken)
    {
        if (_index < 0)
        {
            Open(Block.Text); // a message always has at least one block
        }

        Close();
        Begin("message_delta");
        Json.WriteStartObject("delta");
        Json.WriteString("stop_reason", stopReason);
        if (stopSequence is null)
        {
            Json.WriteNull("stop_sequence");
        }
        else
        {
            Json.WriteString("stop_sequence", stopSequence);
        }

        Json.WriteEndObject();
        AnthropicResponseWriter.WriteUsage(Json, usage);
        End();
        Begin("message_stop");
        End();
        return Pipe.FlushAsync(cancellationToken);
    }

    public ValueTask<FlushResult> WriteErrorAsync(string type, string message, CancellationToken cancellationToken)
    {
        BeginEvent("error");
        ErrorEnvelopes.WriteAnthropic(Json, message, type, requestId: null);
        EndEvent();
        return Pipe.FlushAsync(cancellationToken);
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
        Json.WriteNumber("index", _index);
        Json.WriteStartObject("content_block");
        if (block == Block.Thinking)
        {
            Json.WriteString("type", "thinking");
            Json.WriteString("thinking", "");
            Json.WriteString("signature", "");
        }
        else
        {
            Json.WriteString("type", "text");
            Json.WriteString("text", "");
        }

        Json.WriteEndObject();
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
        Json.WriteNumber("index", _index);
        End();
    }

    private void Delta(string type, string field, string value)
    {
        Begin("content_block_delta");
        Json.WriteNumber("index", _index);
        Json.WriteStartObject("delta");
        Json.WriteString("type", type);
        Json.WriteString(field, value);
        Json.WriteEndObject();
        End();
    }

    private void Begin(string type)
    {
        BeginEvent(type);
        Json.WriteStartObject();
        Json.WriteString("type", type);
    }

    private void End()
    {
        Json.WriteEndObject();
        EndEvent();
    }
}
