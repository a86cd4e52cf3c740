using System.Text;
using Flowith2Api.ChatService.Tools;

namespace Flowith2Api.ChatService.Dialects.Anthropic;

/// <summary>Anthropic Messages request → conversation request. Pure; validates as it maps (Anthropic's field paths).</summary>
public static class AnthropicRequestMapper
{
    public static RequestError? TryMap(AnthropicMessagesRequest body, string? defaultModel, bool countOnly, out ConversationRequest request)
    {
        request = null!;
        if (!countOnly && body.MaxTokens is null)
        {
            return new RequestError("max_tokens: Field required", "max_tokens");
        }

        if (body.MaxTokens is < 1)
        {
            return new RequestError("max_tokens: Input should be greater than or equal to 1", "max_tokens");
        }

        if (body.Messages is null)
        {
            return new RequestError("messages: Field required", "messages");
        }

        if (body.Messages.Count == 0)
        {
            return new RequestError("messages: at least one message is required", "messages");
        }

        if (body.Temperature is < 0 or > 1 || (body.Temperature is { } t && double.IsNaN(t)))
        {
            return new RequestError("temperature: Input should be between 0 and 1", "temperature");
        }

        if (body.TopP is < 0 or > 1)
        {
            return new RequestError("top_p: Input should be between 0 and 1", "top_p");
        }

        var messages = new List<ConversationMessage>(body.Messages.Count + 1);
        var systemError = ReadSystem(body.System, out var system);
        if (systemError is not null)
        {
            return systemError;
        }

        if (system.Length > 0)
        {
            messages.Add(new ConversationMessage(ConversationRole.System, system));
        }

        var toolsError = ReadTools(body.Tools, out var tools, out var requestedServerTools);
        if (toolsError is not null)
        {
            return toolsError;
        }

        var choiceError = ReadToolChoice(body.ToolChoice, tools, body.Tools, out var choice, out var parallel);
        if (choiceError is not null)
        {
            return choiceError;
        }

        var formatError = ReadOutputFormat(body.OutputFormat, "output_format", out var format) ?? ReadOutputConfig(body.OutputConfig, ref format);
        if (formatError is not null)
        {
            return formatError;
        }

        var toolNames = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < body.Messages.Count; i++)
        {
            var error = MapMessage(body.Messages[i], i, toolNames, messages);
            if (error is not null)
            {
                return error;
            }
        }

        var model = RequestReading.PublicModel(body.Model, defaultModel);
        request = new ConversationRequest
        {
            Messages = messages,
            PublicModel = model,
            Stream = body.Stream == true,
            MaxTokens = body.MaxTokens,
            Temperature = body.Temperature,
            TopP = body.TopP,
            Stop = body.StopSequences?.Where(s => !string.IsNullOrEmpty(s)).ToList() ?? [],
            Tools = tools,
            RequestedServerTools = requestedServerTools,
            Format = format,
            ToolChoice = choice,
            ParallelToolCalls = parallel,
            WantsReasoning = body.Thinking is { ValueKind: JsonValueKind.Object } thinking
                && thinking.TryGetProperty("type", out var type) && type.ValueKind == JsonValueKind.String && type.GetString() is "enabled" or "adaptive",
        };
        return null;
    }

    /// <summary>
    /// <c>output_config</c>: its <c>format</c> is structured outputs as the API has it now (the beta's top-level
    /// <c>output_format</c> is still read); <c>effort</c> and the rest are accepted and left to the model.
    /// </summary>
    private static RequestError? ReadOutputConfig(JsonElement? source, ref OutputFormat format)
    {
        if (source is not { } element || element.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (element.ValueKind != JsonValueKind.Object)
        {
            return new RequestError("output_config: Input should be an object", "output_config");
        }

        if (!element.TryGetProperty("format", out var formatElement) || formatElement.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        var error = ReadOutputFormat(formatElement, "output_config.format", out var read);
        format = read;
        return error;
    }

    /// <summary>Structured outputs (<c>output_format</c>, <c>output_config.format</c>): only <c>json_schema</c>, with a usable schema.</summary>
    private static RequestError? ReadOutputFormat(JsonElement? source, string field, out OutputFormat format)
    {
        format = OutputFormat.Text;
        if (source is not { } element || element.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (element.ValueKind != JsonValueKind.Object || !element.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String
            || type.GetString() != "json_schema")
        {
            return new RequestError($"{field}.type: Input should be 'json_schema'", $"{field}.type");
        }

        if (!element.TryGetProperty("schema", out var schema))
        {
            return new RequestError($"{field}.schema: Field required", $"{field}.schema");
        }

        format = OutputFormat.ForSchema(schema, out var problem) ?? OutputFormat.Text;
        return problem is null ? null : new RequestError($"{field}.schema: {problem}", $"{field}.schema");
    }

    private static RequestError? ReadSystem(JsonElement? source, out string system)
    {
        system = "";
        if (source is not { } element || element.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (element.ValueKind == JsonValueKind.String)
        {
            system = element.GetString() ?? "";
            return null;
        }

        if (element.ValueKind != JsonValueKind.Array)
        {
            return new RequestError("system: Input should be a string or a list of text blocks", "system");
        }

        var builder = new StringBuilder();
        var index = 0;
        foreach (var block in element.EnumerateArray())
        {
            if (block.ValueKind != JsonValueKind.Object || !block.TryGetProperty("text", out var text) || text.ValueKind != JsonValueKind.String)
            {
                return new RequestError($"system.{index}: Input should be a text block", $"system.{index}");
            }

            if (builder.Length > 0)
            {
                builder.Append("\n\n");
            }

            builder.Append(text.GetString());
            index++;
        }

        system = builder.ToString();
        return null;
    }

    private static RequestError? MapMessage(AnthropicMessage? source, int index, Dictionary<string, string> toolNames, List<ConversationMessage> messages)
    {
        var path = $"messages.{index}";
        if (source is null)
        {
            return new RequestError($"{path}: Input should be an object with role and content", path);
        }

        // "system" mid-conversation: the mid-conversation-system beta that Claude Code sends (instructions that arrive
        // between turns, e.g. the agent list); kept at their place, as a system message, text only.
        var role = source.Role switch
        {
            "user" => ConversationRole.User,
            "assistant" => ConversationRole.Assistant,
            "system" => ConversationRole.System,
            _ => (ConversationRole?)null,
        };
        if (role is null)
        {
            return new RequestError($"{path}.role: Input should be 'user', 'assistant' or 'system'", $"{path}.role");
        }

        if (source.Content is not { } content || content.ValueKind == JsonValueKind.Null)
        {
            return new RequestError($"{path}.content: Field required", $"{path}.content");
        }

        if (content.ValueKind == JsonValueKind.String)
        {
            messages.Add(new ConversationMessage(role.Value, content.GetString() ?? ""));
            return null;
        }

        if (content.ValueKind != JsonValueKind.Array)
        {
            return new RequestError($"{path}.content: Input should be a string or a list of content blocks", $"{path}.content");
        }

        var parts = new List<ContentPart>();
        var blockIndex = 0;
        foreach (var block in content.EnumerateArray())
        {
            var blockPath = $"{path}.content.{blockIndex++}";
            if (block.ValueKind != JsonValueKind.Object || !block.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String)
            {
                return new RequestError($"{blockPath}: Input should be a content block with a type", blockPath);
            }

            var error = type.GetString() switch
            {
                "text" => ReadText(block, blockPath, parts),
                var other when role == ConversationRole.System =>
                    new RequestError($"{blockPath}.type: '{other}' is not a valid content block for the system role (text only)", $"{blockPath}.type"),
                "image" or "document" when !HasSource(block) =>
                    new RequestError($"{blockPath}.source: Field required (base64, url or file source)", $"{blockPath}.source"),
                "image" => Add(parts, new AttachmentPart(AttachmentPart.Image, SourceUrl(block), SourceMediaType(block))),
                "document" => Add(parts, new AttachmentPart(AttachmentPart.Document, SourceUrl(block), SourceMediaType(block))),
                "thinking" or "redacted_thinking" => null, // the model's own earlier reasoning is not sent back
                "tool_use" when role == ConversationRole.Assistant => ReadToolUse(block, blockPath, toolNames, parts),
                "tool_result" when role == ConversationRole.User => ReadToolResult(block, blockPath, toolNames, parts),
                "server_tool_use" or "web_search_tool_result" => null,
                var other => new RequestError($"{blockPath}.type: '{other}' is not a valid content block for the {source.Role} role", $"{blockPath}.type"),
            };
            if (error is not null)
            {
                return error;
            }
        }

        messages.Add(new ConversationMessage(role.Value, parts));
        return null;
    }

    private static RequestError? ReadText(JsonElement block, string path, List<ContentPart> parts)
    {
        if (!block.TryGetProperty("text", out var value) || value.ValueKind != JsonValueKind.String)
        {
            return new RequestError($"{path}.text: Field required", $"{path}.text");
        }

        return Add(parts, new TextPart(value.GetString()!));
    }

    private static RequestError? ReadToolUse(JsonElement block, string path, Dictionary<string, string> toolNames, List<ContentPart> parts)
    {
        if (!block.TryGetProperty("name", out var name) || name.ValueKind != JsonValueKind.String)
        {
            return new RequestError($"{path}.name: Field required", $"{path}.name");
        }

        string? id = null;
        if (block.TryGetProperty("id", out var idElement) && idElement.ValueKind == JsonValueKind.String)
        {
            id = idElement.GetString()!;
            toolNames[id] = name.GetString()!;
        }

        var input = block.TryGetProperty("input", out var i) && i.ValueKind == JsonValueKind.Object
            ? ToolArguments.Normalize(i.GetRawText()) ?? "{}"
            : "{}";
        return Add(parts, new ToolCallPart(id, name.GetString()!, input));
    }

    private static RequestError? ReadToolResult(JsonElement block, string path, Dictionary<string, string> toolNames, List<ContentPart> parts)
    {
        if (!block.TryGetProperty("tool_use_id", out var id) || id.ValueKind != JsonValueKind.String)
        {
            return new RequestError($"{path}.tool_use_id: Field required", $"{path}.tool_use_id");
        }

        var result = new List<ContentPart>();
        if (block.TryGetProperty("content", out var content))
        {
            if (content.ValueKind == JsonValueKind.String)
            {
                result.Add(new TextPart(content.GetString()!));
            }
            else if (content.ValueKind == JsonValueKind.Array)
            {
                foreach (var part in content.EnumerateArray())
                {
                    if (part.ValueKind != JsonValueKind.Object || !part.TryGetProperty("type", out var partType) || partType.ValueKind != JsonValueKind.String)
                    {
                        return new RequestError($"{path}.content: every part needs a string 'type'", $"{path}.content");
                    }

                    if (partType.GetString() == "text")
                    {
                        if (!part.TryGetProperty("text", out var partText) || partText.ValueKind != JsonValueKind.String)
                        {
                            return new RequestError($"{path}.content: a text part needs a string 'text'", $"{path}.content");
                        }

                        result.Add(new TextPart(partText.GetString()!));
                    }
                    else
                    {
                        result.Add(new AttachmentPart(partType.GetString()!, SourceUrl(part), SourceMediaType(part)));
                    }
                }
            }
        }

        var isError = block.TryGetProperty("is_error", out var e) && e.ValueKind == JsonValueKind.True;
        var toolUseId = id.GetString()!;
        return Add(parts, new ToolResultPart(toolUseId, toolNames.GetValueOrDefault(toolUseId), result, isError));
    }

    private static RequestError? Add(List<ContentPart> parts, ContentPart part)
    {
        parts.Add(part);
        return null;
    }

    /// <summary>A block's <c>source.url</c> (a url source), when it has one.</summary>
    private static string? SourceUrl(JsonElement block) =>
        block.TryGetProperty("source", out var source) && source.ValueKind == JsonValueKind.Object
        && source.TryGetProperty("url", out var url) && url.ValueKind == JsonValueKind.String ? url.GetString() : null;

    private static string? SourceMediaType(JsonElement block) =>
        block.TryGetProperty("source", out var source) && source.ValueKind == JsonValueKind.Object
        && source.TryGetProperty("media_type", out var type) && type.ValueKind == JsonValueKind.String ? type.GetString() : null;

    /// <summary>An image or document block's <c>source</c>: an object with a known <c>type</c>.</summary>
    private static bool HasSource(JsonElement block) =>
        block.TryGetProperty("source", out var source) && source.ValueKind == JsonValueKind.Object
        && source.TryGetProperty("type", out var type) && type.ValueKind == JsonValueKind.String
        && type.GetString() is "base64" or "url" or "file" or "text" or "content";

    /// <summary>Custom tools (<c>input_schema</c>) and typed tools (bash, text editor, …): each offered by name.</summary>
    private static RequestError? ReadTools(JsonElement? source, out IReadOnlyList<ToolDefinition> tools, out IReadOnlySet<string> requestedServerTools)
    {
        var list = new List<ToolDefinition>();
        var requested = ServerToolNames.None;
        var error = RequestReading.ReadArray(source, "tools", "tools: Input should be a list of tools", (tool, index) =>
        {
            var path = $"tools.{index}";
            if (IsAnthropicServerTool(tool))
            {
                // Run by Anthropic's servers, not the client: left to our server tools of the same kind, when enabled.
                if (ServerToolFor(tool) is { } serverTool)
                {
                    requested = ServerToolNames.With(requested, serverTool);
                }

                return null;
            }

            if (tool.ValueKind != JsonValueKind.Object || !tool.TryGetProperty("name", out var name) || name.ValueKind != JsonValueKind.String
                || string.IsNullOrWhiteSpace(name.GetString()))
            {
                return new RequestError($"{path}.name: Field required", $"{path}.name");
            }

            var description = tool.TryGetProperty("description", out var d) && d.ValueKind == JsonValueKind.String ? d.GetString() : null;
            JsonElement? schema = tool.TryGetProperty("input_schema", out var s) && s.ValueKind == JsonValueKind.Object ? s.Clone() : null;
            list.Add(new ToolDefinition(name.GetString()!, description, schema));
            return null;
        });
        tools = list;
        requestedServerTools = requested;
        return error;
    }

    /// <summary>Whether a server tool was declared (with this name; null: any).</summary>
    private static bool ServerToolNamed(JsonElement? declared, string? name) =>
        declared is { ValueKind: JsonValueKind.Array } list && list.EnumerateArray().Any(tool => IsAnthropicServerTool(tool)
            && (name is null || (tool.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String && n.ValueEquals(name))));

    /// <summary>
    /// Anthropic's server tools (<c>web_search_20250305</c>, <c>web_fetch_…</c>, <c>code_execution_…</c>, as Claude Code's
    /// WebSearch sends them): run by the API itself, so a client cannot execute a call to them. Anthropic-defined client
    /// tools (<c>bash_…</c>, <c>text_editor_…</c>, <c>computer_…</c>) are the client's and stay tools by their names.
    /// </summary>
    private static bool IsAnthropicServerTool(JsonElement tool) =>
        tool.ValueKind == JsonValueKind.Object && tool.TryGetProperty("type", out var type) && type.ValueKind == JsonValueKind.String
        && type.GetString() is { } value
        && (value.StartsWith("web_search_", StringComparison.Ordinal) || value.StartsWith("web_fetch_", StringComparison.Ordinal)
            || value.StartsWith("code_execution_", StringComparison.Ordinal));

    /// <summary>Our server tool standing in for one of Anthropic's (none for web_fetch: there is no such tool here).</summary>
    private static string? ServerToolFor(JsonElement tool) => tool.GetProperty("type").GetString() switch
    {
        { } type when type.StartsWith("web_search_", StringComparison.Ordinal) => ServerToolNames.WebSearch,
        { } type when type.StartsWith("code_execution_", StringComparison.Ordinal) => ServerToolNames.CodeInterpreter,
        _ => null,
    };

    /// <param name="declared">The tools as sent: a choice of a server tool (left out of <paramref name="tools"/>) is left to the model.</param>
    private static RequestError? ReadToolChoice(JsonElement? source, IReadOnlyList<ToolDefinition> tools, JsonElement? declared, out ToolChoice choice,
        out bool parallel)
    {
        choice = ToolChoice.Auto;
        parallel = true;
        if (source is not { } element || element.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (element.ValueKind != JsonValueKind.Object || !element.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String)
        {
            return new RequestError("tool_choice: Input should be an object with a type of auto, any, tool or none", "tool_choice");
        }

        parallel = !(element.TryGetProperty("disable_parallel_tool_use", out var disable) && disable.ValueKind == JsonValueKind.True);
        switch (type.GetString())
        {
            case "auto":
                return null;
            case "none":
                choice = new ToolChoice(ToolChoiceMode.None);
                return null;
            case "any" when tools.Count == 0 && ServerToolNamed(declared, null):
                return null;
            case "any":
                choice = new ToolChoice(ToolChoiceMode.Required);
                return tools.Count == 0 ? new RequestError("tool_choice: 'any' needs at least one tool", "tool_choice") : null;
            case "tool":
                if (!element.TryGetProperty("name", out var name) || name.ValueKind != JsonValueKind.String)
                {
                    return new RequestError("tool_choice.name: Field required", "tool_choice.name");
                }

                if (!tools.Any(t => t.Name == name.GetString()))
                {
                    return ServerToolNamed(declared, name.GetString())
                        ? null
                        : new RequestError($"tool_choice.name: '{name.GetString()}' is not one of the tools", "tool_choice.name");
                }

                choice = new ToolChoice(ToolChoiceMode.Specific, name.GetString());
                return null;
            default:
                return new RequestError("tool_choice.type: Input should be 'auto', 'any', 'tool' or 'none'", "tool_choice.type");
        }
    }
}
