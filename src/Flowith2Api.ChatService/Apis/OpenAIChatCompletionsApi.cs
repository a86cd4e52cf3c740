using System.Diagnostics;
using System.Text.Json;
using Flowith2Api.ChatService.Conversation;
using Flowith2Api.ChatService.Dialects.OpenAI;
using Flowith2Api.ChatService.Models;
using Flowith2Api.ChatService.Sessions;
using Flowith2Api.ChatService.Upstream;
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

    public static async Task CreateChatCompletionAsync(HttpContext context, ChatExecutor executor, ModelCatalog catalog,
        SessionService sessions, TokenCounter tokens, IOptions<ChatOptions> options, ILogger<ChatExecutor> logger)
    {
        var aborted = context.RequestAborted;
        var call = new ChatCall(context.TraceIdentifier);
        OpenAIChatRequest? body;
        try
        {
            body = await JsonSerializer.DeserializeAsync(context.Request.Body, OpenAIJsonContext.Default.OpenAIChatRequest, aborted);
        }
        catch (JsonException e)
        {
            await OpenAIErrors.WriteAsync(context, StatusCodes.Status400BadRequest,
                $"The request body is not valid JSON for this endpoint (at {e.Path ?? "$"}{(e.LineNumber is { } line ? $", line {line + 1}" : "")}).",
                "invalid_request_error", "invalid_json");
            return;
        }

        if (body is null)
        {
            await OpenAIErrors.WriteAsync(context, StatusCodes.Status400BadRequest, "The request body must be a JSON object.", "invalid_request_error", "invalid_json");
            return;
        }

        var settings = options.Value;
        var error = OpenAIRequestMapper.TryMap(body, settings.DefaultModel, out var request);
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

        request = withHistory with
        {
            UpstreamModel = model.UpstreamId,
            Messages = PromptShaper.Apply(withHistory, settings),
        };
        Activity.Current?.SetTag("gen_ai.request.model", request.PublicModel);

        try
        {
            if (request.Stream)
            {
                await StreamAsync(context, executor, sessions, turn, tokens, settings, request, call, body.StreamOptions?.IncludeUsage == true, logger);
            }
            else
            {
                await CompleteAsync(context, executor, sessions, turn, tokens, settings, request, call, logger);
            }
        }
        catch (UpstreamException e)
        {
            LogFailed(logger, e.Kind, e.Message);
            call.WriteTimingHeaders(context.Response);
            await WriteUpstreamErrorAsync(context, e);
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            // The client went away; the upstream call was cancelled with it.
        }
    }

    private static async Task CompleteAsync(HttpContext context, ChatExecutor executor, SessionService sessions, SessionTurn? turn, TokenCounter tokens,
        ChatOptions settings, ConversationRequest request, ChatCall call, ILogger logger)
    {
        var text = await executor.CompleteAsync(request, call, context.RequestAborted);
        var answer = new AnswerPipeline(request, settings.EnableThinkingTags, logger).Complete(text);
        var usage = CountUsage(tokens, request, answer);
        if (turn is not null)
        {
            await sessions.CommitAsync(turn, SessionErrors.StoredAnswer(answer));
        }

        call.WriteTimingHeaders(context.Response);
        await OpenAIResponseWriter.WriteCompletionAsync(context.Response, OpenAIResponseWriter.NewCompletionId(), DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
            request.PublicModel, answer, FinishReason(answer.Finish(request.MaxTokens, usage.OutputTokens)), usage, turn?.Id, context.RequestAborted);
    }

    private static async Task StreamAsync(HttpContext context, ChatExecutor executor, SessionService sessions, SessionTurn? turn, TokenCounter tokens,
        ChatOptions settings, ConversationRequest request, ChatCall call, bool includeUsage, ILogger logger)
    {
        var aborted = context.RequestAborted;
        await using var stream = await executor.StartStreamAsync(request, call, aborted);

        OpenAIStreamWriter.PrepareHeaders(context.Response);
        call.WriteTimingHeaders(context.Response);
        using var writer = new OpenAIStreamWriter(context.Response, OpenAIResponseWriter.NewCompletionId(), DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
            request.PublicModel, turn?.Id);
        await writer.WriteRoleAsync(aborted);

        var answer = new AnswerPipeline(request, settings.EnableThinkingTags, logger);
        try
        {
            await foreach (var piece in stream.ReadAllAsync())
            {
                await WriteEventsAsync(writer, answer.Push(piece), aborted);
                if (answer.Finished)
                {
                    break; // disposing the stream cancels the upstream call
                }
            }
        }
        catch (UpstreamException e)
        {
            await writer.WriteErrorAsync($"The upstream stream failed: {e.Message}", "server_error",
                e.Kind == UpstreamFailureKind.Timeout ? "upstream_timeout" : "upstream_stream_failed", aborted);
            return;
        }

        await WriteEventsAsync(writer, answer.Flush(), aborted);
        var usage = CountUsage(tokens, request, answer);
        if (turn is not null)
        {
            await sessions.CommitAsync(turn, SessionErrors.StoredAnswer(answer));
        }

        await writer.WriteFinishAsync(FinishReason(answer.Finish(request.MaxTokens, usage.OutputTokens)), aborted);
        if (includeUsage)
        {
            await writer.WriteUsageAsync(usage, aborted);
        }

        await writer.WriteDoneAsync(aborted);
    }

    private static async Task WriteEventsAsync(OpenAIStreamWriter writer, IReadOnlyList<AnswerEvent> events, CancellationToken cancellationToken)
    {
        foreach (var item in events)
        {
            switch (item.Kind)
            {
                case AnswerEventKind.Reasoning:
                    await writer.WriteReasoningAsync(item.Text, cancellationToken);
                    break;
                case AnswerEventKind.Text:
                    await writer.WriteContentAsync(item.Text, cancellationToken);
                    break;
                case AnswerEventKind.ToolCall:
                    await writer.WriteToolCallAsync(item.Call!, cancellationToken);
                    break;
            }
        }
    }

    private static Usage CountUsage(TokenCounter tokens, ConversationRequest request, AnswerPipeline answer)
    {
        var reasoningTokens = tokens.CountText(answer.Reasoning);
        var output = answer.ToolCalls.Count == 0 ? reasoningTokens + tokens.CountText(answer.Text) : tokens.CountText(answer.OutputForCounting);
        return new Usage(tokens.CountPrompt(request.Messages), output, reasoningTokens);
    }

    private static string FinishReason(AnswerFinish finish) => finish switch
    {
        AnswerFinish.ToolUse => "tool_calls",
        AnswerFinish.MaxTokens => "length",
        _ => "stop",
    };

    private static Task WriteUpstreamErrorAsync(HttpContext context, UpstreamException e)
    {
        var (status, type, code) = UpstreamErrors.Classify(e);
        if (e.RetryAfter is { } retryAfter)
        {
            context.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        return OpenAIErrors.WriteAsync(context, status, e.Message, type, code);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Chat completion failed ({Kind}): {Message}")]
    private static partial void LogFailed(ILogger logger, UpstreamFailureKind kind, string message);
}
