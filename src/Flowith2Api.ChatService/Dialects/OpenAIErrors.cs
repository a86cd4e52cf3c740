using System.Text.Json.Serialization.Metadata;
using Flowith2Api.Contracts;

namespace Flowith2Api.ChatService.Dialects;

/// <summary>OpenAI's error envelope before the first byte (Chat Completions and Responses share it).</summary>
public static class OpenAIErrors
{
    /// <summary>OpenAI's error type for a status.</summary>
    public static string TypeOf(int status) => status switch
    {
        >= 500 => "server_error",
        StatusCodes.Status429TooManyRequests => "rate_limit_error",
        _ => "invalid_request_error",
    };

    public static Task WriteAsync(HttpContext context, int status, string message, string type, string? code, string? param = null) =>
        ErrorEnvelopes.WriteResponseAsync(context, status, json => ErrorEnvelopes.WriteOpenAI(json, message, type, code, param));

    /// <summary>The request body as <typeparamref name="T"/>; null once a 400 (not JSON, not an object) has been written.</summary>
    public static async Task<T?> ReadBodyAsync<T>(HttpContext context, JsonTypeInfo<T> type)
        where T : class
    {
        T? body;
        try
        {
            body = await JsonSerializer.DeserializeAsync(context.Request.Body, type, context.RequestAborted);
        }
        catch (Exception e) when (LastResortErrors.IsUnreadableInput(e) || LastResortErrors.IsInvalidTextInRequest(e))
        {
            await WriteAsync(context, StatusCodes.Status400BadRequest,
                $"The request body is not valid JSON for this endpoint (at {(e as JsonException)?.Path ?? "$"}).", "invalid_request_error", "invalid_json");
            return null;
        }

        if (body is null)
        {
            await WriteAsync(context, StatusCodes.Status400BadRequest, "The request body must be a JSON object.", "invalid_request_error", "invalid_json");
        }

        return body;
    }

    /// <summary>An upstream failure before the first byte: its status, type, code and Retry-After.</summary>
    public static Task WriteUpstreamAsync(HttpContext context, UpstreamException e)
    {
        var (status, type, code) = UpstreamErrors.Classify(e);
        UpstreamErrors.WriteRetryAfter(context.Response, e);
        return WriteAsync(context, status, e.Message, type, code);
    }
}
