using System.Diagnostics;
using System.Text.Json;
using Flowith2Api.ChatService.Conversation;
using Flowith2Api.ChatService.Dialects.Anthropic;
using Flowith2Api.ChatService.Models;
using Flowith2Api.ChatService.ServerTools;
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

    public static async Task CreateMessageAsync(HttpContext context, ChatExecutor executor, ToolLoop toolLoop, ModelCatalog catalog, SessionService sessions,
        TokenCounter tokens, IOptionsMonitor<ChatOptions> options, ILogger<ChatExecutor> logger)
    {
        var settings = options.CurrentValue;
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

        var (offered, serverTools) = await toolLoop.OfferAsync(withHistory, context.RequestAborted);
        request = offered with { UpstreamModel = model.UpstreamId, Messages = PromptShaper.Apply(offered, settings) };
        Activity.Current?.SetTag("gen_ai.request.model", request.PublicModel);
        var call = new ChatCall(context.TraceIdentifier)
        {
            Model = request.PublicModel,
            UpstreamModel = model.UpstreamId,
            Stream = request.Stream,
        };
        context.Features.Set(call);
        var turnContext = new TurnContext(executor, toolLoop, sessions, turn, tokens, request, call, serverTools, SessionService.OwnerOf(context));
        try
        {
            if (request.Stream)
            {
                using (context.RequestServices.GetRequiredService<ChatStats>().OpenStream())
                {
                    await StreamAsync(context, turnContext, settings);
                }
            }
            else
            {
                var state = await toolLoop.CompleteAsync(request, serverTools, call, turnContext.KeyId, context.RequestAborted);
                var (summary, usage, finish) = await turnContext.FinishAsync(state);
                call.WriteTimingHeaders(context.Response);
                await AnthropicResponseWriter.WriteMessageAsync(context, AnthropicResponseWriter.NewMessageId(), request.PublicModel,
                    summary, finish, usage, turn?.Id);
            }
        }
        catch (UpstreamException e) when (!context.Response.HasStarted)
        {
            LogFailed(logger, e.Kind, e.Message);
            call.WriteTimingHeaders(context.Response);
            var (status, type) = Classify(e);
            UpstreamErrors.WriteRetryAfter(context.Response, e);

            await WriteErrorAsync(context, status, type, e.Message);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client went away; the upstream call was cancelled with it.
        }
    }

    public static async Task CountTokensAsync(HttpContext context, TokenCounter tokens, IOptionsMonitor<ChatOptions> options)
    {
        var (request, _) = await ReadRequestAsync(context, options.CurrentValue, countOnly: true);
        if (request is null)
        {
            return;
        }

        var count = tokens.CountPrompt(request with { Messages = PromptShaper.Apply(request, options.CurrentValue) });
        await JsonResponse.WriteAsync(context, StatusCodes.Status200OK, json =>
        {
            json.WriteStartObject();
            json.WriteNumber("input_tokens", count);
            json.WriteEndObject();
        });
    }

    private static async Task StreamAsync(HttpContext context, TurnContext turn, ChatOptions settings)
    {
        var aborted = context.RequestAborted;
        var keepAlive = TimeSpan.FromMilliseconds(settings.KeepAliveMs);
        var inputTokens = turn.Tokens.CountPrompt(turn.Request);
        using var writer = new AnthropicStreamWriter(context.Response, AnthropicResponseWriter.NewMessageId(), turn.Request.PublicModel, turn.Session?.Id);

        // Wait for a good start (retries stay invisible); if that takes long, commit and keep the client alive with pings.
        var starting = turn.Executor.StartStreamAsync(turn.Request, turn.Call, aborted);
        StartedAnswer started;
        try
        {
            started = await KeepAlive.AwaitAsync(starting, keepAlive, () => CommitAsync(context, writer, turn.Call, inputTokens, aborted), aborted);
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

        if (!writer.Started)
        {
            try
            {
                await CommitAsync(context, writer, turn.Call, inputTokens, aborted);
            }
            catch
            {
                await started.DisposeAsync(); // the tool loop has not taken the stream over yet
                throw;
            }
        }

        var state = turn.ToolLoop.NewState(turn.Request);
        await using var events = turn.ToolLoop.StreamAsync(started, turn.Request, turn.ServerTools, turn.Call, turn.KeyId, state, aborted).GetAsyncEnumerator(aborted);
        try
        {
            while (await KeepAlive.MoveNextAsync(events, keepAlive, () => writer.WritePingAsync(aborted).AsTask(), aborted))
            {
                await WriteEventAsync(writer, events.Current, aborted);
            }
        }
        catch (UpstreamException e)
        {
            await writer.WriteErrorAsync("api_error", UpstreamErrors.StreamMessage(e), aborted);
            return;
        }

        var (summary, usage, finish) = await turn.FinishAsync(state);
        await writer.WriteFinishAsync(AnthropicResponseWriter.StopReason(finish), summary.StopSequence, new Usage(inputTokens, usage.OutputTokens), aborted);
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

    private static ValueTask<System.IO.Pipelines.FlushResult> WriteEventAsync(AnthropicStreamWriter writer, AnswerEvent item, CancellationToken cancellationToken) =>
        item.Kind switch
        {
            AnswerEventKind.Reasoning => writer.WriteThinkingAsync(item.Text, cancellationToken),
            AnswerEventKind.ToolCall => writer.WriteToolUseAsync(item.Call!, cancellationToken),
            _ => writer.WriteTextAsync(item.Text, cancellationToken),
        };

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
        catch (Exception e) when (LastResortErrors.IsUnreadableInput(e) || LastResortErrors.IsInvalidTextInRequest(e))
        {
            await WriteErrorAsync(context, StatusCodes.Status400BadRequest, "invalid_request_error",
                $"The request body is not valid JSON for this endpoint (at {(e as JsonException)?.Path ?? "$"}).");
            return (null, null);
        }

        if (body is null)
        {
            await WriteErrorAsync(context, StatusCodes.Status400BadRequest, "invalid_request_error", "The request body must be a JSON object.");
            return (null, null);
        }

        RequestError? error;
        ConversationRequest request;
        using (ChatTelemetry.StartTranslation("anthropic"))
        {
            try
            {
                error = AnthropicRequestMapper.TryMap(body, settings.DefaultModel, countOnly, out request);
            }
            catch (InvalidOperationException e) when (LastResortErrors.IsInvalidTextInRequest(e))
            {
                error = new RequestError(LastResortErrors.InvalidTextMessage, "messages");
                request = null!;
            }
        }

        if (error is not null)
        {
            await WriteErrorAsync(context, StatusCodes.Status400BadRequest, "invalid_request_error", error.Message);
            return (null, null);
        }

        return (request, body);
    }

    private static (int Status, string Type) Classify(UpstreamException e) => e.Kind switch
    {
        UpstreamFailureKind.CredentialsExhausted or UpstreamFailureKind.CredentialRejected or UpstreamFailureKind.ShuttingDown => (529, "overloaded_error"),
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
