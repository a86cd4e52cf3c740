using Json.Schema;

namespace Flowith2Api.ChatService.Conversation;

public enum OutputFormatKind
{
    Text,
    JsonObject,
    JsonSchema,
}

/// <summary>
/// The form the client wants the answer in (OpenAI <c>response_format</c>, Responses <c>text.format</c>, Anthropic
/// <c>output_format</c>): free text, one JSON object, or JSON that matches a schema.
/// </summary>
public sealed record OutputFormat(OutputFormatKind Kind, JsonElement? Schema = null, JsonSchema? Compiled = null)
{
    public static OutputFormat Text { get; } = new(OutputFormatKind.Text);

    public static OutputFormat JsonObject { get; } = new(OutputFormatKind.JsonObject);

    public bool IsJson => Kind != OutputFormatKind.Text;

    /// <summary>A JSON-schema format, its schema compiled once; null with <paramref name="problem"/> when it is no usable schema.</summary>
    public static OutputFormat? ForSchema(JsonElement schema, out string? problem)
    {
        problem = null;
        if (schema.ValueKind is not (JsonValueKind.Object or JsonValueKind.True or JsonValueKind.False))
        {
            problem = "must be a JSON Schema object";
            return null;
        }

        try
        {
            // A registry of its own that fetches nothing: a "$ref" can only point inside the schema (never at the network).
            var copy = schema.Clone();
            var compiled = Json.Schema.JsonSchema.Build(copy, new BuildOptions { SchemaRegistry = new SchemaRegistry { Fetch = static (_, _) => null } });
            using var probe = JsonDocument.Parse("null");
            compiled.Evaluate(probe.RootElement, Probe); // references resolve when evaluated: a dangling one fails here, not on an answer
            return new OutputFormat(OutputFormatKind.JsonSchema, copy, compiled);
        }
        catch (Exception e) when (e is JsonSchemaException or JsonException or ArgumentException or InvalidOperationException or NotSupportedException
            or RefResolutionException or FormatException)
        {
            problem = $"is not a JSON Schema that can be used ({e.Message})";
            return null;
        }
    }

    private static readonly EvaluationOptions Probe = new() { OutputFormat = Json.Schema.OutputFormat.Flag };

    /// <summary>What the upstream is told, for an upstream without structured output; null for free text.</summary>
    public string? Instruction => Kind switch
    {
        OutputFormatKind.JsonObject => "Respond with one valid JSON object only: no text before or after it, no code fences.",
        OutputFormatKind.JsonSchema =>
            "Respond with one valid JSON value only, conforming to this JSON Schema, with no text before or after it and no code fences: "
            + Schema!.Value.GetRawText(),
        _ => null,
    };
}
