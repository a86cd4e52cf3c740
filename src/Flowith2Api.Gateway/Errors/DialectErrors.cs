using Flowith2Api.Contracts;

namespace Flowith2Api.Gateway.Errors;

/// <summary>
/// Errors the Gateway answers itself, in the caller's dialect: Anthropic's envelope on <c>/v1/messages*</c>,
/// OpenAI's everywhere else.
/// </summary>
public static class DialectErrors
{
    public static Task WriteAsync(HttpContext context, int status, string message, string? openAICode = null) =>
        ErrorEnvelopes.IsAnthropicPath(context.Request.Path)
            ? ErrorEnvelopes.WriteResponseAsync(context, status,
                json => ErrorEnvelopes.WriteAnthropic(json, message, ErrorEnvelopes.AnthropicType(status), context.TraceIdentifier))
            : ErrorEnvelopes.WriteResponseAsync(context, status,
                json => ErrorEnvelopes.WriteOpenAI(json, message, ErrorEnvelopes.OpenAIType(status), openAICode));
}
