using Flowith2Api.ChatService.Dialects.Anthropic;
using Flowith2Api.ChatService.Dialects.OpenAI;
using Flowith2Api.ChatService.Dialects.Responses;
using Flowith2Api.Contracts;
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
        app.MapPost("/v1/chat/completions", CreateChatCompletionAsync)
            .WithTags("OpenAI").WithSummary("Create a chat completion")
            .WithDescription("OpenAI's chat completions; with stream: true a text/event-stream of chat.completion.chunk events ending in [DONE].")
            .Accepts<OpenAIChatRequest>("application/json")
            .Produces<ChatCompletionDescription>(StatusCodes.Status200OK, "application/json", "text/event-stream")
            .WithErrors<OpenAIErrorDescription>()
            .WithSessionHeader();
        app.MapPost("/v1/messages", CreateMessageAsync)
            .WithTags("Anthropic").WithSummary("Create a message")
            .WithDescription("Anthropic's messages API; with stream: true Anthropic's event stream (message_start … message_stop).")
            .Accepts<AnthropicMessagesRequest>("application/json")
            .Produces<AnthropicMessageDescription>(StatusCodes.Status200OK, "application/json", "text/event-stream")
            .WithErrors<AnthropicErrorDescription>()
            .WithSessionHeader();
        app.MapPost("/v1/messages/count_tokens", CountTokensAsync)
            .WithTags("Anthropic").WithSummary("Count a message's input tokens")
            .Accepts<AnthropicMessagesRequest>("application/json")
            .Produces<TokenCountDescription>()
            .WithErrors<AnthropicErrorDescription>();
        app.MapPost("/v1/responses", CreateResponseAsync)
            .WithTags("OpenAI Responses").WithSummary("Create a response")
            .WithDescription("OpenAI's Responses API (stored responses, previous_response_id); with stream: true the Responses event stream.")
            .Accepts<ResponsesRequest>("application/json")
            .Produces(StatusCodes.Status200OK, contentType: "application/json")
            .WithErrors<OpenAIErrorDescription>(); // its conversations are previous_response_id, not gateway sessions
        return app;
    }

    /// <summary>The error answers a turn endpoint gives, in its dialect's envelope.</summary>
    private static RouteHandlerBuilder WithErrors<TError>(this RouteHandlerBuilder endpoint) => endpoint
        .Produces<TError>(StatusCodes.Status400BadRequest).Produces<TError>(StatusCodes.Status401Unauthorized)
        .Produces<TError>(StatusCodes.Status404NotFound).Produces<TError>(StatusCodes.Status429TooManyRequests)
        .Produces<TError>(StatusCodes.Status502BadGateway).Produces<TError>(StatusCodes.Status503ServiceUnavailable);

    /// <summary>The <c>x-session-id</c> header (an extension): the gateway session a turn continues.</summary>
    private static RouteHandlerBuilder WithSessionHeader(this RouteHandlerBuilder endpoint) =>
        endpoint.AddOpenApiOperationTransformer((operation, _, _) =>
        {
            operation.Parameters ??= [];
            operation.Parameters.Add(new Microsoft.OpenApi.OpenApiParameter
            {
                Name = Sessions.SessionService.Header,
                In = Microsoft.OpenApi.ParameterLocation.Header,
                Description = "Extension: continue the gateway session with this id (the same as session_id in the body).",
                Schema = new Microsoft.OpenApi.OpenApiSchema { Type = Microsoft.OpenApi.JsonSchemaType.String },
            });
            return Task.CompletedTask;
        });

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
