using Flowith2Api.ServiceDefaults;

namespace Flowith2Api.ChatService.Dialects.OpenAI;

/// <summary>OpenAI's error envelope before the first byte.</summary>
public static class OpenAIErrors
{
    public static Task WriteAsync(HttpContext context, int status, string message, string type, string? code, string? param = null) =>
        ErrorEnvelopes.WriteResponseAsync(context, status, json => ErrorEnvelopes.WriteOpenAI(json, message, type, code, param));
}
