using System.Text.Json;

namespace Flowith2Api.ChatService.Dialects.OpenAI;

/// <summary>OpenAI's error envelope <c>{"error":{"message","type","param","code"}}</c>, before the first byte.</summary>
public static class OpenAIErrors
{
    public static Task WriteAsync(HttpContext context, int status, string message, string type, string? code, string? param = null)
    {
        var response = context.Response;
        if (response.HasStarted)
        {
            return Task.CompletedTask;
        }

        response.StatusCode = status;
        response.ContentType = "application/json";
        response.Headers.CacheControl = "no-store";
        using var json = new Utf8JsonWriter(response.BodyWriter);
        WriteErrorObject(json, message, type, code, param);
        json.Flush();
        return response.BodyWriter.FlushAsync(context.RequestAborted).AsTask();
    }

    public static void WriteErrorObject(Utf8JsonWriter json, string message, string type, string? code, string? param = null)
    {
        json.WriteStartObject();
        json.WriteStartObject("error");
        json.WriteString("message", message);
        json.WriteString("type", type);
        WriteNullable(json, "param", param);
        WriteNullable(json, "code", code);
        json.WriteEndObject();
        json.WriteEndObject();
    }

    private static void WriteNullable(Utf8JsonWriter json, string name, string? value)
    {
        if (value is null)
        {
            json.WriteNull(name);
        }
        else
        {
            json.WriteString(name, value);
        }
    }
}
