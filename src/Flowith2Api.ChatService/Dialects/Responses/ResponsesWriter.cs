namespace Flowith2Api.ChatService.Dialects.Responses;

/// <summary>What a response object repeats of its request (the Responses API echoes the parameters back).</summary>
public sealed record ResponseEcho(string Id, long CreatedAt, string Model, ResponsesRequest Request);

/// <summary>Why a response failed (its <c>error</c> object).</summary>
public sealed record ResponseError(string Code, string Message);

/// <summary>Writes Responses API objects: the <c>response</c> and its output items.</summary>
public static class ResponsesWriter
{
    public static string NewId(string prefix) => prefix + "_" + Guid.NewGuid().ToString("N");

    /// <summary>
    /// A <c>response</c> object. <paramref name="answer"/> null: no output yet (the <c>response.created</c> of a
    /// stream); <paramref name="incompleteReason"/>: status <c>incomplete</c> with that reason; <paramref name="error"/>:
    /// why a <c>failed</c> response failed.
    /// </summary>
    public static void WriteResponse(Utf8JsonWriter json, ResponseEcho echo, string status, AnswerSummary? answer, ResponseOutputIds? ids,
        Usage? usage, string? incompleteReason, ResponseError? error = null)
    {
        var request = echo.Request;
        json.WriteStartObject();
        json.WriteString("id", echo.Id);
        json.WriteString("object", "response");
        json.WriteNumber("created_at", echo.CreatedAt);
        json.WriteString("status", status);
        if (error is null)
        {
            json.WriteNull("error");
        }
        else
        {
            json.WriteStartObject("error");
            json.WriteString("code", error.Code);
            json.WriteString("message", error.Message);
            json.WriteEndObject();
        }

        if (incompleteReason is null)
        {
            json.WriteNull("incomplete_details");
        }
        else
        {
            json.WriteStartObject("incomplete_details");
            json.WriteString("reason", incompleteReason);
            json.WriteEndObject();
        }

        WriteStringOrNull(json, "instructions", request.Instructions);
        WriteNumberOrNull(json, "max_output_tokens", request.MaxOutputTokens);
        json.WriteString("model", echo.Model);
        json.WriteStartArray("output");
        if (answer is not null && ids is not null)
        {
            WriteOutputItems(json, answer, ids, request.Tools);
        }

        json.WriteEndArray();
        json.WriteBoolean("parallel_tool_calls", request.ParallelToolCalls ?? true);
        WriteStringOrNull(json, "previous_response_id", request.PreviousResponseId);
        json.WriteStartObject("reasoning");
        WriteStringOrNull(json, "effort", request.Reasoning?.Effort);
        WriteStringOrNull(json, "summary", request.Reasoning?.Summary);
        json.WriteEndObject();
        json.WriteBoolean("store", request.Store ?? true);
        WriteNumberOrNull(json, "temperature", request.Temperature);
        json.WriteStartObject("text");
        json.WritePropertyName("format");
        if (request.Text?.Format is { ValueKind: JsonValueKind.Object } format)
        {
            format.WriteTo(json);
        }
        else
        {
            json.WriteStartObject();
            json.WriteString("type", "text");
            json.WriteEndObject();
        }

        json.WriteEndObject();
        json.WritePropertyName("tool_choice");
        if (request.ToolChoice is { ValueKind: JsonValueKind.String or JsonValueKind.Object } choice)
        {
            choice.WriteTo(json);
        }
        else
        {
            json.WriteStringValue("auto");
        }

        json.WritePropertyName("tools");
        if (request.Tools is { ValueKind: JsonValueKind.Array } tools)
        {
            tools.WriteTo(json);
        }
        else
        {
            json.WriteStartArray();
            json.WriteEndArray();
        }

        WriteNumberOrNull(json, "top_p", request.TopP);
        json.WriteString("truncation", "disabled");
        if (usage is { } u)
        {
            WriteUsage(json, u);
        }
        else
        {
            json.WriteNull("usage");
        }

        WriteStringOrNull(json, "user", request.User);
        json.WriteStartObject("metadata");
        foreach (var (key, value) in request.Metadata ?? [])
        {
            json.WriteString(key, value);
        }

        json.WriteEndObject();
        json.WriteEndObject();
    }

    /// <summary>The output items of a finished answer: reasoning (from &lt;think&gt;), the message, the function calls.</summary>
    /// <summary>A whole response object as UTF-8 JSON (what is stored, and what a non-streaming request gets).</summary>
    public static ReadOnlyMemory<byte> Render(ResponseEcho echo, string status, AnswerSummary? answer, ResponseOutputIds? ids, Usage? usage,
        string? incompleteReason, ResponseError? error = null)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer))
        {
            WriteResponse(json, echo, status, answer, ids, usage, incompleteReason, error);
        }

        return buffer.WrittenMemory;
    }

    public static void WriteOutputItems(Utf8JsonWriter json, AnswerSummary answer, ResponseOutputIds ids, JsonElement? requestedTools)
    {
        if (answer.Reasoning.Length > 0)
        {
            WriteReasoningItem(json, ids.Reasoning, answer.Reasoning);
        }

        if (answer.Text.Length > 0 || answer.ToolCalls.Count == 0)
        {
            WriteMessageItem(json, ids.Message, "completed", answer.Text);
        }

        foreach (var call in answer.ToolCalls)
        {
            WriteFunctionCallItem(json, ids.FunctionCall(call), "completed", call, ResponsesRequestMapper.NamespaceOf(requestedTools, call.Name));
        }
    }

    public static void WriteReasoningItem(Utf8JsonWriter json, string id, string? summary)
    {
        json.WriteStartObject();
        json.WriteString("id", id);
        json.WriteString("type", "reasoning");
        json.WriteStartArray("summary");
        if (summary is not null)
        {
            json.WriteStartObject();
            json.WriteString("type", "summary_text");
            json.WriteString("text", summary);
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteEndObject();
    }

    /// <summary>An assistant message item; <paramref name="text"/> null: no content part yet.</summary>
    public static void WriteMessageItem(Utf8JsonWriter json, string id, string status, string? text)
    {
        json.WriteStartObject();
        json.WriteString("id", id);
        json.WriteString("type", "message");
        json.WriteString("status", status);
        json.WriteString("role", "assistant");
        json.WriteStartArray("content");
        if (text is not null)
        {
            WriteOutputText(json, text);
        }

        json.WriteEndArray();
        json.WriteEndObject();
    }

    public static void WriteOutputText(Utf8JsonWriter json, string text)
    {
        json.WriteStartObject();
        json.WriteString("type", "output_text");
        json.WriteString("text", text);
        json.WriteStartArray("annotations");
        json.WriteEndArray();
        json.WriteStartArray("logprobs");
        json.WriteEndArray();
        json.WriteEndObject();
    }

    /// <param name="ns">The namespace the tool was declared in (then named again in the call), or null.</param>
    public static void WriteFunctionCallItem(Utf8JsonWriter json, string id, string status, ToolCall call, string? ns)
    {
        json.WriteStartObject();
        json.WriteString("id", id);
        json.WriteString("type", "function_call");
        json.WriteString("status", status);
        json.WriteString("call_id", call.Id);
        if (ns is not null)
        {
            json.WriteString("namespace", ns);
        }

        json.WriteString("name", call.Name);
        json.WriteString("arguments", call.ArgumentsJson);
        json.WriteEndObject();
    }

    public static void WriteUsage(Utf8JsonWriter json, Usage usage)
    {
        json.WriteStartObject("usage");
        json.WriteNumber("input_tokens", usage.InputTokens);
        json.WriteStartObject("input_tokens_details");
        json.WriteNumber("cached_tokens", 0);
        json.WriteEndObject();
        json.WriteNumber("output_tokens", usage.OutputTokens);
        json.WriteStartObject("output_tokens_details");
        json.WriteNumber("reasoning_tokens", usage.ReasoningTokens);
        json.WriteEndObject();
        json.WriteNumber("total_tokens", usage.TotalTokens);
        json.WriteEndObject();
    }

    internal static void WriteStringOrNull(Utf8JsonWriter json, string name, string? value)
    {
        if (value is null)
        {
            json.WriteNull(name);
        }
        else
        {
            json.WriteString(name, value);
        }
    }

    private static void WriteNumberOrNull(Utf8JsonWriter json, string name, double? value)
    {
        if (value is { } number)
        {
            json.WriteNumber(name, number);
        }
        else
        {
            json.WriteNull(name);
        }
    }
}

/// <summary>The ids of one response's output items, fixed once so a stream and its final object agree.</summary>
public sealed class ResponseOutputIds
{
    private readonly Dictionary<string, string> _calls = new(StringComparer.Ordinal);

    public string Reasoning { get; } = ResponsesWriter.NewId("rs");

    public string Message { get; } = ResponsesWriter.NewId("msg");

    public string FunctionCall(ToolCall call)
    {
        if (!_calls.TryGetValue(call.Id, out var id))
        {
            id = ResponsesWriter.NewId("fc");
            _calls[call.Id] = id;
        }

        return id;
    }
}
