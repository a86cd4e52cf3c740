using Flowith2Api.ChatService.Conversation;
using Flowith2Api.ChatService.Dialects.OpenAI;
using Flowith2Api.ChatService.Turns;
using Microsoft.Extensions.Options;

namespace Flowith2Api.ChatService.Apis;

/// <summary><c>POST /v1/chat/completions</c>: the OpenAI dialect on the Flowith upstream.</summary>
public static class OpenAIChatCompletionsApi
{
    public static IEndpointRouteBuilder MapOpenAIChatCompletionsApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/chat/completions", CreateChatCompletionAsync);
        return app;
    }

    public static async Task CreateChatCompletionAsync(HttpContext context, TurnRunner runner, IOptionsMonitor<ChatOptions> options)
    {
        if (await OpenAIChatTurn.ReadAsync(context, options.CurrentValue) is { } turn)
        {
            await runner.RunAsync(context, turn);
        }
    }
}
