using System.Buffers;
using System.Text.RegularExpressions;

namespace Flowith2Api.ChatService.Tools;

/// <summary>
/// Reads a tool call's arguments as the model wrote them: strict JSON first, then a repair pass for the near-JSON
/// models produce (code fences, trailing commas, comments, single quotes, unquoted keys); then checks them against
/// the tool's JSON schema (type, required properties, property types, enums).
/// </summary>
public static partial class ToolArguments
{
    private static readonly JsonDocumentOptions Lenient = new() { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip, MaxDepth = 64 };

    /// <summary>The arguments as compact JSON, or null when even the repair pass cannot read them.</summary>
    public static string? Normalize(string body)
    {
        var text = StripFences(body.Trim());
        if (text.Length == 0)
        {
            return "{}";
        }

        return TryCompact(text) ?? TryCompact(Repair(text));
    }

    /// <summary>Null when the arguments satisfy the schema; else what is wrong.</summary>
    public static string? Validate(string argumentsJson, JsonElement? schema)
    {
        if (schema is not { ValueKind: JsonValueKind.Object } s)
        {
            return null;
        }

        using var document = JsonDocument.Parse(argumentsJson);
        return Check(document.RootElement, s, "arguments");
    }

    private static string? Check(JsonElement value, JsonElement schema, string path)
    {
        if (schema.TryGetProperty("type", out var type) && type.ValueKind == JsonValueKind.String && !HasType(value, type.GetString()!))
        {
            return $"{path} must be of type {type.GetString()}";
        }

        if (schema.TryGetProperty("enum", out var options) && options.ValueKind == JsonValueKind.Array
            && !options.EnumerateArray().Any(o => JsonElement.DeepEquals(o, value)))
        {
            return $"{path} is not one of the allowed values";
        }

        if (value.ValueKind == JsonValueKind.Object)
        {
            if (schema.TryGetProperty("required", out var required) && required.ValueKind == JsonValueKind.Array)
            {
                foreach (var name in required.EnumerateArray())
                {
                    if (name.ValueKind == JsonValueKind.String && !value.TryGetProperty(name.GetString()!, out _))
                    {
                        return $"{path}.{name.GetString()} is required";
                    }
                }
            }

            if (schema.TryGetProperty("properties", out var properties) && properties.ValueKind == JsonValueKind.Object)
            {
                foreach (var property in value.EnumerateObject())
                {
                    if (properties.TryGetProperty(property.Name, out var propertySchema) && propertySchema.ValueKind == JsonValueKind.Object
                        && Check(property.Value, propertySchema, $"{path}.{property.Name}") is { } problem)
                    {
                        return problem;
                    }
                }
            }
        }

        return null;
    }

    private static bool HasType(JsonElement value, string type) => type switch
    {
        "object" => value.ValueKind == JsonValueKind.Object,
        "array" => value.ValueKind == JsonValueKind.Array,
        "string" => value.ValueKind == JsonValueKind.String,
        "number" => value.ValueKind == JsonValueKind.Number,
        "integer" => value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out _),
        "boolean" => value.ValueKind is JsonValueKind.True or JsonValueKind.False,
        "null" => value.ValueKind == JsonValueKind.Null,
        _ => true,
    };

    private static string? TryCompact(string text)
    {
        try
        {
            using var document = JsonDocument.Parse(text, Lenient);
            var buffer = new ArrayBufferWriter<byte>(text.Length);
            using (var writer = new Utf8JsonWriter(buffer))
            {
                document.RootElement.WriteTo(writer);
            }

            return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string StripFences(string text)
    {
        var match = Fence().Match(text);
        return match.Success ? match.Groups[1].Value.Trim() : text;
    }

    private static string Repair(string text)
    {
        text = SingleQuoted().Replace(text, m => "\"" + m.Groups[1].Value.Replace("\\'", "'", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"");
        text = UnquotedKey().Replace(text, "$1\"$2\":");
        return text;
    }

    [GeneratedRegex(@"^```[a-zA-Z]*\s*\n?(.*?)\n?```$", RegexOptions.Singleline)]
    private static partial Regex Fence();

    [GeneratedRegex(@"'((?:[^'\\]|\\.)*)'")]
    private static partial Regex SingleQuoted();

    [GeneratedRegex(@"([{,]\s*)([A-Za-z_][A-Za-z0-9_\-]*)\s*:")]
    private static partial Regex UnquotedKey();
}
