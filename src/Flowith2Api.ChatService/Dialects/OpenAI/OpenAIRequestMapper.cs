using System.Text;
using System.Text.Json;
using Flowith2Api.ChatService.Conversation;
using Flowith2Api.ChatService.Tools;

namespace Flowith2Api.ChatService.Dialects.OpenAI;

/// <summary>A request the client must fix: a 400 naming the offending field.</summary>
public sealed record RequestError(string Message, string? Param, string Code = "invalid_request_error");

/// <summary>OpenAI chat completions request → conversation request. Pure; validates as it maps.</summary>
public static class OpenAIRequestMapper
{
    public const string DefaultPublicModel = "flowith";

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

        var formatError = ReadResponseFormat(body.ResponseFormat, out var format);
        if (formatError is not null)
        {
            return formatError;
        }

        var toolsError = ReadTools(body.Tools, out var tools);
        if (toolsError is not null)
        {
            return toolsError;
        }

        var choiceError = ReadToolChoice(body.ToolChoice, tools, out var toolChoice);
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

        ConversationRole role;
        switch (source.Role)
        {
            case "system" or "developer":
                role = ConversationRole.System;
                break;
            case "user":
                role = ConversationRole.User;
                break;
            case "assistant":
                role = ConversationRole.Assistant;
                break;
            case "tool" or "function":
                role = ConversationRole.Tool;
                break;
            case null:
                return new RequestError($"{param}.role is required.", $"{param}.role", "missing_required_parameter");
            default:
                return new RequestError($"{param}.role '{Truncate(source.Role)}' is not one of system, developer, user, assistant, tool.", $"{param}.role");
        }

        var textError = FlattenContent(source.Content, $"{param}.content", out var text);
        if (textError is not null)
        {
            return textError;
        }

        if (role == ConversationRole.Assistant && source.ToolCalls is { ValueKind: JsonValueKind.Array } calls && calls.GetArrayLength() > 0)
        {
            var callsError = RenderToolCalls(calls, $"{param}.tool_calls", callNames, ref text);
            if (callsError is not null)
            {
                return callsError;
            }
        }

        if (role == ConversationRole.Tool)
        {
            var id = source.ToolCallId;
            text = ToolCallFormat.RenderResult(id is not null && callNames.TryGetValue(id, out var name) ? name : source.Name, id, text, isError: false);
        }

        if (role is ConversationRole.User or ConversationRole.System && text.Length == 0 && source.Content is null)
        {
            return new RequestError($"{param}.content is required for the {source.Role} role.", $"{param}.content", "missing_required_parameter");
        }

        message = new ConversationMessage(role, text);
        return null;
    }

    /// <summary>An assistant's earlier tool calls, written back in the call format the upstream was asked to use.</summary>
    private static RequestError? RenderToolCalls(JsonElement calls, string param, Dictionary<string, string> callNames, ref string text)
    {
        var builder = new StringBuilder(text);
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
            if (call.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.String)
            {
                callNames[id.GetString()!] = name.GetString()!;
            }

            if (builder.Length > 0)
            {
                builder.Append('\n');
            }

            builder.Append(ToolCallFormat.RenderCall(name.GetString()!, arguments));
        }

        text = builder.ToString();
        return null;
    }

    /// <summary><c>tools</c>: function tools with a name and an optional description and parameters schema.</summary>
    private static RequestError? ReadTools(JsonElement? source, out IReadOnlyList<ToolDefinition> tools)
    {
        tools = [];
        if (source is not { } element || element.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (element.ValueKind != JsonValueKind.Array)
        {
            return new RequestError("'tools' must be an array of function tools.", "tools");
        }

        var list = new List<ToolDefinition>();
        var index = 0;
        foreach (var tool in element.EnumerateArray())
        {
            var param = $"tools[{index++}]";
            if (tool.ValueKind != JsonValueKind.Object || !tool.TryGetProperty("function", out var function) || function.ValueKind != JsonValueKind.Object)
            {
                return new RequestError($"{param} must be {{\"type\":\"function\",\"function\":{{\"name\",\"description\",\"parameters\"}}}}.", param);
            }

            if (ReadFunction(function, $"{param}.function", out var definition) is { } functionError)
            {
                return functionError;
            }

            list.Add(definition);
        }

        tools = list;
        return null;
    }

    /// <summary><c>tool_choice</c>: none, auto, required, or one named function.</summary>
    private static RequestError? ReadToolChoice(JsonElement? source, IReadOnlyList<ToolDefinition> tools, out ToolChoice choice)
    {
        choice = ToolChoice.Auto;
        if (source is not { } element || element.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        const string Shape = "'tool_choice' must be none, auto, required or {\"type\":\"function\",\"function\":{\"name\"}}.";
        if (element.ValueKind == JsonValueKind.String)
        {
            return ReadToolChoiceMode(element.GetString(), tools, Shape, out choice);
        }

        if (element.ValueKind == JsonValueKind.Object && element.TryGetProperty("function", out var function)
            && function.ValueKind == JsonValueKind.Object && function.TryGetProperty("name", out var name) && name.ValueKind == JsonValueKind.String)
        {
            return NamedToolChoice(name.GetString()!, tools, out choice);
        }

        return new RequestError(Shape, "tool_choice");
    }

    /// <summary>The model asked for, else the configured default, else the upstream's default ("flowith").</summary>
    internal static string PublicModel(string? requested, string? defaultModel) =>
        string.IsNullOrWhiteSpace(requested) ? (string.IsNullOrWhiteSpace(defaultModel) ? DefaultPublicModel : defaultModel) : requested.Trim();

    /// <summary>The upstream model id for a public name; null (the upstream's default) for "flowith".</summary>
    internal static string? UpstreamModelOf(string publicModel) =>
        string.Equals(publicModel, DefaultPublicModel, StringComparison.OrdinalIgnoreCase) ? null : publicModel;

    /// <summary>OpenAI's sampling ranges: temperature 0–2, top_p 0–1.</summary>
    internal static RequestError? CheckSampling(double? temperature, double? topP)
    {
        if (temperature is < 0 or > 2 || (temperature is { } t && double.IsNaN(t)))
        {
            return new RequestError("'temperature' must be between 0 and 2.", "temperature");
        }

        if (topP is < 0 or > 1 || (topP is { } p && double.IsNaN(p)))
        {
            return new RequestError("'top_p' must be between 0 and 1.", "top_p");
        }

        return null;
    }

    /// <summary>A function's name (required), description and parameters schema, read from <paramref name="function"/>.</summary>
    internal static RequestError? ReadFunction(JsonElement function, string param, out ToolDefinition tool)
    {
        tool = null!;
        if (!function.TryGetProperty("name", out var name) || name.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(name.GetString()))
        {
            return new RequestError($"{param}.name is required.", $"{param}.name", "missing_required_parameter");
        }

        var description = function.TryGetProperty("description", out var d) && d.ValueKind == JsonValueKind.String ? d.GetString() : null;
        JsonElement? schema = function.TryGetProperty("parameters", out var p) && p.ValueKind == JsonValueKind.Object ? p.Clone() : null;
        tool = new ToolDefinition(name.GetString()!, description, schema);
        return null;
    }

    /// <summary><c>tool_choice</c> given as a string: auto, none or required; anything else is <paramref name="shape"/>.</summary>
    internal static RequestError? ReadToolChoiceMode(string? mode, IReadOnlyList<ToolDefinition> tools, string shape, out ToolChoice choice)
    {
        choice = ToolChoice.Auto;
        switch (mode)
        {
            case "auto":
                return null;
            case "none":
                choice = new ToolChoice(ToolChoiceMode.None);
                return null;
            case "required":
                choice = new ToolChoice(ToolChoiceMode.Required);
                return tools.Count == 0 ? new RequestError("'tool_choice' is 'required' but no tools are given.", "tool_choice") : null;
            default:
                return new RequestError(shape, "tool_choice");
        }
    }

    /// <summary><c>tool_choice</c> naming one function, which must be among the tools.</summary>
    internal static RequestError? NamedToolChoice(string wanted, IReadOnlyList<ToolDefinition> tools, out ToolChoice choice)
    {
        choice = ToolChoice.Auto;
        if (!tools.Any(t => t.Name == wanted))
        {
            return new RequestError($"'tool_choice' names the function '{Truncate(wanted)}', which is not in 'tools'.", "tool_choice");
        }

        choice = new ToolChoice(ToolChoiceMode.Specific, wanted);
        return null;
    }

    /// <summary>Content as a string, or parts (text, image_url, …) flattened to text for the seek API.</summary>
    internal static RequestError? FlattenContent(JsonElement? content, string param, out string text)
    {
        text = "";
        if (content is not { } element || element.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (element.ValueKind == JsonValueKind.String)
        {
            text = element.GetString() ?? "";
            return null;
        }

        if (element.ValueKind != JsonValueKind.Array)
        {
            return new RequestError($"{param} must be a string or an array of content parts.", param);
        }

        var builder = new StringBuilder();
        var index = 0;
        foreach (var part in element.EnumerateArray())
        {
            var partParam = $"{param}[{index++}]";
            if (part.ValueKind != JsonValueKind.Object || !part.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String)
            {
                return new RequestError($"{partParam} must be an object with a 'type'.", partParam);
            }

            switch (type.GetString())
            {
                case "text" or "input_text" or "output_text":
                    if (!part.TryGetProperty("text", out var partText) || partText.ValueKind != JsonValueKind.String)
                    {
                        return new RequestError($"{partParam}.text must be a string.", $"{partParam}.text");
                    }

                    if (builder.Length > 0)
                    {
                        builder.Append('\n');
                    }

                    builder.Append(partText.GetString());
                    break;
                case "image_url" or "input_image":
                    if (!HasImage(part, type.GetString()!))
                    {
                        return type.GetString() == "image_url"
                            ? new RequestError($"{partParam}.image_url must be {{\"url\": \"https://… or data:…\"}}.", $"{partParam}.image_url")
                            : new RequestError($"{partParam} needs an 'image_url' (a URL or data URL) or a 'file_id'.", $"{partParam}.image_url");
                    }

                    AppendPlaceholder(builder, "[image]");
                    break;
                case "input_audio" or "file" or "input_file":
                    if (!HasObjectOrString(part, type.GetString() == "input_audio" ? "input_audio" : "file")
                        && !HasObjectOrString(part, "file_id") && !HasObjectOrString(part, "file_data") && !HasObjectOrString(part, "file_url"))
                    {
                        return new RequestError($"{partParam} has no content: send its data or a file id.", partParam);
                    }

                    AppendPlaceholder(builder, "[file]");
                    break;
                default:
                    return new RequestError($"{partParam}.type '{Truncate(type.GetString())}' is not supported; use text or image_url.", $"{partParam}.type");
            }
        }

        text = builder.ToString();
        return null;
    }

    /// <summary>Chat's <c>{"image_url":{"url"}}</c> (or a bare URL string), Responses' <c>image_url</c> string or <c>file_id</c>.</summary>
    private static bool HasImage(JsonElement part, string type)
    {
        if (part.TryGetProperty("image_url", out var image))
        {
            if (image.ValueKind == JsonValueKind.String && image.GetString() is { Length: > 0 })
            {
                return true;
            }

            if (image.ValueKind == JsonValueKind.Object && image.TryGetProperty("url", out var url) && url.ValueKind == JsonValueKind.String
                && url.GetString() is { Length: > 0 })
            {
                return true;
            }
        }

        return type == "input_image" && part.TryGetProperty("file_id", out var file) && file.ValueKind == JsonValueKind.String && file.GetString() is { Length: > 0 };
    }

    private static bool HasObjectOrString(JsonElement part, string name) =>
        part.TryGetProperty(name, out var value) && (value.ValueKind == JsonValueKind.Object || (value.ValueKind == JsonValueKind.String && value.GetString() is { Length: > 0 }));

    private static void AppendPlaceholder(StringBuilder builder, string placeholder)
    {
        if (builder.Length > 0)
        {
            builder.Append('\n');
        }

        builder.Append(placeholder);
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

    /// <summary><c>response_format</c>: text, json_object, or json_schema (whose schema must be usable).</summary>
    private static RequestError? ReadResponseFormat(JsonElement? format, out OutputFormat result)
    {
        result = OutputFormat.Text;
        if (format is not { } element || element.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (element.ValueKind != JsonValueKind.Object || !element.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String)
        {
            return new RequestError("'response_format' must be an object with a 'type' of text, json_object or json_schema.", "response_format");
        }

        switch (type.GetString())
        {
            case "text":
                return null;
            case "json_object":
                result = OutputFormat.JsonObject;
                return null;
            case "json_schema":
                if (!element.TryGetProperty("json_schema", out var jsonSchema) || jsonSchema.ValueKind != JsonValueKind.Object
                    || !jsonSchema.TryGetProperty("schema", out var schema))
                {
                    return new RequestError("'response_format.json_schema.schema' is required for the json_schema type.", "response_format.json_schema");
                }

                return SchemaFormat(schema, "response_format.json_schema.schema", out result);
            default:
                return new RequestError($"'response_format.type' '{Truncate(type.GetString())}' is not one of text, json_object, json_schema.", "response_format.type");
        }
    }

    /// <summary>A json_schema format whose schema can be checked against; a 400 naming <paramref name="param"/> otherwise.</summary>
    internal static RequestError? SchemaFormat(JsonElement schema, string param, out OutputFormat result)
    {
        result = OutputFormat.ForSchema(schema, out var problem) ?? OutputFormat.Text;
        return problem is null ? null : new RequestError($"'{param}' {problem}.", param);
    }

    internal static string Truncate(string? value) => value is null ? "" : value.Length <= 40 ? value : value[..40] + "…";
}
