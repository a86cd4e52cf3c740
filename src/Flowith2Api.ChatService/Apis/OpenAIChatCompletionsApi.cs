using System.Diagnostics;
using Flowith2Api.ChatService.Conversation;
using Flowith2Api.ChatService.Dialects.OpenAI;
using Flowith2Api.ChatService.Models;
using Flowith2Api.ChatService.ServerTools;
using Flowith2Api.ChatService.Sessions;
using Flowith2Api.ChatService.Upstream;
using Flowith2Api.ServiceDefaults;
using Microsoft.Extensions.Options;

namespace Flowith2Api.ChatService.Apis;

/// <summary><c>POST /v1/chat/completions</c>: the OpenAI dialect on the Flowith upstream.</summary>
public static partial class OpenAIChatCompletionsApi
{
    public static IEndpointRouteBuilder MapOpenAIChatCompletionsApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/chat/completions", CreateChatCompletionAsync);
        return app;
    }

    public static async Task CreateChatCompletionAsync(HttpContext context, ChatExecutor executor, ToolLoop toolLoop, ModelCatalog catalog,
        SessionService sessions, TokenCounter tokens, IOptionsMonitor<ChatOptions> options, ILogger<ChatExecutor> logger)
    {
        var aborted = context.RequestAborted;
        var call = new ChatCall(context.TraceIdentifier);
        var body = await OpenAIErrors.ReadBodyAsync(context, OpenAIJsonContext.Default.OpenAIChatRequest);
        if (body is null)
        {
            return;
        }

        var settings = options.CurrentValue;
        RequestError? error;
        ConversationRequest request;
        using (ChatTelemetry.StartTranslation("openai"))
        {
            try
            {
                error = OpenAIRequestMapper.TryMap(body, settings.DefaultModel, out request);
            }
            catch (InvalidOperationException e) when (LastResortErrors.IsInvalidTextInRequest(e))
            {
                error = new RequestError(LastResortErrors.InvalidTextMessage, "messages");
                request = null!;
            }
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

        var requestedSession = SessionService.RequestedId(context, body.SessionId);
        var (outcome, turn, withHistory) = await sessions.BeginAsync(requestedSession, body.AutoSession == true, SessionService.OwnerOf(context), request);
        if (SessionErrors.Describe(outcome, requestedSession) is { } sessionError)
        {
            await OpenAIErrors.WriteAsync(context, sessionError.Status, sessionError.Message,
                sessionError.Status == 503 ? "server_error" : "invalid_request_error", sessionError.Code, "session_id");
            return;
        }

        if (turn is not null)
        {
            context.Response.Headers[SessionService.Header] = turn.Id;
        }

        var (offered, serverTools) = await toolLoop.OfferAsync(withHistory, context.RequestAborted);
        request = offered with
        {
            UpstreamModel = model.UpstreamId,
            Messages = PromptShaper.Apply(offered, settings),
        };
        call.Model = request.PublicModel;
        call.UpstreamModel = model.UpstreamId;
        call.Stream = request.Stream;
        context.Features.Set(call);
        var turnContext = new TurnContext(executor, toolLoop, sessions, turn, tokens, request, call, serverTools, SessionService.OwnerOf(context));
        Activity.Current?.SetTag("gen_ai.request.model", request.PublicModel);

        try
        {
            if (request.Stream)
            {
                using (context.RequestServices.GetRequiredService<ChatStats>().OpenStream())
                {
                    await StreamAsync(context, turnContext, body.StreamOptions?.IncludeUsage == true);
                }
            }
            else
            {
                await CompleteAsync(context, turnContext);
            }
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

    private static async Task CompleteAsync(HttpContext context, TurnContext turn)
    {
        var state = await turn.ToolLoop.CompleteAsync(turn.Request, turn.ServerTools, turn.Call, turn.KeyId, context.RequestAborted);
        var (summary, usage, finish) = await turn.FinishAsync(state);
        turn.Call.WriteTimingHeaders(context.Response);
        await OpenAIResponseWriter.WriteCompletionAsync(context.Response, OpenAIResponseWriter.NewCompletionId(), DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
            turn.Request.PublicModel, summary, FinishReason(finish), usage, turn.Session?.Id, context.RequestAborted);
    }

    private static async Task StreamAsync(HttpContext context, TurnContext turn, bool includeUsage)
    {
        var aborted = context.RequestAborted;
        var started = await turn.Executor.StartStreamAsync(turn.Request, turn.Call, aborted);

        OpenAIStreamWriter.PrepareHeaders(context.Response);
        turn.Call.WriteTimingHeaders(context.Response);
        using var writer = new OpenAIStreamWriter(context.Response, OpenAIResponseWriter.NewCompletionId(), DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
            turn.Request.PublicModel, turn.Session?.Id);
        try
        {
            await writer.WriteRoleAsync(aborted);
        }
        catch
        {
            await started.DisposeAsync(); // the tool loop has not taken the stream over yet
            throw;
        }

        var state = turn.ToolLoop.NewState(turn.Request);
        try
        {
            await foreach (var item in turn.ToolLoop.StreamAsync(started, turn.Request, turn.ServerTools, turn.Call, turn.KeyId, state, aborted))
            {
                await WriteEventAsync(writer, item, aborted);
            }
        }
        catch (UpstreamException e)
        {
            await writer.WriteErrorAsync(UpstreamErrors.StreamMessage(e), "server_error", UpstreamErrors.StreamCode(e), aborted);
            return;
        }

        var (_, usage, finish) = await turn.FinishAsync(state);
        await writer.WriteFinishAsync(FinishReason(finish), aborted);
        if (includeUsage)
        {
            await writer.WriteUsageAsync(usage, aborted);
        }

        await writer.WriteDoneAsync(aborted);
    }

    private static ValueTask<System.IO.Pipelines.FlushResult> WriteEventAsync(OpenAIStreamWriter writer, AnswerEvent item, CancellationToken cancellationToken) =>
        item.Kind switch
        {
            AnswerEventKind.Reasoning => writer.WriteReasoningAsync(item.Text, cancellationToken),
            AnswerEventKind.ToolCall => writer.WriteToolCallAsync(item.Call!, cancellationToken),
            _ => writer.WriteContentAsync(item.Text, cancellationToken),
        };

    private static string FinishReason(AnswerFinish finish) => finish switch
    {
        AnswerFinish.ToolUse => "tool_calls",
        AnswerFinish.MaxTokens => "length",
        _ => "stop",
    };

    [LoggerMessage(Level = LogLevel.Warning, Message = "Chat completion failed ({Kind}): {Message}")]
    private static partial void LogFailed(ILogger logger, UpstreamFailureKind kind, string message);
}
