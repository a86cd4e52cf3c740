using System.Diagnostics;
using System.Text.Json;
using Flowith2Api.ChatService.Conversation;
using Flowith2Api.ChatService.Dialects.Anthropic;
using Flowith2Api.ChatService.Models;
using Flowith2Api.ChatService.Sessions;
using Flowith2Api.ChatService.Upstream;
using Flowith2Api.ServiceDefaults;
using Microsoft.Extensions.Options;

namespace Flowith2Api.ChatService.Apis;

/// <summary><c>POST /v1/messages</c> and <c>/v1/messages/count_tokens</c>: the Anthropic dialect.</summary>
public static partial class AnthropicMessagesApi
{
    public static IEndpointRouteBuilder MapAnthropicMessagesApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/messages", CreateMessageAsync);
        app.MapPost("/v1/messages/count_tokens", CountTokensAsync);
        return app;
    }

    public static async Task CreateMessageAsync(HttpContext context, ChatExecutor executor, ModelCatalog catalog, SessionService sessions,
        TokenCounter tokens, IOptions<ChatOptions> options, ILogger<ChatExecutor> logger)
    {
        var settings = options.Value;
        var (request, body) = await ReadRequestAsync(context, settings, countOnly: false);
        if (request is null || body is null)
        {
            return;
        }

        var model = await catalog.ResolveAsync(request.PublicModel, context.RequestAborted);
        if (model is null)
        {
            await WriteErrorAsync(context, StatusCodes.Status404NotFound, "not_found_error", ModelsApi.NotFoundMessage(request.PublicModel));
            return;
        }

        var requestedSession = SessionService.RequestedId(context, body.SessionId);
        var (outcome, turn, withHistory) = await sessions.BeginAsync(requestedSession, body.AutoSession == true, SessionService.OwnerOf(context), request);
        if (SessionErrors.Describe(outcome, requestedSession) is { } sessionError)
        {
            await WriteErrorAsync(context, sessionError.Status, sessionError.Status switch { 404 => "not_found_error", 503 => "api_error", _ => "invalid_request_error" },
                sessionError.Message);
            return;
        }

        if (turn is not null)
        {
            context.Response.Headers[SessionService.Header] = turn.Id;
        }

        request = withHistory with { UpstreamModel = model.UpstreamId, Messages = PromptShaper.Apply(withHistory, settings) };
        Activity.Current?.SetTag("gen_ai.request.model", request.PublicModel);
        var call = new ChatCall(context.TraceIdentifier);
        try
        {
            if (request.Stream)
            {
                await StreamAsync(context, executor, sessions, turn, tokens, settings, request, call, logger);
            }
            else
            {
                var text = await executor.CompleteAsync(request, call, context.RequestAborted);
                var answer = new AnswerPipeline(request, settings.EnableThinkingTags, logger).Complete(text);
                var usage = CountUsage(tokens, request, answer);
                if (turn is not null)
                {
                    await sessions.CommitAsync(turn, SessionErrors.StoredAnswer(answer));
                }

                call.WriteTimingHeaders(context.Response);
                await AnthropicResponseWriter.WriteMessageAsync(context, AnthropicResponseWriter.NewMessageId(), request.PublicModel,
                    answer, answer.Finish(request.MaxTokens, usage.OutputTokens), usage, turn?.Id);
            }
        }
        catch (UpstreamException e) when (!context.Response.HasStarted)
        {
            LogFailed(logger, e.Kind, e.Message);
            call.WriteTimingHeaders(context.Response);
            var (status, type) = Classify(e);
            if (e.RetryAfter is { } retryAfter)
            {
                context.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
            }

            await WriteErrorAsync(context, status, type, e.Message);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client went away; the upstream call was cancelled with it.
        }
    }

    public static async Task CountTokensAsync(HttpContext context, TokenCounter tokens, IOptions<ChatOptions> options)
    {
        var (request, _) = await ReadRequestAsync(context, options.Value, countOnly: true);
        if (request is null)
        {
            return;
        }

        var count = tokens.CountPrompt(PromptShaper.Apply(request, options.Value));
        await JsonResponse.WriteAsync(context, StatusCodes.Status200OK, json =>
        {
            json.WriteStartObject();
            json.WriteNumber("input_tokens", count);
            json.WriteEndObject();
        });
    }

    private static async Task StreamAsync(HttpContext context, ChatExecutor executor, SessionService sessions, SessionTurn? turn, TokenCounter tokens,
        ChatOptions settings, ConversationRequest request, ChatCall call, ILogger logger)
    {
        var aborted = context.RequestAborted;
        var keepAlive = TimeSpan.FromMilliseconds(settings.KeepAliveMs);
        var inputTokens = tokens.CountPrompt(request.Messages);
        using var writer = new AnthropicStreamWriter(context.Response, AnthropicResponseWriter.NewMessageId(), request.PublicModel, turn?.Id);

        // Wait for a good start (retries stay invisible); if that takes long, commit and keep the client alive with pings.
        var starting = executor.StartStreamAsync(request, call, aborted);
        StartedAnswer stream;
        try
        {
            stream = await KeepAlive.AwaitAsync(starting, keepAlive, () => CommitAsync(context, writer, call, inputTokens, aborted), aborted);
        }
        catch (UpstreamException e) when (writer.Started)
        {
            await writer.WriteErrorAsync(Classify(e).Type, e.Message, aborted);
            return;
        }
        catch (OperationCanceledException)
        {
            _ = starting.ContinueWith(static t => t.IsCompletedSuccessfully ? t.Result.DisposeAsync().AsTask() : Task.CompletedTask, TaskScheduler.Default);
            throw;
        }

        await using (stream)
        {
            if (!writer.Started)
            {
                await CommitAsync(context, writer, call, inputTokens, aborted);
            }

            var answer = new AnswerPipeline(request, settings.EnableThinkingTags, logger);
            await using var pieces = stream.ReadAllAsync().GetAsyncEnumerator(aborted);
            try
            {
                while (!answer.Finished && await KeepAlive.MoveNextAsync(pieces, keepAlive, () => writer.WritePingAsync(aborted).AsTask(), aborted))
                {
                    await WriteEventsAsync(writer, answer.Push(pieces.Current), aborted);
                }
            }
            catch (UpstreamException e)
            {
                await writer.WriteErrorAsync("api_error", $"The upstream stream failed: {e.Message}", aborted);
                return;
            }

            await WriteEventsAsync(writer, answer.Flush(), aborted);
            var usage = new Usage(inputTokens, CountUsage(tokens, request, answer).OutputTokens);
            var finish = answer.Finish(request.MaxTokens, usage.OutputTokens);
            if (turn is not null)
            {
                await sessions.CommitAsync(turn, SessionErrors.StoredAnswer(answer));
            }

            await writer.WriteFinishAsync(AnthropicResponseWriter.StopReason(finish), answer.StopSequence, usage, aborted);
        }
    }

    private static async Task CommitAsync(HttpContext context, AnthropicStreamWriter writer, ChatCall call, int inputTokens, CancellationToken cancellationToken)
    {
        if (writer.Started)
        {
            await writer.WritePingAsync(cancellationToken);
            return;
        }

        AnthropicStreamWriter.PrepareHeaders(context.Response);
        call.WriteTimingHeaders(context.Response);
        await writer.WriteMessageStartAsync(inputTokens, cancellationToken);
        await writer.WritePingAsync(cancellationToken);
    }

    private static async Task WriteEventsAsync(AnthropicStreamWriter writer, IReadOnlyList<AnswerEvent> events, CancellationToken cancellationToken)
    {
        foreach (var item in events)
        {
            switch (item.Kind)
            {
                case AnswerEventKind.Reasoning:
                    await writer.WriteThinkingAsync(item.Text, cancellationToken);
                    break;
                case AnswerEventKind.Text:
                    await writer.WriteTextAsync(item.Text, cancellationToken);
                    break;
                case AnswerEventKind.ToolCall:
                    await writer.WriteToolUseAsync(item.Call!, cancellationToken);
                    break;
            }
        }
    }

    /// <summary>Reads and maps the body; on a problem, answers the error itself and returns nulls.</summary>
    private static async Task<(ConversationRequest? Request, AnthropicMessagesRequest? Body)> ReadRequestAsync(HttpContext context, ChatOptions settings, bool countOnly)
    {
        if (!settings.EnableClaudeApi)
        {
            await WriteErrorAsync(context, StatusCodes.Status404NotFound, "not_found_error",
                "The Claude (Anthropic Messages) API is turned off on this gateway (ENABLE_CLAUDE_API=false).");
            return (null, null);
        }

        AnthropicMessagesRequest? body;
        try
        {
            body = await JsonSerializer.DeserializeAsync(context.Request.Body, AnthropicJsonContext.Default.AnthropicMessagesRequest, context.RequestAborted);
        }
        catch (JsonException e)
        {
            await WriteErrorAsync(context, StatusCodes.Status400BadRequest, "invalid_request_error",
                $"The request body is not valid JSON for this endpoint (at {e.Path ?? "$"}).");
            return (null, null);
        }

        if (body is null)
        {
            await WriteErrorAsync(context, StatusCodes.Status400BadRequest, "invalid_request_error", "The request body must be a JSON object.");
            return (null, null);
        }

        var error = AnthropicRequestMapper.TryMap(body, settings.DefaultModel, countOnly, out var request);
        if (error is not null)
        {
            await WriteErrorAsync(context, StatusCodes.Status400BadRequest, "invalid_request_error", error.Message);
            return (null, null);
        }

        return (request, body);
    }

    private static Usage CountUsage(TokenCounter tokens, ConversationRequest request, AnswerPipeline answer) =>
        new(tokens.CountPrompt(request.Messages), tokens.CountText(answer.OutputForCounting));

    private static (int Status, string Type) Classify(UpstreamException e) => e.Kind switch
    {
        UpstreamFailureKind.CredentialsExhausted or UpstreamFailureKind.CredentialRejected => (529, "overloaded_error"),
        UpstreamFailureKind.RateLimited => (StatusCodes.Status429TooManyRequests, "rate_limit_error"),
        UpstreamFailureKind.NoCredentials => (StatusCodes.Status503ServiceUnavailable, "api_error"),
        UpstreamFailureKind.Timeout => (StatusCodes.Status504GatewayTimeout, "api_error"),
        _ => (StatusCodes.Status502BadGateway, "api_error"),
    };

    private static Task WriteErrorAsync(HttpContext context, int status, string type, string message) =>
        ErrorEnvelopes.WriteResponseAsync(context, status, json => ErrorEnvelopes.WriteAnthropic(json, message, type, context.TraceIdentifier));

    [LoggerMessage(Level = LogLevel.Warning, Message = "Anthropic message failed ({Kind}): {Message}")]
    private static partial void LogFailed(ILogger logger, UpstreamFailureKind kind, string message);
}
