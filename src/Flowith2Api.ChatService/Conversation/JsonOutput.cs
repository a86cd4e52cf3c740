using System.Text;
using Json.Schema;

namespace Flowith2Api.ChatService.Conversation;

/// <summary>
/// Makes an answer in a JSON mode the JSON itself. Models often wrap it in a Markdown fence or put a sentence around
/// it; the first JSON value in the text is taken (bare, fenced, or inside prose), and it must be an object (json_object)
/// or match the client's schema (json_schema).
/// </summary>
public static class JsonOutput
{
    private static readonly EvaluationOptions Evaluation = new() { OutputFormat = Json.Schema.OutputFormat.List };

    /// <summary>The JSON in <paramref name="text"/>, or null with what is wrong in <paramref name="problem"/>.</summary>
    public static string? Extract(string text, OutputFormat format, out string? problem)
    {
        problem = "the answer holds no JSON value";
        foreach (var candidate in Candidates(text))
        {
            if (Check(candidate, format, out var why))
            {
                problem = null;
                return candidate;
            }

            problem = why;
        }

        return null;
    }

    /// <summary>Whether <paramref name="json"/> (a whole JSON value, as streamed) is what the format asks for.</summary>
    public static bool Validate(string json, OutputFormat format, out string? problem)
    {
        try
        {
            return Check(json, format, out problem);
        }
        catch (JsonException)
        {
            problem = "the answer's JSON is not valid JSON";
            return false;
        }
    }

    /// <summary>Where an answer's JSON may be: the whole text, then inside each code fence, then from each '{' or '['.</summary>
    private static IEnumerable<string> Candidates(string text)
    {
        var trimmed = text.Trim();
        if (FirstValue(trimmed, 0) is { } whole && whole.Length == trimmed.Length)
        {
            yield return whole;
        }

        for (var fence = trimmed.IndexOf("```", StringComparison.Ordinal); fence >= 0;)
        {
            var start = trimmed.IndexOf('\n', fence + 3);
            var end = start < 0 ? -1 : trimmed.IndexOf("```", start, StringComparison.Ordinal);
            if (end < 0)
            {
                break;
            }

            var inside = trimmed[(start + 1)..end].Trim();
            if (FirstValue(inside, 0) is { } fenced)
            {
                yield return fenced;
            }

            fence = trimmed.IndexOf("```", end + 3, StringComparison.Ordinal);
        }

        for (var i = 0; i < trimmed.Length; i++)
        {
            if (trimmed[i] is '{' or '[' && FirstValue(trimmed, i) is { } found)
            {
                yield return found;
                i += found.Length - 1;
            }
        }
    }

    /// <summary>The complete JSON value starting at <paramref name="start"/>, or null when none does.</summary>
    private static string? FirstValue(string text, int start)
    {
        if (start >= text.Length || text[start] is not ('{' or '[' or '"') && !char.IsDigit(text[start]) && text[start] is not ('-' or 't' or 'f' or 'n'))
        {
            return null;
        }

        var bytes = Encoding.UTF8.GetBytes(text[start..]);
        try
        {
            var reader = new Utf8JsonReader(bytes, new JsonReaderOptions { AllowMultipleValues = true, MaxDepth = 256 });
            if (!reader.Read() || !reader.TrySkip())
            {
                return null;
            }

            return Encoding.UTF8.GetString(bytes, 0, (int)reader.BytesConsumed);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static bool Check(string json, OutputFormat format, out string? problem)
    {
        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        if (format.Kind == OutputFormatKind.JsonObject)
        {
            problem = root.ValueKind == JsonValueKind.Object ? null : "the answer's JSON is not an object";
            return problem is null;
        }

        EvaluationResults results;
        try
        {
            results = format.Compiled!.Evaluate(root, Evaluation);
        }
        catch (Exception e) when (e is JsonSchemaException or RefResolutionException or InvalidOperationException or FormatException)
        {
            problem = $"the answer's JSON could not be checked against the schema ({e.Message})";
            return false;
        }
        if (results.IsValid)
        {
            problem = null;
            return true;
        }

        var first = (results.Details ?? []).Prepend(results).FirstOrDefault(r => r.Errors is { Count: > 0 });
        problem = first is null
            ? "the answer's JSON does not match the schema"
            : $"the answer's JSON does not match the schema at '{first.InstanceLocation}': {first.Errors!.Values.First()}";
        return false;
    }
}
