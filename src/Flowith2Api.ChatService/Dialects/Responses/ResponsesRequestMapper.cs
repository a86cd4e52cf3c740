using Flowith2Api.ChatService.Sessions;

namespace Flowith2Api.ChatService.Dialects.Responses;

/// <summary>
/// Turns a Responses API request into the dialect-neutral conversation: <c>instructions</c> become the system message,
/// <c>input</c> (a string or message / function_call / function_call_output items) the turns, function tools the
/// emulated tools, <c>text.format</c> an output instruction. A stored previous response (resolved by the caller from
/// <c>previous_response_id</c>) comes between the instructions and the input.
/// </summary>
public static class ResponsesRequestMapper
{
    public static RequestError? TryMap(ResponsesRequest body, string? defaultModel, out ConversationRequest request) =>
        TryMap(body, defaultModel, null, out request, out _);

    /// <param name="previous">The stored response this one continues, if any.</param>
    /// <param name="history">What a response to this request continues from, before its answer is added.</param>
    public static RequestError? TryMap(ResponsesRequest body, string? defaultModel, ResponseContinuation? previous,
        out ConversationRequest request, out ResponseContinuation history)
    {
        request = null!;
        history = null!;
        if (body.MaxOutputTokens is < 1)
        {
            return new RequestError("'max_output_tokens' must be a positive integer.", "max_output_tokens");
        }

        if (RequestReading.CheckSampling(body.Temperature, body.TopP) is { } samplingError)
        {
            return samplingError;
        }

        if (body.Reasoning?.Effort is { } effort && effort is not ("none" or "minimal" or "low" or "medium" or "high"))
        {
            return new RequestError("'reasoning.effort' must be one of none, minimal, low, medium, high.", "reasoning.effort");
        }

        var formatError = RequestReading.ReadOutputFormat(body.Text?.Format, "text.format", schemaInside: null, out var format);
        if (formatError is not null)
        {
            return formatError;
        }

        var toolsError = ReadTools(body.Tools, out var tools, out var requestedServerTools);
        if (toolsError is not null)
        {
            return toolsError;
        }

        var choiceError = RequestReading.ReadToolChoice(body.ToolChoice, tools,
            "'tool_choice' must be none, auto, required or {\"type\":\"function\",\"name\"}.", nameInFunction: false, out var toolChoice);
        if (choiceError is not null)
        {
            return choiceError;
        }

        var messages = new List<ConversationMessage>();
        if (!string.IsNullOrEmpty(body.Instructions))
        {
            messages.Add(new ConversationMessage(ConversationRole.System, body.Instructions));
        }

        var historyStart = messages.Count;
        messages.AddRange(previous?.Turns.Select(t => t.ToMessage()) ?? []);
        var callNames = new Dictionary<string, string>(previous?.CallNames ?? new Dictionary<string, string>(), StringComparer.Ordinal);
        var inputError = ReadInput(body.Input, messages, callNames, requireInput: body.PreviousResponseId is null);
        if (inputError is not null)
        {
            return inputError;
        }

        history = new ResponseContinuation { Turns = [.. messages.Skip(historyStart).Select(StoredTurn.From)], CallNames = callNames };

        var model = RequestReading.PublicModel(body.Model, defaultModel);
        request = new ConversationRequest
        {
            Messages = messages,
            PublicModel = model,
            UpstreamModel = RequestReading.UpstreamModelOf(model),
            Stream = body.Stream == true,
            MaxTokens = body.MaxOutputTokens,
            Temperature = body.Temperature,
            TopP = body.TopP,
            Format = format,
            Tools = tools,
            RequestedServerTools = requestedServerTools,
            ToolChoice = toolChoice,
            ParallelToolCalls = body.ParallelToolCalls ?? true,
            WantsReasoning = body.Reasoning?.Effort is { } wanted && wanted is not ("none" or "minimal"),
        };
        return null;
    }

    private static RequestError? ReadInput(JsonElement? input, List<ConversationMessage> messages, Dictionary<string, string> callNames, bool requireInput)
    {
        if (input is not { } element || element.ValueKind == JsonValueKind.Null)
        {
            return requireInput ? new RequestError("'input' is required: a string or an array of input items.", "input", "missing_required_parameter") : null;
        }

        if (element.ValueKind == JsonValueKind.String)
        {
            messages.Add(new ConversationMessage(ConversationRole.User, element.GetString()!));
            return null;
        }

        if (element.ValueKind != JsonValueKind.Array)
        {
            return new RequestError("'input' must be a string or an array of input items.", "input");
        }

        if (element.GetArrayLength() == 0 && requireInput)
        {
            return new RequestError("'input' must contain at least one item.", "input");
        }

        var index = 0;
        var inputStart = messages.Count;
        foreach (var item in element.EnumerateArray())
        {
            var param = $"input[{index++}]";
            if (item.ValueKind != JsonValueKind.Object)
            {
                return new RequestError($"{param} must be an object (a message, function_call or function_call_output item).", param);
            }

            var type = item.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : "message";
            var error = type switch
            {
                "message" => ReadMessage(item, param, messages),
                "function_call" => ReadFunctionCall(item, param, messages, inputStart, callNames),
                "function_call_output" => ReadFunctionOutput(item, param, messages, callNames),
                "reasoning" => null, // earlier reasoning is not sent back upstream
                _ => new RequestError($"{param}.type '{RequestReading.Truncate(type)}' is not supported; use message, function_call or function_call_output.",
                    $"{param}.type"),
            };
            if (error is not null)
            {
                return error;
            }
        }

        return null;
    }

    private static RequestError? ReadMessage(JsonElement item, string param, List<ConversationMessage> messages)
    {
        var roleName = item.TryGetProperty("role", out var r) && r.ValueKind == JsonValueKind.String ? r.GetString() : null;
        if (OpenAIContentParts.ReadRole(roleName, param, toolRoles: false, out var role) is { } roleError)
        {
            return roleError;
        }

        JsonElement? content = item.TryGetProperty("content", out var c) ? c : null;
        if (content is null || content.Value.ValueKind == JsonValueKind.Null)
        {
            return new RequestError($"{param}.content is required.", $"{param}.content", "missing_required_parameter");
        }

        var error = OpenAIContentParts.ReadContent(content, $"{param}.content", out var parts);
        if (error is not null)
        {
            return error;
        }

        messages.Add(new ConversationMessage(role, parts));
        return null;
    }

    private static RequestError? ReadFunctionCall(JsonElement item, string param, List<ConversationMessage> messages, int inputStart,
        Dictionary<string, string> callNames)
    {
        if (!item.TryGetProperty("name", out var name) || name.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(name.GetString()))
        {
            return new RequestError($"{param}.name is required.", $"{param}.name", "missing_required_parameter");
        }

        var arguments = item.TryGetProperty("arguments", out var a) && a.ValueKind == JsonValueKind.String ? a.GetString()! : "{}";
        string? callId = null;
        if (item.TryGetProperty("call_id", out var id) && id.ValueKind == JsonValueKind.String)
        {
            callId = id.GetString()!;
            callNames[callId] = name.GetString()!;
        }

        var call = new ToolCallPart(callId, name.GetString()!, arguments);
        if (messages.Count > 0 && messages.Count - 1 < inputStart && messages[^1].Role == ConversationRole.Assistant
            && messages[^1].Parts.OfType<ToolCallPart>().Any(p => p.Name == call.Name && p.ArgumentsJson == call.ArgumentsJson))
        {
            return null; // the previous response's own call, sent again with its output
        }

        // Consecutive calls of one assistant turn stay in one assistant message, as the upstream saw them.
        if (messages.Count > inputStart && messages[^1].Role == ConversationRole.Assistant)
        {
            messages[^1] = messages[^1] with { Parts = [.. messages[^1].Parts, call] };
        }
        else
        {
            messages.Add(new ConversationMessage(ConversationRole.Assistant, [call]));
        }

        return null;
    }

    private static RequestError? ReadFunctionOutput(JsonElement item, string param, List<ConversationMessage> messages, Dictionary<string, string> callNames)
    {
        if (!item.TryGetProperty("call_id", out var id) || id.ValueKind != JsonValueKind.String)
        {
            return new RequestError($"{param}.call_id is required.", $"{param}.call_id", "missing_required_parameter");
        }

        List<ContentPart> output;
        if (item.TryGetProperty("output", out var o) && o.ValueKind == JsonValueKind.String)
        {
            output = [new TextPart(o.GetString()!)];
        }
        else if (item.TryGetProperty("output", out o) && o.ValueKind == JsonValueKind.Array)
        {
            var error = OpenAIContentParts.ReadContent(o, $"{param}.output", out output);
            if (error is not null)
            {
                return error;
            }
        }
        else
        {
            return new RequestError($"{param}.output is required (a string or content parts).", $"{param}.output", "missing_required_parameter");
        }

        var callId = id.GetString()!;
        messages.Add(new ConversationMessage(ConversationRole.Tool,
            [new ToolResultPart(callId, callNames.TryGetValue(callId, out var name) ? name : null, output)]));
        return null;
    }

    /// <summary>
    /// Function tools (<c>{"type":"function","name","description","parameters"}</c>), also grouped in a namespace
    /// (<c>{"type":"namespace","name","description","tools":[…]}</c>, as the Codex CLI sends them: offered by their own
    /// names, and a call names its namespace again). The hosted <c>web_search</c> tool is accepted and left to the server
    /// tools (a web search when they are enabled); other hosted tools are refused.
    /// </summary>
    private static RequestError? ReadTools(JsonElement? source, out IReadOnlyList<ToolDefinition> tools, out IReadOnlySet<string> requestedServerTools)
    {
        var list = new List<ToolDefinition>();
        var requested = ServerToolNames.None;
        var error = RequestReading.ReadArray(source, "tools", "'tools' must be an array of function tools.", (tool, index) =>
        {
            var param = $"tools[{index}]";
            var type = TypeOf(tool);
            if (type == "web_search" || type?.StartsWith("web_search_", StringComparison.Ordinal) == true) // _preview and dated versions
            {
                requested = ServerToolNames.With(requested, ServerToolNames.WebSearch);
                return null;
            }

            return type switch
            {
                "function" => ReadFunctionTool(tool, param, list),
                "namespace" => ReadNamespace(tool, param, list),
                _ => new RequestError(
                    $"{param} must be {{\"type\":\"function\",\"name\",\"description\",\"parameters\"}} or a namespace of them; hosted tools ('{RequestReading.Truncate(type)}') are not available.",
                    param, "unsupported_parameter"),
            };
        });
        tools = list;
        requestedServerTools = requested;
        return error;
    }

    private static string? TypeOf(JsonElement tool) =>
        tool.ValueKind == JsonValueKind.Object && tool.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;

    private static RequestError? ReadFunctionTool(JsonElement tool, string param, List<ToolDefinition> list)
    {
        if (RequestReading.ReadFunction(tool, param, out var definition) is { } functionError)
        {
            return functionError;
        }

        if (list.Any(d => d.Name == definition.Name))
        {
            return new RequestError($"{param}: a tool named '{definition.Name}' is already defined; tool names must be unique.", param);
        }

        list.Add(definition);
        return null;
    }

    private static RequestError? ReadNamespace(JsonElement tool, string param, List<ToolDefinition> list)
    {
        if (!tool.TryGetProperty("name", out var name) || name.ValueKind != JsonValueKind.String
            || !tool.TryGetProperty("tools", out var inner) || inner.ValueKind != JsonValueKind.Array)
        {
            return new RequestError($"{param} must be {{\"type\":\"namespace\",\"name\",\"description\",\"tools\":[function tools]}}.", param);
        }

        var index = 0;
        foreach (var function in inner.EnumerateArray())
        {
            var innerParam = $"{param}.tools[{index++}]";
            if (TypeOf(function) != "function")
            {
                return new RequestError($"{innerParam} must be a function tool; '{RequestReading.Truncate(TypeOf(function))}' tools are not available.",
                    innerParam, "unsupported_parameter");
            }

            if (ReadFunctionTool(function, innerParam, list) is { } error)
            {
                return error;
            }
        }

        return null;
    }

    /// <summary>The namespace a requested tool was declared in (what a <c>function_call</c> item names again), if any.</summary>
    public static string? NamespaceOf(JsonElement? tools, string toolName)
    {
        if (tools is not { ValueKind: JsonValueKind.Array } list)
        {
            return null;
        }

        foreach (var tool in list.EnumerateArray())
        {
            if (TypeOf(tool) == "namespace" && tool.TryGetProperty("tools", out var inner) && inner.ValueKind == JsonValueKind.Array
                && tool.TryGetProperty("name", out var name) && name.ValueKind == JsonValueKind.String)
            {
                foreach (var function in inner.EnumerateArray())
                {
                    if (function.ValueKind == JsonValueKind.Object && function.TryGetProperty("name", out var functionName)
                        && functionName.ValueKind == JsonValueKind.String && functionName.ValueEquals(toolName))
                    {
                        return name.GetString();
                    }
                }
            }
        }

        return null;
    }


}
