namespace Flowith2Api.ChatService.Conversation;

/// <summary>A request the client must fix: a 400 naming the offending field.</summary>
public sealed record RequestError(string Message, string? Param, string Code = "invalid_request_error");

/// <summary>What every dialect's request reader needs: the model, sampling ranges, function tools, tool choice, schemas.</summary>
public static class RequestReading
{
    public const string DefaultPublicModel = "flowith";

    /// <summary>The model asked for, else the configured default, else the upstream's default ("flowith").</summary>
    public static string PublicModel(string? requested, string? defaultModel) =>
        string.IsNullOrWhiteSpace(requested) ? (string.IsNullOrWhiteSpace(defaultModel) ? DefaultPublicModel : defaultModel) : requested.Trim();

    /// <summary>The upstream model id for a public name; null (the upstream's default) for "flowith".</summary>
    public static string? UpstreamModelOf(string publicModel) =>
        string.Equals(publicModel, DefaultPublicModel, StringComparison.OrdinalIgnoreCase) ? null : publicModel;

    /// <summary>OpenAI's sampling ranges: temperature 0–2, top_p 0–1.</summary>
    public static RequestError? CheckSampling(double? temperature, double? topP)
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
    public static RequestError? ReadFunction(JsonElement function, string param, out ToolDefinition tool)
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
    public static RequestError? ReadToolChoiceMode(string? mode, IReadOnlyList<ToolDefinition> tools, string shape, out ToolChoice choice)
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
    public static RequestError? NamedToolChoice(string wanted, IReadOnlyList<ToolDefinition> tools, out ToolChoice choice)
    {
        choice = ToolChoice.Auto;
        if (!tools.Any(t => t.Name == wanted))
        {
            return new RequestError($"'tool_choice' names the function '{Truncate(wanted)}', which is not in 'tools'.", "tool_choice");
        }

        choice = new ToolChoice(ToolChoiceMode.Specific, wanted);
        return null;
    }

    /// <summary>A json_schema format whose schema can be checked against; a 400 naming <paramref name="param"/> otherwise.</summary>
    public static RequestError? SchemaFormat(JsonElement schema, string param, out OutputFormat result)
    {
        result = OutputFormat.ForSchema(schema, out var problem) ?? OutputFormat.Text;
        return problem is null ? null : new RequestError($"'{param}' {problem}.", param);
    }

    public static string Truncate(string? value) => value is null ? "" : value.Length <= 40 ? value : value[..40] + "…";

    /// <summary>
    /// An output format <c>{"type": "text" | "json_object" | "json_schema", …}</c> at <paramref name="param"/>; a
    /// json_schema's schema is in the object named <paramref name="schemaInside"/> (Chat Completions' <c>json_schema</c>)
    /// or, when that is null, beside the type (Responses).
    /// </summary>
    public static RequestError? ReadOutputFormat(JsonElement? format, string param, string? schemaInside, out OutputFormat result)
    {
        result = OutputFormat.Text;
        if (format is not { } element || element.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (element.ValueKind != JsonValueKind.Object || !element.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String)
        {
            return new RequestError($"'{param}' must be an object with a 'type' of text, json_object or json_schema.", param);
        }

        switch (type.GetString())
        {
            case "text":
                return null;
            case "json_object":
                result = OutputFormat.JsonObject;
                return null;
            case "json_schema" when schemaInside is not null:
                if (!element.TryGetProperty(schemaInside, out var holder) || holder.ValueKind != JsonValueKind.Object || !holder.TryGetProperty("schema", out var nested))
                {
                    return new RequestError($"'{param}.{schemaInside}.schema' is required for the json_schema type.", $"{param}.{schemaInside}");
                }

                return SchemaFormat(nested, $"{param}.{schemaInside}.schema", out result);
            case "json_schema":
                if (!element.TryGetProperty("schema", out var schema) || schema.ValueKind != JsonValueKind.Object)
                {
                    return new RequestError($"'{param}.schema' is required for the json_schema type.", $"{param}.schema", "missing_required_parameter");
                }

                return SchemaFormat(schema, $"{param}.schema", out result);
            default:
                return new RequestError($"'{param}.type' '{Truncate(type.GetString())}' is not one of text, json_object, json_schema.", $"{param}.type");
        }
    }

    /// <summary>
    /// <c>tool_choice</c>: none, auto, required, or one named function (<c>{"function":{"name"}}</c> when
    /// <paramref name="nameInFunction"/>, as Chat Completions has it; <c>{"name"}</c>, as Responses has it), which must
    /// be among the tools; anything else is <paramref name="shape"/>.
    /// </summary>
    public static RequestError? ReadToolChoice(JsonElement? source, IReadOnlyList<ToolDefinition> tools, string shape, bool nameInFunction, out ToolChoice choice)
    {
        choice = ToolChoice.Auto;
        if (source is not { } element || element.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (element.ValueKind == JsonValueKind.String)
        {
            return ReadToolChoiceMode(element.GetString(), tools, shape, out choice);
        }

        var holder = element;
        if (element.ValueKind == JsonValueKind.Object && nameInFunction && !(element.TryGetProperty("function", out holder) && holder.ValueKind == JsonValueKind.Object))
        {
            return new RequestError(shape, "tool_choice");
        }

        return element.ValueKind == JsonValueKind.Object && holder.TryGetProperty("name", out var name) && name.ValueKind == JsonValueKind.String
            ? NamedToolChoice(name.GetString()!, tools, out choice)
            : new RequestError(shape, "tool_choice");
    }

    /// <summary>An optional array at <paramref name="param"/>: each item read by <paramref name="readItem"/> (with its index), the first error returned.</summary>
    public static RequestError? ReadArray(JsonElement? source, string param, string notAnArray, Func<JsonElement, int, RequestError?> readItem)
    {
        if (source is not { } element || element.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (element.ValueKind != JsonValueKind.Array)
        {
            return new RequestError(notAnArray, param);
        }

        var index = 0;
        foreach (var item in element.EnumerateArray())
        {
            if (readItem(item, index++) is { } error)
            {
                return error;
            }
        }

        return null;
    }
}
