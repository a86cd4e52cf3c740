using System.Text.Json;

namespace Flowith2Api.Gateway.Errors;

/// <summary>
/// Errors the Gateway answers itself, in the caller's dialect: Anthropic's envelope on <c>/v1/messages*</c>,
/// OpenAI's everywhere else. The SDKs parse these, so the shapes are exact.
/// </summary>
public static class DialectErrors
{
    public static bool IsAnthropicPath(PathString path) =>
        path.StartsWithSegments("/v1/messages", StringComparison.OrdinalIgnoreCase);

    public static Task WriteAsync(HttpContext context, int status, string message, string? openAICode = null)
    {
        var response = context.Response;
        if (response.HasStarted)
        {
            return Task.CompletedTask;
        }

        response.StatusCode = status;
        response.ContentType = "application/json";
        response.Headers.CacheControl = "no-store";

        var buffer = new System.Buffers.ArrayBufferWriter<byte>(256);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            if (IsAnthropicPath(context.Request.Path))
            {
                json.WriteString("type", "error");
                json.WriteStartObject("error");
                json.WriteString("type", AnthropicType(status));
                json.WriteString("message", message);
                json.WriteEndObject();
                json.WriteString("request_id", context.TraceIdentifier);
            }
            else
            {
                json.WriteStartObject("error");
                json.WriteString("message", message);
                json.WriteString("type", OpenAIType(status));
                json.WriteNull("param");
                if (openAICode is null)
                {
                    json.WriteNull("code");
                }
                else
                {
                    json.WriteString("code", openAICode);
                }

                json.WriteEndObject();
            }

            json.WriteEndObject();
        }

        response.ContentLength = buffer.WrittenCount;
        return response.Body.WriteAsync(buffer.WrittenMemory).AsTask();
    }

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
}
