using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using System.Text.Json;
using Flowith2Api.ChatService.Conversation;

namespace Flowith2Api.ChatService.Dialects.Responses;

/// <summary>
/// One Responses API event stream (<c>event: response.…</c> / <c>data: {…}</c>), every event numbered by
/// <c>sequence_number</c>: created, in_progress, then per output item added → parts and deltas → done, then
/// completed (or incomplete, or an <c>error</c> event followed by failed).
/// </summary>
public sealed class ResponsesStreamWriter : IDisposable
{
    private static readonly byte[] EventPrefix = "event: "u8.ToArray();
    private static readonly byte[] DataPrefix = "\ndata: "u8.ToArray();
    private static readonly byte[] EventEnd = "\n\n"u8.ToArray();

    private readonly PipeWriter _pipe;
    private readonly Utf8JsonWriter _json;
    private readonly ResponseEcho _echo;
    private readonly ResponseOutputIds _ids = new();
    private readonly StringBuilder _reasoning = new();
    private readonly StringBuilder _text = new();
    private int _sequence;
    private int _nextOutputIndex;
    private int _reasoningIndex = -1;
    private int _messageIndex = -1;
    private bool _reasoningOpen;
    private bool _messageOpen;

    public ResponsesStreamWriter(HttpResponse response, ResponseEcho echo)
    {
        _pipe = response.BodyWriter;
        _json = new Utf8JsonWriter(_pipe);
        _echo = echo;
    }

    public ResponseOutputIds Ids => _ids;

    /// <summary>response.created and response.in_progress.</summary>
    public ValueTask<FlushResult> StartAsync(CancellationToken cancellationToken)
    {
        WriteResponseEvent("response.created", "in_progress", null, null, null);
        WriteResponseEvent("response.in_progress", "in_progress", null, null, null);
        return _pipe.FlushAsync(cancellationToken);
    }

    public ValueTask<FlushResult> WriteReasoningAsync(string delta, CancellationToken cancellationToken)
    {
        if (!_reasoningOpen)
        {
            CloseMessage();
            _reasoningOpen = true;
            _reasoningIndex = _nextOutputIndex++;
            Begin("response.output_item.added");
            _json.WriteNumber("output_index", _reasoningIndex);
            _json.WritePropertyName("item");
            ResponsesWriter.WriteReasoningItem(_json, _ids.Reasoning, null);
            End();
            Begin("response.reasoning_summary_part.added");
            WriteItemPosition(_ids.Reasoning, _reasoningIndex);
            _json.WriteNumber("summary_index", 0);
            WriteSummaryPart("");
            End();
        }

        _reasoning.Append(delta);
        Begin("response.reasoning_summary_text.delta");
        WriteItemPosition(_ids.Reasoning, _reasoningIndex);
        _json.WriteNumber("summary_index", 0);
        _json.WriteString("delta", delta);
        End();
        return _pipe.FlushAsync(cancellationToken);
    }

    public ValueTask<FlushResult> WriteTextAsync(string delta, CancellationToken cancellationToken)
    {
        OpenMessage();
        _text.Append(delta);
        Begin("response.output_text.delta");
        WriteItemPosition(_ids.Message, _messageIndex);
        _json.WriteNumber("content_index", 0);
        _json.WriteString("delta", delta);
        _json.WriteStartArray("logprobs");
        _json.WriteEndArray();
        End();
        return _pipe.FlushAsync(cancellationToken);
    }

    public ValueTask<FlushResult> WriteFunctionCallAsync(ToolCall call, CancellationToken cancellationToken)
    {
        CloseReasoning();
        CloseMessage();
        var id = _ids.FunctionCall(call);
        var ns = ResponsesRequestMapper.NamespaceOf(_echo.Request.Tools, call.Name);
        var index = _nextOutputIndex++;
        Begin("response.output_item.added");
        _json.WriteNumber("output_index", index);
        _json.WritePropertyName("item");
        ResponsesWriter.WriteFunctionCallItem(_json, id, "in_progress", call with { ArgumentsJson = "" }, ns);
        End();
        Begin("response.function_call_arguments.delta");
        WriteItemPosition(id, index);
        _json.WriteString("delta", call.ArgumentsJson);
        End();
        Begin("response.function_call_arguments.done");
        WriteItemPosition(id, index);
        _json.WriteString("name", call.Name);
        _json.WriteString("arguments", call.ArgumentsJson);
        End();
        Begin("response.output_item.done");
        _json.WriteNumber("output_index", index);
        _json.WritePropertyName("item");
        ResponsesWriter.WriteFunctionCallItem(_json, id, "completed", call, ns);
        End();
        return _pipe.FlushAsync(cancellationToken);
    }

    /// <summary>Closes what is open and sends response.completed (or response.incomplete) with the whole response.</summary>
    public ValueTask<FlushResult> FinishAsync(AnswerSummary answer, Usage usage, AnswerFinish finish, CancellationToken cancellationToken)
    {
        CloseReasoning();
        if (answer.ToolCalls.Count == 0 && _messageIndex < 0)
        {
            OpenMessage(); // an empty answer is still one (empty) message, as in the non-streaming object
        }

        CloseMessage();
        var incomplete = finish == AnswerFinish.MaxTokens;
        WriteResponseEvent(incomplete ? "response.incomplete" : "response.completed", incomplete ? "incomplete" : "completed", answer, usage,
            incomplete ? "max_output_tokens" : null);
        return _pipe.FlushAsync(cancellationToken);
    }

    /// <summary>After the first byte a failure is an <c>error</c> event, then response.failed.</summary>
    public ValueTask<FlushResult> FailAsync(string code, string message, CancellationToken cancellationToken)
    {
        Begin("error");
        _json.WriteString("code", code);
        _json.WriteString("message", message);
        _json.WriteNull("param");
        End();
        WriteResponseEvent("response.failed", "failed", null, null, null, new ResponseError(code, message));
        return _pipe.FlushAsync(cancellationToken);
    }

    public void Dispose() => _json.Dispose();

    private void OpenMessage()
    {
        if (_messageOpen)
        {
            return;
        }

        CloseReasoning();
        _messageOpen = true;
        _messageIndex = _nextOutputIndex++;
        Begin("response.output_item.added");
        _json.WriteNumber("output_index", _messageIndex);
        _json.WritePropertyName("item");
        ResponsesWriter.WriteMessageItem(_json, _ids.Message, "in_progress", null);
        End();
        Begin("response.content_part.added");
        WriteItemPosition(_ids.Message, _messageIndex);
        _json.WriteNumber("content_index", 0);
        _json.WritePropertyName("part");
        ResponsesWriter.WriteOutputText(_json, "");
        End();
    }

    private void CloseMessage()
    {
        if (!_messageOpen)
        {
            return;
        }

        _messageOpen = false;
        var text = _text.ToString();
        Begin("response.output_text.done");
        WriteItemPosition(_ids.Message, _messageIndex);
        _json.WriteNumber("content_index", 0);
        _json.WriteString("text", text);
        _json.WriteStartArray("logprobs");
        _json.WriteEndArray();
        End();
        Begin("response.content_part.done");
        WriteItemPosition(_ids.Message, _messageIndex);
        _json.WriteNumber("content_index", 0);
        _json.WritePropertyName("part");
        ResponsesWriter.WriteOutputText(_json, text);
        End();
        Begin("response.output_item.done");
        _json.WriteNumber("output_index", _messageIndex);
        _json.WritePropertyName("item");
        ResponsesWriter.WriteMessageItem(_json, _ids.Message, "completed", text);
        End();
    }

    private void CloseReasoning()
    {
        if (!_reasoningOpen)
        {
            return;
        }

        _reasoningOpen = false;
        var summary = _reasoning.ToString();
        Begin("response.reasoning_summary_text.done");
        WriteItemPosition(_ids.Reasoning, _reasoningIndex);
        _json.WriteNumber("summary_index", 0);
        _json.WriteString("text", summary);
        End();
        Begin("response.reasoning_summary_part.done");
        WriteItemPosition(_ids.Reasoning, _reasoningIndex);
        _json.WriteNumber("summary_index", 0);
        WriteSummaryPart(summary);
        End();
        Begin("response.output_item.done");
        _json.WriteNumber("output_index", _reasoningIndex);
        _json.WritePropertyName("item");
        ResponsesWriter.WriteReasoningItem(_json, _ids.Reasoning, summary);
        End();
    }

    private void WriteSummaryPart(string text)
    {
        _json.WriteStartObject("part");
        _json.WriteString("type", "summary_text");
        _json.WriteString("text", text);
        _json.WriteEndObject();
    }

    private void WriteItemPosition(string itemId, int outputIndex)
    {
        _json.WriteString("item_id", itemId);
        _json.WriteNumber("output_index", outputIndex);
    }

    private void WriteResponseEvent(string type, string status, AnswerSummary? answer, Usage? usage, string? incompleteReason, ResponseError? error = null)
    {
        Begin(type);
        _json.WritePropertyName("response");
        ResponsesWriter.WriteResponse(_json, _echo, status, answer, answer is null ? null : _ids, usage, incompleteReason, error);
        End();
    }

    private void Begin(string type)
    {
        _json.Flush();
        _pipe.Write(EventPrefix);
        Encoding.UTF8.GetBytes(type, _pipe); // straight into the pipe, no array per event
        _pipe.Write(DataPrefix);
        _json.Reset(_pipe);
        _json.WriteStartObject();
        _json.WriteString("type", type);
        _json.WriteNumber("sequence_number", _sequence++);
    }

    private void End()
    {
        _json.WriteEndObject();
        _json.Flush();
        _pipe.Write(EventEnd);
    }
}
