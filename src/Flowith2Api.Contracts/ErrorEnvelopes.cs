using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Flowith2Api.Contracts;

/// <summary>
/// The two error envelopes the SDKs parse, written exactly: OpenAI's <c>{"error":{"message","type","param","code"}}</c>
/// and Anthropic's <c>{"type":"error","error":{"type","message"}}</c>. Shared by the Gateway (errors it answers itself)
/// and the ChatService (errors of each dialect before the first streamed byte).
/// </summary>
public static class ErrorEnvelopes
{
    public static void WriteOpenAI(Utf8JsonWriter json, string message, string type, string? code, string? param = null)
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

    public static void WriteAnthropic(Utf8JsonWriter json, string message, string type, string? requestId)
    {
        json.WriteStartObject();
        json.WriteString("type", "error");
        json.WriteStartObject("error");
        json.WriteString("type", type);
        json.WriteString("message", message);
        json.WriteEndObject();
        if (requestId is not null)
        {
            json.WriteString("request_id", requestId);
        }

        json.WriteEndObject();
    }

    /// <summary>Anthropic's routes (<c>/v1/messages*</c>) answer in Anthropic's envelope; the others in OpenAI's (or a problem document).</summary>
    public static bool IsAnthropicPath(PathString path) => path.StartsWithSegments("/v1/messages", StringComparison.OrdinalIgnoreCase);

    /// <summary>Writes a complete JSON error response, unless the response has already started.</summary>
    public static Task WriteResponseAsync(HttpContext context, int status, Action<Utf8JsonWriter> write) =>
        JsonResponse.WriteAsync(context, status, write);

    public static string AnthropicType(int status) => status switch
    {
        400 => "invalid_request_error",
        401 => "authentication_error",
        403 => "permission_error",
        404 => "not_found_error",
        413 => "request_too_large",
        429 => "rate_limit_error",
        503 or 529 => "overloaded_error",
        _ => "api_error",
    };

    public static string OpenAIType(int status) => status switch
    {
        401 => "authentication_error",
        403 => "permission_error",
        404 => "not_found_error",
        429 => "rate_limit_error",
        >= 500 => "server_error",
        _ => "invalid_request_error",
    };

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
