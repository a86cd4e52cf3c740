using System.Buffers;
using System.Text.Json;

namespace Flowith2Api.FakeFlowith;

/// <summary>The parts of a valid seek request body the fake server uses.</summary>
internal readonly record struct SeekRequest(bool Stream, string? Model, string LastUserContent);

/// <summary>Validates a seek body as strictly as the real server is assumed to.</summary>
internal static class SeekRequestParser
{
    /// <summary>Null when valid (and <paramref name="request"/> is set), else the 400 reason.</summary>
    public static string? TryParse(ReadOnlySequence<byte> body, out SeekRequest request)
    {
        request = default;
        if (body.IsEmpty)
            return "Request body is required.";

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body);
        }
        catch (JsonException)
        {
            return "Request body is not valid JSON.";
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                return "Request body must be a JSON object.";

            if (!root.TryGetProperty("messages"u8, out var messages))
                return "messages is required.";
            if (messages.ValueKind != JsonValueKind.Array)
                return "messages must be an array.";
            if (messages.GetArrayLength() == 0)
                return "messages must not be empty.";

            JsonElement lastUser = default;
            JsonElement last = default;
            var index = 0;
            foreach (var message in messages.EnumerateArray())
            {
                if (message.ValueKind != JsonValueKind.Object)
                    return $"messages[{index}] must be an object.";
                if (!message.TryGetProperty("role"u8, out var role) || role.ValueKind != JsonValueKind.String)
                    return $"messages[{index}].role must be a string.";
                if (!message.TryGetProperty("content"u8, out var content) || content.ValueKind != JsonValueKind.String)
                    return $"messages[{index}].content must be a string.";
                if (role.ValueEquals("user"u8))
                    lastUser = content;
                last = content;
                index++;
            }

            if (!root.TryGetProperty("kb_list"u8, out var kbList))
                return "kb_list is required.";
            if (kbList.ValueKind != JsonValueKind.Array)
                return "kb_list must be an array of strings.";
            foreach (var kb in kbList.EnumerateArray())
            {
                if (kb.ValueKind != JsonValueKind.String)
                    return "kb_list must be an array of strings.";
            }

            var stream = false;
            if (root.TryGetProperty("stream"u8, out var streamElement))
            {
                switch (streamElement.ValueKind)
                {
                    case JsonValueKind.True: stream = true; break;
                    case JsonValueKind.False or JsonValueKind.Null: break;
                    default: return "stream must be a boolean.";
                }
            }

            string? model = null;
            if (root.TryGetProperty("model"u8, out var modelElement))
            {
                if (modelElement.ValueKind == JsonValueKind.String)
                    model = modelElement.GetString();
                else if (modelElement.ValueKind != JsonValueKind.Null)
                    return "model must be a string.";
            }

            if (root.TryGetProperty("max_tokens"u8, out var maxTokens)
                && maxTokens.ValueKind != JsonValueKind.Null
                && (maxTokens.ValueKind != JsonValueKind.Number || !maxTokens.TryGetInt32(out var max) || max < 1))
            {
                return "max_tokens must be a positive integer.";
            }

            var userContent = (lastUser.ValueKind == JsonValueKind.String ? lastUser : last).GetString() ?? "";
            request = new SeekRequest(stream, model, userContent);
            return null;
        }
    }
}
