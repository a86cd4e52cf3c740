using System.Buffers;
using System.Text;
using Flowith2Api.ChatService.Upstream.Seek;

namespace Flowith2Api.ChatService.Upstream;

/// <summary>What one <c>data:</c> event of the seek stream means.</summary>
public enum FlowithEventKind
{
    /// <summary>An incremental piece of the answer (<c>final</c>).</summary>
    Content,

    /// <summary>The end of the answer: <c>final</c> with <c>[DONE]</c>, or a bare <c>data: [DONE]</c>.</summary>
    Done,

    /// <summary><c>searching</c>, <c>seeds</c> and unknown tags: progress, not answer text.</summary>
    Progress,

    /// <summary>An error object inside the stream.</summary>
    Error,
}

public readonly record struct FlowithEvent(FlowithEventKind Kind, string? Text = null);

/// <summary>The seek API's wire format (UPSTREAM.md): request bodies out, events and answers in.</summary>
public static class FlowithWire
{
    private static readonly byte[] DoneMarker = "[DONE]"u8.ToArray();

    /// <summary>Writes the seek request body: string contents, a <c>kb_list</c>, the stream flag, model and limit.</summary>
    public static byte[] WriteRequestBody(ConversationRequest request, IReadOnlyList<string> knowledgeBases, bool stream)
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteStartArray("messages");
            foreach (var (role, text) in SeekPrompt.Messages(request))
            {
                json.WriteStartObject();
                json.WriteString("role", RoleName(role));
                json.WriteString("content", text);
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteStartArray("kb_list");
            foreach (var kb in knowledgeBases)
            {
                json.WriteStringValue(kb);
            }

            json.WriteEndArray();
            json.WriteBoolean("stream", stream);
            if (!string.IsNullOrEmpty(request.UpstreamModel))
            {
                json.WriteString("model", request.UpstreamModel);
            }

            if (request.MaxTokens is { } maxTokens)
            {
                json.WriteNumber("max_tokens", maxTokens);
            }

            json.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static string RoleName(ConversationRole role) => role switch
    {
        ConversationRole.System => "system",
        ConversationRole.Assistant => "assistant",
        _ => "user",
    };

    /// <summary>Parses the data of one stream event: <c>{"tag":…,"content":…}</c> or a bare <c>[DONE]</c>.</summary>
    public static FlowithEvent ParseEvent(ReadOnlySpan<byte> data)
    {
        data = Trim(data);
        if (data.IsEmpty)
        {
            return new FlowithEvent(FlowithEventKind.Progress);
        }

        if (data.SequenceEqual(DoneMarker))
        {
            return new FlowithEvent(FlowithEventKind.Done);
        }

        string? tag = null;
        string? content = null;
        string? error = null;
        try
        {
            var reader = new Utf8JsonReader(data);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return new FlowithEvent(FlowithEventKind.Progress);
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("tag"u8))
                {
                    reader.Read();
                    tag = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
                }
                else if (reader.ValueTextEquals("content"u8))
                {
                    reader.Read();
                    if (reader.TokenType == JsonTokenType.String)
                    {
                        content = reader.GetString();
                    }
                    else
                    {
                        reader.Skip();
                    }
                }
                else if (reader.ValueTextEquals("error"u8))
                {
                    reader.Read();
                    error = ReadErrorMessage(ref reader);
                }
                else
                {
                    reader.Read();
                    reader.Skip();
                }
            }
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            return new FlowithEvent(FlowithEventKind.Progress);
        }

        if (error is not null)
        {
            return new FlowithEvent(FlowithEventKind.Error, error);
        }

        if (tag == "final")
        {
            return content == "[DONE]"
                ? new FlowithEvent(FlowithEventKind.Done)
                : new FlowithEvent(FlowithEventKind.Content, content ?? "");
        }

        return new FlowithEvent(FlowithEventKind.Progress);
    }

    /// <summary>
    /// Reads a non-streaming answer: <c>{"tag":"final","content":"…"}</c>, tolerating <c>answer</c>,
    /// <c>message</c> or <c>text</c> in place of <c>content</c>. Null when the body is not such an object.
    /// </summary>
    public static string? ParseCompleteAnswer(ReadOnlySpan<byte> body)
    {
        try
        {
            var reader = new Utf8JsonReader(Trim(body));
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return null;
            }

            string? content = null;
            string? fallback = null;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isContent = reader.ValueTextEquals("content"u8);
                var isFallback = reader.ValueTextEquals("answer"u8) || reader.ValueTextEquals("message"u8) || reader.ValueTextEquals("text"u8);
                reader.Read();
                if (reader.TokenType == JsonTokenType.String && (isContent || isFallback))
                {
                    if (isContent)
                    {
                        content = reader.GetString();
                    }
                    else
                    {
                        fallback ??= reader.GetString();
                    }
                }
                else
                {
                    reader.Skip();
                }
            }

            return content ?? fallback;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            return null;
        }
    }

    /// <summary>Reads <c>{"models":["gpt-4.1-mini",…],"count":N}</c> (or a bare array); null when it is neither.</summary>
    public static IReadOnlyList<string>? ParseModelList(ReadOnlySpan<byte> body)
    {
        try
        {
            var reader = new Utf8JsonReader(Trim(body));
            if (!reader.Read())
            {
                return null;
            }

            if (reader.TokenType == JsonTokenType.StartObject)
            {
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    var isModels = reader.ValueTextEquals("models"u8) || reader.ValueTextEquals("data"u8);
                    reader.Read();
                    if (isModels && reader.TokenType == JsonTokenType.StartArray)
                    {
                        return ReadIds(ref reader);
                    }

                    reader.Skip();
                }

                return null;
            }

            return reader.TokenType == JsonTokenType.StartArray ? ReadIds(ref reader) : null;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            return null;
        }
    }

    private static List<string> ReadIds(ref Utf8JsonReader reader)
    {
        var ids = new List<string>();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (reader.TokenType == JsonTokenType.String)
            {
                ids.Add(reader.GetString()!);
            }
            else if (reader.TokenType == JsonTokenType.StartObject)
            {
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    var isId = reader.ValueTextEquals("id"u8);
                    reader.Read();
                    if (isId && reader.TokenType == JsonTokenType.String)
                    {
                        ids.Add(reader.GetString()!);
                    }
                    else
                    {
                        reader.Skip();
                    }
                }
            }
            else
            {
                reader.Skip();
            }
        }

        return ids;
    }

    /// <summary>A short, safe description of an upstream error body (JSON message, plain text, or "an HTML page").</summary>
    public static string DescribeErrorBody(ReadOnlySpan<byte> body, string? mediaType)
    {
        body = Trim(body);
        if (body.IsEmpty)
        {
            return "no body";
        }

        if ((mediaType?.Contains("html", StringComparison.OrdinalIgnoreCase) ?? false) || body.StartsWith("<"u8))
        {
            return "an HTML error page";
        }

        if (body[0] == (byte)'{')
        {
            try
            {
                var reader = new Utf8JsonReader(body);
                reader.Read();
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    var interesting = reader.ValueTextEquals("message"u8) || reader.ValueTextEquals("error"u8) || reader.ValueTextEquals("detail"u8);
                    reader.Read();
                    if (interesting)
                    {
                        var message = reader.TokenType == JsonTokenType.String ? reader.GetString() : ReadErrorMessage(ref reader);
                        if (!string.IsNullOrWhiteSpace(message))
                        {
                            return Shorten(message);
                        }
                    }
                    else
                    {
                        reader.Skip();
                    }
                }
            }
            catch (Exception e) when (e is JsonException or InvalidOperationException)
            {
            }
        }

        return Shorten(Encoding.UTF8.GetString(body[..Math.Min(body.Length, 400)]));
    }

    private static string? ReadErrorMessage(ref Utf8JsonReader reader)
    {
        if (reader.TokenType == JsonTokenType.String)
        {
            return reader.GetString();
        }

        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return "upstream error";
        }

        string? message = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var isMessage = reader.ValueTextEquals("message"u8);
            reader.Read();
            if (isMessage && reader.TokenType == JsonTokenType.String)
            {
                message = reader.GetString();
            }
            else
            {
                reader.Skip();
            }
        }

        return message ?? "upstream error";
    }

    private static string Shorten(string text)
    {
        text = text.ReplaceLineEndings(" ").Trim();
        return text.Length <= 200 ? text : string.Concat(text.AsSpan(0, 200), "…");
    }

    private static ReadOnlySpan<byte> Trim(ReadOnlySpan<byte> data)
    {
        if (data.StartsWith("\uFEFF"u8))
        {
            data = data[3..];
        }

        var start = 0;
        while (start < data.Length && IsSpace(data[start]))
        {
            start++;
        }

        var end = data.Length;
        while (end > start && IsSpace(data[end - 1]))
        {
            end--;
        }

        return data[start..end];
    }

    private static bool IsSpace(byte b) => b is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n';
}
