using System.Text;

namespace Flowith2Api.ChatService.Dialects.Responses;

/// <summary>
/// One Responses API event stream (<c>event: response.…</c> / <c>data: {…}</c>), every event numbered by
/// <c>sequence_number</c>: created, in_progress, then per output item added → parts and deltas → done, then
/// completed (or incomplete, or an <c>error</c> event followed by failed).
/// </summary>
public sealed class ResponsesStreamWriter : SseEventWriter, IAnswerEventWriter
{

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
        : base(response)
    {
        _echo = echo;
    }

    public ResponseOutputIds Ids => _ids;

    /// <summary>response.created and response.in_progress.</summary>
    public ValueTask<FlushResult> StartAsync(CancellationToken cancellationToken)
    {
        WriteResponseEvent("response.created", "in_progress", null, null, null);
        WriteResponseEvent("response.in_progress", "in_progress", null, null, null);
        return Pipe.FlushAsync(cancellationToken);
    }

    public ValueTask<FlushResult> WriteReasoningAsync(string text, CancellationToken cancellationToken)
    {
        if (!_reasoningOpen)
        {
            CloseMessage();
            _reasoningOpen = true;
            _reasoningIndex = _nextOutputIndex++;
            Begin("response.output_item.added");
            Json.WriteNumber("output_index", _reasoningIndex);
            Json.WritePropertyName("item");
            ResponsesWriter.WriteReasoningItem(Json, _ids.Reasoning, null);
            End();
            Begin("response.reasoning_summary_part.added");
            WriteItemPosition(_ids.Reasoning, _reasoningIndex);
            Json.WriteNumber("summary_index", 0);
            WriteSummaryPart("");
            End();
        }

        _reasoning.Append(text);
        Begin("response.reasoning_summary_text.delta");
        WriteItemPosition(_ids.Reasoning, _reasoningIndex);
        Json.WriteNumber("summary_index", 0);
        Json.WriteString("delta", text);
        End();
        return Pipe.FlushAsync(cancellationToken);
    }

    public ValueTask<FlushResult> WriteTextAsync(string text, CancellationToken cancellationToken)
    {
        OpenMessage();
        _text.Append(text);
        Begin("response.output_text.delta");
        WriteItemPosition(_ids.Message, _messageIndex);
        Json.WriteNumber("content_index", 0);
        Json.WriteString("delta", text);
        Json.WriteStartArray("logprobs");
        Json.WriteEndArray();
        End();
        return Pipe.FlushAsync(cancellationToken);
    }

    ValueTask<FlushResult> IAnswerEventWriter.WriteToolCallAsync(ToolCall toolCall, CancellationToken cancellationToken) => WriteFunctionCallAsync(toolCall, cancellationToken);

    public ValueTask<FlushResult> WriteFunctionCallAsync(ToolCall call, CancellationToken cancellationToken)
    {
        CloseReasoning();
        CloseMessage();
        var id = _ids.FunctionCall(call);
        var ns = ResponsesRequestMapper.NamespaceOf(_echo.Request.Tools, call.Name);
        var index = _nextOutputIndex++;
        Begin("response.output_item.added");
        Json.WriteNumber("output_index", index);
        Json.WritePropertyName("item");
        ResponsesWriter.WriteFunctionCallItem(Json, id, "in_progress", call with { ArgumentsJson = "" }, ns);
        End();
        Begin("response.function_call_arguments.delta");
        WriteItemPosition(id, index);
        Json.WriteString("delta", call.ArgumentsJson);
        End();
        Begin("response.function_call_arguments.done");
        WriteItemPosition(id, index);
        Json.WriteString("name", call.Name);
        Json.WriteString("arguments", call.ArgumentsJson);
        End();
        Begin("response.output_item.done");
        Json.WriteNumber("output_index", index);
        Json.WritePropertyName("item");
        ResponsesWriter.WriteFunctionCallItem(Json, id, "completed", call, ns);
        End();
        return Pipe.FlushAsync(cancellationToken);
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
        return Pipe.FlushAsync(cancellationToken);
    }

    /// <summary>After the first byte a failure is an <c>error</c> event, then response.failed.</summary>
    public ValueTask<FlushResult> FailAsync(string code, string message, CancellationToken cancellationToken)
    {
        Begin("error");
        Json.WriteString("code", code);
        Json.WriteString("message", message);
        Json.WriteNull("param");
        End();
        WriteResponseEvent("response.failed", "failed", null, null, null, new ResponseError(code, message));
        return Pipe.FlushAsync(cancellationToken);
    }

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
        Json.WriteNumber("output_index", _messageIndex);
        Json.WritePropertyName("item");
        ResponsesWriter.WriteMessageItem(Json, _ids.Message, "in_progress", null);
        End();
        Begin("response.content_part.added");
        WriteItemPosition(_ids.Message, _messageIndex);
        Json.WriteNumber("content_index", 0);
        Json.WritePropertyName("part");
        ResponsesWriter.WriteOutputText(Json, "");
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
        Json.WriteNumber("content_index", 0);
        Json.WriteString("text", text);
        Json.WriteStartArray("logprobs");
        Json.WriteEndArray();
        End();
        Begin("response.content_part.done");
        WriteItemPosition(_ids.Message, _messageIndex);
        Json.WriteNumber("content_index", 0);
        Json.WritePropertyName("part");
        ResponsesWriter.WriteOutputText(Json, text);
        End();
        Begin("response.output_item.done");
        Json.WriteNumber("output_index", _messageIndex);
        Json.WritePropertyName("item");
        ResponsesWriter.WriteMessageItem(Json, _ids.Message, "completed", text);
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
        Json.WriteNumber("summary_index", 0);
        Json.WriteString("text", summary);
        End();
        Begin("response.reasoning_summary_part.done");
        WriteItemPosition(_ids.Reasoning, _reasoningIndex);
        Json.WriteNumber("summary_index", 0);
        WriteSummaryPart(summary);
        End();
        Begin("response.output_item.done");
        Json.WriteNumber("output_index", _reasoningIndex);
        Json.WritePropertyName("item");
        ResponsesWriter.WriteReasoningItem(Json, _ids.Reasoning, summary);
        End();
    }

    private void WriteSummaryPart(string text)
    {
        Json.WriteStartObject("part");
        Json.WriteString("type", "summary_text");
        Json.WriteString("text", text);
        Json.WriteEndObject();
    }

    private void WriteItemPosition(string itemId, int outputIndex)
    {
        Json.WriteString("item_id", itemId);
        Json.WriteNumber("output_index", outputIndex);
    }

    private void WriteResponseEvent(string type, string status, AnswerSummary? answer, Usage? usage, string? incompleteReason, ResponseError? error = null)
    {
        Begin(type);
        Json.WritePropertyName("response");
        ResponsesWriter.WriteResponse(Json, _echo, status, answer, answer is null ? null : _ids, usage, incompleteReason, error);
        End();
    }

    private void Begin(string type)
    {
        Json.Flush();
        BeginEvent(type);
        Json.WriteStartObject();
        Json.WriteString("type", type);
        Json.WriteNumber("sequence_number", _sequence++);
    }

    private void End()
    {
        Json.WriteEndObject();
        EndEvent();
    }
}
