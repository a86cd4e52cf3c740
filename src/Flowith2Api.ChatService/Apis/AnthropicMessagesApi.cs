using Flowith2Api.ChatService.Conversation;
using Flowith2Api.ChatService.Dialects.Anthropic;
using Flowith2Api.ChatService.Turns;
using Flowith2Api.ServiceDefaults;
using Microsoft.Extensions.Options;

namespace Flowith2Api.ChatService.Apis;

/// <summary><c>POST /v1/messages</c> and <c>/v1/messages/count_tokens</c>: the Anthropic dialect.</summary>
public static class AnthropicMessagesApi
{
    public static IEndpointRouteBuilder MapAnthropicMessagesApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/messages", CreateMessageAsync);
        app.MapPost("/v1/messages/count_tokens", CountTokensAsync);
        return app;
    }

    public static async Task CreateMessageAsync(HttpContext context, TurnRunner runner, IOptionsMonitor<ChatOptions> options)
    {
        if (await AnthropicMessagesTurn.ReadAsync(context, options.CurrentValue, countOnly: false) is { } turn)
        {
            await runner.RunAsync(context, turn);
        }
    }

    public static async Task CountTokensAsync(HttpContext context, TokenCounter tokens, IOptionsMonitor<ChatOptions> options)
    {
        if (await AnthropicMessagesTurn.ReadAsync(context, options.CurrentValue, countOnly: true) is not { } turn)
        {
            return;
        }

        var count = tokens.CountPrompt(turn.Request with { Messages = PromptShaper.Apply(turn.Request, options.CurrentValue) });
        await JsonResponse.WriteAsync(context, StatusCodes.Status200OK, json =>
        {
            json.WriteStartObject();
            json.WriteNumber("input_tokens", count);
            json.WriteEndObject();
        });
    }
}
