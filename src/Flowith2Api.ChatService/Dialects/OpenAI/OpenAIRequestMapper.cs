using static Flowith2Api.ChatService.Conversation.RequestReading;

namespace Flowith2Api.ChatService.Dialects.OpenAI;

/// <summary>OpenAI chat completions request → conversation request. Pure; validates as it maps.</summary>
public static class OpenAIRequestMapper
{
    public static RequestError? TryMap(OpenAIChatRequest body, string? defaultModel, out ConversationRequest request)
    {
        request = null!;
        if (body.Messages is null)
        {
            return new RequestError("'messages' is required: an array of {role, content} objects.", "messages", "missing_required_parameter");
        }

        if (body.Messages.Count == 0)
        {
            return new RequestError("'messages' must contain at least one message.", "messages");
        }

        if (body.N is > 1)
        {
            return new RequestError("'n' greater than 1 is not supported: the upstream returns one answer per request.", "n", "unsupported_parameter");
        }

        if (body.N is < 1)
        {
            return new RequestError("'n' must be at least 1.", "n");
        }

        var maxTokens = body.MaxCompletionTokens ?? body.MaxTokens;
        if (maxTokens is < 1)
        {
            return new RequestError("'max_tokens' must be a positive integer.", body.MaxCompletionTokens is null ? "max_tokens" : "max_completion_tokens");
        }

        if (CheckSampling(body.Temperature, body.TopP) is { } samplingError)
        {
            return samplingError;
        }

        var stopError = ReadStop(body.Stop, out var stop);
        if (stopError is not null)
        {
            return stopError;
        }

        var formatError = ReadOutputFormat(body.ResponseFormat, "response_format", schemaInside: "json_schema", out var format);
        if (formatError is not null)
        {
            return formatError;
        }

        var toolsError = ReadTools(body.Tools, out var tools);
        if (toolsError is not null)
        {
            return toolsError;
        }

        var choiceError = ReadToolChoice(body.ToolChoice, tools,
            "'tool_choice' must be none, auto, required or {\"type\":\"function\",\"function\":{\"name\"}}.", nameInFunction: true, out var toolChoice);
        if (choiceError is not null)
        {
            return choiceError;
        }

        var callNames = new Dictionary<string, string>(StringComparer.Ordinal);
        var messages = new List<ConversationMessage>(body.Messages.Count);
        for (var i = 0; i < body.Messages.Count; i++)
        {
            var error = MapMessage(body.Messages[i], i, callNames, out var message);
            if (error is not null)
            {
                return error;
            }

            messages.Add(message);
        }

        var model = PublicModel(body.Model, defaultModel);
        request = new ConversationRequest
        {
            Messages = messages,
            PublicModel = model,
            UpstreamModel = UpstreamModelOf(model),
            Stream = body.Stream == true,
            MaxTokens = maxTokens,
            Temperature = body.Temperature,
            TopP = body.TopP,
            Stop = stop,
            Format = format,
            Tools = tools,
            RequestedServerTools = body.WebSearchOptions is { ValueKind: JsonValueKind.Object } ? ServerToolNames.WebSearchOnly : ServerToolNames.None,
            ToolChoice = toolChoice,
            ParallelToolCalls = body.ParallelToolCalls ?? true,
            WantsReasoning = body.ReasoningEffort is { } effort && effort is not ("none" or "minimal"),
        };
        return null;
    }

    private static RequestError? MapMessage(OpenAIChatMessage? source, int index, Dictionary<string, string> callNames, out ConversationMessage message)
    {
        message = null!;
        var param = $"messages[{index}]";
        if (source is null)
        {
            return new RequestError($"{param} must be an object with 'role' and 'content'.", param);
        }

        if (OpenAIContentParts.ReadRole(source.Role, param, toolRoles: true, out var role) is { } roleError)
        {
            return roleError;
        }

        var contentError = OpenAIContentParts.ReadContent(source.Content, $"{param}.content", out var parts);
        if (contentError is not null)
        {
            return contentError;
        }

        if (role == ConversationRole.Assistant && source.ToolCalls is { ValueKind: JsonValueKind.Array } calls && calls.GetArrayLength() > 0)
        {
            var callsError = ReadToolCalls(calls, $"{param}.tool_calls", callNames, parts);
            if (callsError is not null)
            {
                return callsError;
            }
        }

        if (role == ConversationRole.Tool)
        {
            var id = source.ToolCallId;
            parts = [new ToolResultPart(id, id is not null && callNames.TryGetValue(id, out var name) ? name : source.Name, parts)];
        }

        if (role is ConversationRole.User or ConversationRole.System && parts.Count == 0 && source.Content is null)
        {
            return new RequestError($"{param}.content is required for the {source.Role} role.", $"{param}.content", "missing_required_parameter");
        }

        message = new ConversationMessage(role, parts);
        return null;
    }

    /// <summary>An assistant's earlier tool calls, after its text.</summary>
    private static RequestError? ReadToolCalls(JsonElement calls, string param, Dictionary<string, string> callNames, List<ContentPart> parts)
    {
        var index = 0;
        foreach (var call in calls.EnumerateArray())
        {
            var callParam = $"{param}[{index++}]";
            if (call.ValueKind != JsonValueKind.Object || !call.TryGetProperty("function", out var function) || function.ValueKind != JsonValueKind.Object
                || !function.TryGetProperty("name", out var name) || name.ValueKind != JsonValueKind.String)
            {
                return new RequestError($"{callParam} must be {{\"id\", \"type\":\"function\", \"function\":{{\"name\", \"arguments\"}}}}.", callParam);
            }

            var arguments = function.TryGetProperty("arguments", out var a) && a.ValueKind == JsonValueKind.String ? a.GetString()! : "{}";
            string? id = null;
            if (call.TryGetProperty("id", out var idElement) && idElement.ValueKind == JsonValueKind.String)
            {
                id = idElement.GetString()!;
                callNames[id] = name.GetString()!;
            }

            parts.Add(new ToolCallPart(id, name.GetString()!, arguments));
        }

        return null;
    }

    /// <summary><c>tools</c>: function tools with a name and an optional description and parameters schema.</summary>
    private static RequestError? ReadTools(JsonElement? source, out IReadOnlyList<ToolDefinition> tools)
    {
        var list = new List<ToolDefinition>();
        tools = list;
        return ReadArray(source, "tools", "'tools' must be an array of function tools.", (tool, index) =>
        {
            var param = $"tools[{index}]";
            if (tool.ValueKind != JsonValueKind.Object || !tool.TryGetProperty("function", out var function) || function.ValueKind != JsonValueKind.Object)
            {
                return new RequestError($"{param} must be {{\"type\":\"function\",\"function\":{{\"name\",\"description\",\"parameters\"}}}}.", param);
            }

            if (ReadFunction(function, $"{param}.function", out var definition) is { } functionError)
            {
                return functionError;
            }

            list.Add(definition);
            return null;
        });
    }












    private static RequestError? ReadStop(JsonElement? stop, out IReadOnlyList<string> result)
    {
        result = [];
        if (stop is not { } element || element.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (element.ValueKind == JsonValueKind.String)
        {
            result = [element.GetString()!];
            return null;
        }

        if (element.ValueKind != JsonValueKind.Array || element.GetArrayLength() > 4)
        {
            return new RequestError("'stop' must be a string or an array of at most 4 strings.", "stop");
        }

        var list = new List<string>();
        foreach (var item in element.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.String)
            {
                return new RequestError("'stop' must be a string or an array of at most 4 strings.", "stop");
            }

            list.Add(item.GetString()!);
        }

        result = list;
        return null;
    }

}
