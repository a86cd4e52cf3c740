using System.Buffers;

namespace Flowith2Api.ChatService.Dialects.Responses;

/// <summary>
/// A response's input as the API lists it (<c>GET /v1/responses/{id}/input_items</c>): every item with an id and a
/// status, a string input as one user message, string message content as one text part.
/// </summary>
public static class ResponseInputItems
{
    public const int DefaultLimit = 20;
    public const int MaxLimit = 100;

    /// <summary>The normalized items of an (already validated) <c>input</c>, as a JSON array.</summary>
    public static string Normalize(JsonElement? input)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartArray();
            if (input is { ValueKind: JsonValueKind.String } text)
            {
                WriteMessage(json, ResponsesWriter.NewId("msg"), "user", text);
            }
            else if (input is { ValueKind: JsonValueKind.Array } items)
            {
                var seen = new HashSet<string>(StringComparer.Ordinal);
                foreach (var item in items.EnumerateArray())
                {
                    WriteItem(json, item, seen);
                }
            }

            json.WriteEndArray();
        }

        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>One item with its own id, or a new one when it has none or repeats an earlier item's (ids page the list).</summary>
    private static void WriteItem(Utf8JsonWriter json, JsonElement item, HashSet<string> seen)
    {
        var type = item.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString()! : "message";
        var given = item.TryGetProperty("id", out var i) && i.ValueKind == JsonValueKind.String ? i.GetString() : null;
        var id = given is { Length: > 0 and <= 128 } && seen.Add(given) ? given : ResponsesWriter.NewId(type switch
        {
            "function_call" => "fc",
            "function_call_output" => "fco",
            "reasoning" => "rs",
            _ => "msg",
        });
        if (type == "message" && item.TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.String)
        {
            WriteMessage(json, id, item.GetProperty("role").GetString()!, content);
            return;
        }

        json.WriteStartObject();
        json.WriteString("id", id);
        json.WriteString("type", type);
        var hasStatus = false;
        foreach (var property in item.EnumerateObject())
        {
            if (property.NameEquals("id") || property.NameEquals("type"))
            {
                continue;
            }

            hasStatus |= property.NameEquals("status");
            property.WriteTo(json);
        }

        if (!hasStatus && type != "reasoning")
        {
            json.WriteString("status", "completed");
        }

        json.WriteEndObject();
    }

    private static void WriteMessage(Utf8JsonWriter json, string id, string role, JsonElement text)
    {
        json.WriteStartObject();
        json.WriteString("id", id);
        json.WriteString("type", "message");
        json.WriteString("role", role);
        json.WriteStartArray("content");
        json.WriteStartObject();
        json.WriteString("type", role == "assistant" ? "output_text" : "input_text");
        json.WriteString("text", text.GetString());
        json.WriteEndObject();
        json.WriteEndArray();
        json.WriteString("status", "completed");
        json.WriteEndObject();
    }

    /// <summary>
    /// One page of a list object: newest first when <paramref name="descending"/> (the API's default), the items after
    /// (or before) the one with the given id, at most <paramref name="limit"/>.
    /// </summary>
    public static void WritePage(Utf8JsonWriter json, string itemsJson, bool descending, string? after, string? before, int limit)
    {
        using var document = JsonDocument.Parse(itemsJson);
        var items = document.RootElement.EnumerateArray().ToList();
        if (descending)
        {
            items.Reverse();
        }

        // A cursor that names no item (expired, mistyped) is an empty page, never a restart from the top.
        var start = after is null ? 0 : items.FindIndex(i => IdOf(i) == after) is var a and >= 0 ? a + 1 : items.Count;
        var end = before is null ? items.Count : items.FindIndex(i => IdOf(i) == before) is var b and >= 0 ? b : 0;
        var count = Math.Max(0, Math.Min(limit, end - start));
        // With only 'before', the page is the items just before it; otherwise the first ones after 'after'.
        var first = before is not null && after is null ? end - count : start;
        var page = items.Skip(first).Take(count).ToList();
        json.WriteStartObject();
        json.WriteString("object", "list");
        json.WriteStartArray("data");
        foreach (var item in page)
        {
            item.WriteTo(json);
        }

        json.WriteEndArray();
        ResponsesWriter.WriteStringOrNull(json, "first_id", page.Count > 0 ? IdOf(page[0]) : null);
        ResponsesWriter.WriteStringOrNull(json, "last_id", page.Count > 0 ? IdOf(page[^1]) : null);
        json.WriteBoolean("has_more", before is not null && after is null ? first > start : start + page.Count < end);
        json.WriteEndObject();
    }

    private static string? IdOf(JsonElement item) => item.TryGetProperty("id", out var id) ? id.GetString() : null;
}
