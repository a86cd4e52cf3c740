using Flowith2Api.ChatService.Dialects.Anthropic;
using Flowith2Api.ChatService.Dialects.OpenAI;
using Flowith2Api.ChatService.Dialects.Responses;
using Microsoft.Extensions.Options;

namespace Flowith2Api.ChatService.Apis;

/// <summary>
/// The turn endpoints, one per dialect: <c>POST /v1/chat/completions</c> (OpenAI), <c>/v1/messages</c> (Anthropic,
/// with <c>/v1/messages/count_tokens</c>) and <c>/v1/responses</c>. Each reads its request into a turn and hands it
/// to the <see cref="TurnRunner"/>.
/// </summary>
public static class ChatTurnsApi
{
    public static IEndpointRouteBuilder MapChatTurnsApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/chat/completions", CreateChatCompletionAsync);
        app.MapPost("/v1/messages", CreateMessageAsync);
        app.MapPost("/v1/messages/count_tokens", CountTokensAsync);
        app.MapPost("/v1/responses", CreateResponseAsync);
        return app;
    }

    public static async Task CreateChatCompletionAsync(HttpContext context, TurnRunner runner, IOptionsMonitor<ChatOptions> options) =>
        await RunAsync(context, runner, await OpenAIChatTurn.ReadAsync(context, options.CurrentValue));

    public static async Task CreateMessageAsync(HttpContext context, TurnRunner runner, IOptionsMonitor<ChatOptions> options) =>
        await RunAsync(context, runner, await AnthropicMessagesTurn.ReadAsync(context, options.CurrentValue, countOnly: false));

    public static async Task CreateResponseAsync(HttpContext context, TurnRunner runner, ResponsesServices services) =>
        await RunAsync(context, runner, await ResponsesTurn.ReadAsync(context, services));

    /// <summary>Anthropic's token count of what the request would send upstream.</summary>
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

    /// <summary>A turn that was read (null: its error has been written already) is run.</summary>
    private static Task RunAsync(HttpContext context, TurnRunner runner, DialectTurn? turn) =>
        turn is null ? Task.CompletedTask : runner.RunAsync(context, turn);
}
