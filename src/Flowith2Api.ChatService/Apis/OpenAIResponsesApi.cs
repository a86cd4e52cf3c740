using System.Text.Json;
using Flowith2Api.ChatService.Conversation;
using Flowith2Api.ChatService.Dialects.OpenAI;
using Flowith2Api.ChatService.Dialects.Responses;
using Flowith2Api.ChatService.Models;
using Flowith2Api.ChatService.ServerTools;
using Flowith2Api.ChatService.Sessions;
using Flowith2Api.ChatService.Upstream;
using Microsoft.Extensions.Options;

namespace Flowith2Api.ChatService.Apis;

/// <summary><c>POST /v1/responses</c>: the OpenAI Responses dialect on the same conversation model as chat completions.</summary>
public static partial class OpenAIResponsesApi
{
    public static IEndpointRouteBuilder MapOpenAIResponsesApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/responses", CreateResponseAsync);
        return app;
    }

    public static async Task CreateResponseAsync(HttpContext context, ChatExecutor executor, ToolLoop toolLoop, ModelCatalog catalog,
        SessionService sessions, TokenCounter tokens, IOptionsMonitor<ChatOptions> options, ILogger<ChatExecutor> logger)
    {
        var aborted = context.RequestAborted;
        var body = await OpenAIErrors.ReadBodyAsync(context, ResponsesJsonContext.Default.ResponsesRequest);
        if (body is null)
        {
            return;
        }

        if (body.PreviousResponseId is not null)
        {
            await OpenAIErrors.WriteAsync(context, StatusCodes.Status400BadRequest,
                "'previous_response_id' is not available on this gateway yet: send the whole conversation in 'input'.",
                "invalid_request_error", "unsupported_parameter", "previous_response_id");
            return;
        }

        var settings = options.CurrentValue;
        RequestError? error;
        ConversationRequest request;
        using (ChatTelemetry.StartTranslation("responses"))
        {
            error = ResponsesRequestMapper.TryMap(body, settings.DefaultModel, out request);
        }

        if (error is not null)
        {
            await OpenAIErrors.WriteAsync(context, StatusCodes.Status400BadRequest, error.Message, "invalid_request_error", error.Code, error.Param);
            return;
        }

        var model = await catalog.ResolveAsync(request.PublicModel, aborted);
        if (model is null)
        {
            await OpenAIErrors.WriteAsync(context, StatusCodes.Status404NotFound, ModelsApi.NotFoundMessage(request.PublicModel),
                "invalid_request_error", "model_not_found", "model");
            return;
        }

        var (offered, serverTools) = await toolLoop.OfferAsync(request, aborted);
        request = offered with { UpstreamModel = model.UpstreamId, Messages = PromptShaper.Apply(offered, settings) };
        var call = new ChatCall(context.TraceIdentifier) { Model = request.PublicModel, UpstreamModel = model.UpstreamId, Stream = request.Stream };
        context.Features.Set(call);
        var turn = new TurnContext(executor, toolLoop, sessions, null, tokens, request, call, serverTools, SessionService.OwnerOf(context));
        var echo = new ResponseEcho(ResponsesWriter.NewId("resp"), DateTimeOffset.UtcNow.ToUnixTimeSeconds(), request.PublicModel, body);
        try
        {
            if (request.Stream)
            {
                using (context.RequestServices.GetRequiredService<ChatStats>().OpenStream())
                {
                    await StreamAsync(context, turn, echo);
                }

                return;
            }

            var state = await turn.ToolLoop.CompleteAsync(turn.Request, turn.ServerTools, turn.Call, turn.KeyId, aborted);
            var (summary, usage, finish) = await turn.FinishAsync(state);
            call.WriteTimingHeaders(context.Response);
            context.Response.StatusCode = StatusCodes.Status200OK;
            context.Response.ContentType = "application/json";
            using (var json = new Utf8JsonWriter(context.Response.BodyWriter))
            {
                ResponsesWriter.WriteResponse(json, echo, finish == AnswerFinish.MaxTokens ? "incomplete" : "completed", summary, new ResponseOutputIds(),
                    usage, finish == AnswerFinish.MaxTokens ? "max_output_tokens" : null);
            }

            await context.Response.BodyWriter.FlushAsync(aborted);
        }
        catch (UpstreamException e)
        {
            LogFailed(logger, e.Kind, e.Message);
            call.WriteTimingHeaders(context.Response);
            await OpenAIErrors.WriteUpstreamAsync(context, e);
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            // The client went away; the upstream call was cancelled with it.
        }
    }

    /// <summary>
    /// The stream starts once the upstream has committed (as for chat completions: a failure before that is a plain
    /// error response); later failures are an <c>error</c> event followed by <c>response.failed</c>.
    /// </summary>
    private static async Task StreamAsync(HttpContext context, TurnContext turn, ResponseEcho echo)
    {
        var aborted = context.RequestAborted;
        var started = await turn.Executor.StartStreamAsync(turn.Request, turn.Call, aborted);
        OpenAIStreamWriter.PrepareHeaders(context.Response);
        turn.Call.WriteTimingHeaders(context.Response);
        using var writer = new ResponsesStreamWriter(context.Response, echo);
        try
        {
            await writer.StartAsync(aborted);
        }
        catch
        {
            await started.DisposeAsync(); // the tool loop has not taken the stream over yet
            throw;
        }

        var state = new LoopState();
        try
        {
            await foreach (var item in turn.ToolLoop.StreamAsync(started, turn.Request, turn.ServerTools, turn.Call, turn.KeyId, state, aborted))
            {
                await (item.Kind switch
                {
                    AnswerEventKind.Reasoning => writer.WriteReasoningAsync(item.Text, aborted),
                    AnswerEventKind.ToolCall => writer.WriteFunctionCallAsync(item.Call!, aborted),
                    _ => writer.WriteTextAsync(item.Text, aborted),
                });
            }
        }
        catch (UpstreamException e)
        {
            await writer.FailAsync(UpstreamErrors.StreamCode(e), $"The upstream stream failed: {e.Message}", aborted);
            return;
        }

        var (summary, usage, finish) = await turn.FinishAsync(state);
        await writer.FinishAsync(summary, usage, finish, aborted);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Response failed ({Kind}): {Message}")]
    private static partial void LogFailed(ILogger logger, UpstreamFailureKind kind, string message);
}
