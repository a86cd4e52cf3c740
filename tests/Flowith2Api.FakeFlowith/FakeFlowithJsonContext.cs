using System.Text.Json;
using System.Text.Json.Serialization;

namespace Flowith2Api.FakeFlowith;

/// <summary>The answer of the <c>/_fake</c> scenario control routes.</summary>
public sealed record FakeControlResult(string Target, string Scenario, int? Queued = null);

/// <summary>Serializes a scenario as its spec string (and reads a spec string or an object).</summary>
public sealed class FakeScenarioSpecJsonConverter : JsonConverter<FakeScenario>
{
    /// <inheritdoc />
    public override FakeScenario? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.String)
        {
            try
            {
                return FakeScenario.Parse(reader.GetString()!);
            }
            catch (FormatException ex)
            {
                throw new JsonException(ex.Message, ex);
            }
        }

        using var document = JsonDocument.ParseValue(ref reader);
        try
        {
            return FakeScenarioJson.FromJson(document.RootElement);
        }
        catch (FormatException ex)
        {
            throw new JsonException(ex.Message, ex);
        }
    }

    /// <inheritdoc />
    public override void Write(Utf8JsonWriter writer, FakeScenario value, JsonSerializerOptions options) =>
        writer.WriteStringValue(value.ToSpec());
}

/// <summary>
/// Reads a scenario from a JSON object whose names are spec keys (<c>retry-after</c>) or property
/// names (<c>retryAfterSeconds</c>), through the same validation as <see cref="FakeScenario.Parse"/>.
/// </summary>
public static class FakeScenarioJson
{
    private static readonly Dictionary<string, string> KeysByName = new(StringComparer.OrdinalIgnoreCase)
    {
        ["text"] = "text",
        ["chunkSize"] = "chunk",
        ["chunkDelayMs"] = "delay",
        ["latencyMs"] = "latency",
        ["docStyle"] = "doc-style",
        ["terminator"] = "terminator",
        ["searching"] = "searching",
        ["think"] = "think",
        ["status"] = "status",
        ["retryAfterSeconds"] = "retry-after",
        ["stallBeforeHeadersMs"] = "stall-before-headers",
        ["stallAfterChunks"] = "stall-after",
        ["stallMs"] = "stall",
        ["empty"] = "empty",
        ["emptyBody"] = "empty-body",
        ["resetAfterChunks"] = "reset-after",
        ["crlf"] = "crlf",
        ["splitWrites"] = "split",
        ["keepAliveLines"] = "keepalive",
        ["nonStreamField"] = "field",
        ["rateLimitPerMinute"] = "ratelimit",
    };

    /// <summary>A scenario from a JSON object (or a JSON string holding a spec).</summary>
    /// <exception cref="FormatException">Not an object or string, an unknown name or a bad value.</exception>
    public static FakeScenario FromJson(JsonElement json)
    {
        if (json.ValueKind == JsonValueKind.String)
            return FakeScenario.Parse(json.GetString()!);
        if (json.ValueKind != JsonValueKind.Object)
            throw new FormatException("A fake scenario must be a JSON object or a spec string.");

        var parts = new List<string>();
        foreach (var property in json.EnumerateObject())
        {
            var key = KeysByName.TryGetValue(property.Name, out var mapped) ? mapped : property.Name;
            var value = property.Value.ValueKind switch
            {
                JsonValueKind.String => property.Value.GetString()!,
                JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False => property.Value.GetRawText(),
                JsonValueKind.Null when key == "retry-after" => "none",
                JsonValueKind.Null => null,
                _ => throw new FormatException($"Invalid JSON value for fake scenario key '{property.Name}'."),
            };
            if (value is not null)
                parts.Add(key + "=" + Uri.EscapeDataString(value));
        }

        return FakeScenario.Parse(string.Join(';', parts));
    }
}

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(RecordedRequest))]
[JsonSerializable(typeof(IReadOnlyList<RecordedRequest>))]
[JsonSerializable(typeof(FakeControlResult))]
internal sealed partial class FakeFlowithJsonContext : JsonSerializerContext;
