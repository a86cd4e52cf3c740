using System.Text.Json;
using Flowith2Api.ChatService.Conversation;
using Flowith2Api.ChatService.Dialects.OpenAI;
using Flowith2Api.ChatService.Dialects.Responses;
using Flowith2Api.ChatService.Models;
using Flowith2Api.ChatService.ServerTools;
using Flowith2Api.ChatService.Sessions;
using Flowith2Api.ChatService.Upstream;
using Flowith2Api.ServiceDefaults;
using Microsoft.Extensions.Options;

namespace Flowith2Api.ChatService.Apis;

/// <summary>
/// The OpenAI Responses dialect on the same conversation model as chat completions: <c>POST /v1/responses</c>, and
/// stored responses (<c>store</c>, the default) that <c>previous_response_id</c> continues and that can be read
/// (<c>GET /v1/responses/{id}</c>, <c>…/input_items</c>) and deleted by the key that made them.
/// </summary>
public static partial class OpenAIResponsesApi
{
    public static IEndpointRouteBuilder MapOpenAIResponsesApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/responses", CreateResponseAsync);
        app.MapGet("/v1/responses/{id}", GetResponseAsync);
        app.MapDelete("/v1/responses/{id}", DeleteResponseAsync);
        app.MapGet("/v1/responses/{id}/input_items", ListInputItemsAsync);
        return app;
    }

    public static async Task CreateResponseAsync(HttpContext context, ChatExecutor executor, ToolLoop toolLoop, ModelCatalog catalog,
        SessionService sessions, TokenCounter tokens, IResponseStore store, PendingResponseWrites pending, IOptionsMonitor<ChatOptions> options,
        IOptionsMonitor<LongContextOptions> contextOptions, ILogger<ChatExecutor> logger)
    {
        var aborted = context.RequestAborted;
        var body = await OpenAIErrors.ReadBodyAsync(context, ResponsesJsonContext.Default.ResponsesRequest);
        if (body is null)
        {
            return;
        }

        var owner = SessionService.OwnerOf(context);
        ResponseContinuation? previous = null;
        if (body.PreviousResponseId is { } previousId)
        {
            try
            {
                previous = await ReadContinuationAsync(store, pending, previousId, owner);
            }
            catch (Exception e) when (IsStoreFailure(e))
            {
                LogStoreUnavailable(logger, e.GetType().Name);
                await WriteStoreUnavailableAsync(context);
                return;
            }

            if (previous is null)
            {
                await OpenAIErrors.WriteAsync(context, StatusCodes.Status400BadRequest,
                    $"Previous response with id '{RequestReading.Truncate(previousId)}' not found.",
                    "invalid_request_error", "previous_response_not_found", "previous_response_id");
                return;
            }
        }

        var settings = options.CurrentValue;
        RequestError? error;
        ConversationRequest request;
        ResponseContinuation history;
        string? inputItems = null;
        using (ChatTelemetry.StartTranslation("responses"))
        {
            try
            {
                error = ResponsesRequestMapper.TryMap(body, settings.DefaultModel, previous, out request, out history);
                if (error is null && body.Store != false)
                {
                    inputItems = ResponseInputItems.Normalize(body.Input); // before the upstream call: bad input costs nothing
                }
            }
            catch (InvalidOperationException e) when (LastResortErrors.IsInvalidTextInRequest(e))
            {
                // A string with an unpaired surrogate escape (\ud800) is valid JSON syntax but no text.
                error = new RequestError(LastResortErrors.InvalidTextMessage, "input");
                request = null!;
                history = null!;
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

        var (offered, serverTools) = await toolLoop.OfferAsync(request, aborted);
        request = offered with { UpstreamModel = model.UpstreamId, Messages = PromptShaper.Apply(offered, settings) };
        var call = new ChatCall(context.TraceIdentifier) { Model = request.PublicModel, UpstreamModel = model.UpstreamId, Stream = request.Stream };
        context.Features.Set(call);
        var turn = new TurnContext(executor, toolLoop, sessions, null, tokens, request, call, serverTools, owner);
        var echo = new ResponseEcho(ResponsesWriter.NewId("resp"), DateTimeOffset.UtcNow.ToUnixTimeSeconds(), request.PublicModel, body);
        var saver = inputItems is null ? null
            : new ResponseSaver(store, pending, echo, owner, history, inputItems, contextOptions.CurrentValue, logger);
        try
        {
            if (request.Stream)
            {
                using (context.RequestServices.GetRequiredService<ChatStats>().OpenStream())
                {
                    await StreamAsync(context, turn, echo, saver);
                }

                return;
            }

            var state = await turn.ToolLoop.CompleteAsync(turn.Request, turn.ServerTools, turn.Call, turn.KeyId, aborted);
            var (summary, usage, finish) = await turn.FinishAsync(state);
            var incomplete = finish == AnswerFinish.MaxTokens;
            var response = ResponsesWriter.Render(echo, incomplete ? "incomplete" : "completed", summary, new ResponseOutputIds(), usage,
                incomplete ? "max_output_tokens" : null);
            if (saver is not null)
            {
                await saver.SaveAsync(response, summary);
            }

            call.WriteTimingHeaders(context.Response);
            context.Response.StatusCode = StatusCodes.Status200OK;
            context.Response.ContentType = "application/json";
            await context.Response.BodyWriter.WriteAsync(response, aborted);
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
    private static async Task StreamAsync(HttpContext context, TurnContext turn, ResponseEcho echo, ResponseSaver? saver)
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

        var state = turn.ToolLoop.NewState(turn.Request);
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
            var failure = new ResponseError(UpstreamErrors.StreamCode(e), UpstreamErrors.StreamMessage(e));
            if (saver is not null)
            {
                await saver.SaveAsync(ResponsesWriter.Render(echo, "failed", null, null, null, null, failure), null);
            }

            await writer.FailAsync(failure.Code, failure.Message, aborted);
            return;
        }

        var (summary, usage, finish) = await turn.FinishAsync(state);
        if (saver is not null)
        {
            // Stored before the client hears the response is complete, so its next request can continue from it at once.
            var incomplete = finish == AnswerFinish.MaxTokens;
            await saver.SaveAsync(ResponsesWriter.Render(echo, incomplete ? "incomplete" : "completed", summary, writer.Ids, usage,
                incomplete ? "max_output_tokens" : null), summary);
        }

        await writer.FinishAsync(summary, usage, finish, aborted);
    }

    public static async Task GetResponseAsync(HttpContext context, string id, IResponseStore store, ILogger<ChatExecutor> logger)
    {
        var json = await ReadStoredAsync(context, id, StoredResponsePart.Response, store, logger);
        if (json is not null)
        {
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(json, context.RequestAborted);
        }
    }

    public static async Task ListInputItemsAsync(HttpContext context, string id, IResponseStore store, ILogger<ChatExecutor> logger)
    {
        var query = context.Request.Query;
        var limit = ResponseInputItems.DefaultLimit;
        if (query.TryGetValue("limit", out var limitText) && (!int.TryParse(limitText, out limit) || limit is < 1 or > ResponseInputItems.MaxLimit))
        {
            await OpenAIErrors.WriteAsync(context, StatusCodes.Status400BadRequest,
                $"'limit' must be an integer from 1 to {ResponseInputItems.MaxLimit}.", "invalid_request_error", "invalid_value", "limit");
            return;
        }

        var order = query.TryGetValue("order", out var orderText) ? orderText.ToString() : "desc";
        if (order is not ("asc" or "desc"))
        {
            await OpenAIErrors.WriteAsync(context, StatusCodes.Status400BadRequest, "'order' must be asc or desc.", "invalid_request_error", "invalid_value", "order");
            return;
        }

        var items = await ReadStoredAsync(context, id, StoredResponsePart.InputItems, store, logger);
        if (items is null)
        {
            return;
        }

        context.Response.ContentType = "application/json";
        using (var json = new Utf8JsonWriter(context.Response.BodyWriter))
        {
            ResponseInputItems.WritePage(json, items, order == "desc", NonEmpty(query["after"]), NonEmpty(query["before"]), limit);
        }

        await context.Response.BodyWriter.FlushAsync(context.RequestAborted);
    }

    public static async Task DeleteResponseAsync(HttpContext context, string id, IResponseStore store, ILogger<ChatExecutor> logger)
    {
        bool deleted;
        try
        {
            deleted = SessionService.IsValidId(id) && await store.DeleteAsync(id, SessionService.OwnerOf(context));
        }
        catch (Exception e) when (IsStoreFailure(e))
        {
            LogStoreUnavailable(logger, e.GetType().Name);
            await WriteStoreUnavailableAsync(context);
            return;
        }

        if (!deleted)
        {
            await WriteNotFoundAsync(context, id);
            return;
        }

        context.Response.ContentType = "application/json";
        using (var json = new Utf8JsonWriter(context.Response.BodyWriter))
        {
            json.WriteStartObject();
            json.WriteString("id", id);
            json.WriteString("object", "response.deleted");
            json.WriteBoolean("deleted", true);
            json.WriteEndObject();
        }

        await context.Response.BodyWriter.FlushAsync(context.RequestAborted);
    }

    /// <summary>One part of a stored response of this key; null once a 404 (or 503) has been written.</summary>
    private static async Task<string?> ReadStoredAsync(HttpContext context, string id, StoredResponsePart part, IResponseStore store, ILogger logger)
    {
        string? json;
        try
        {
            json = SessionService.IsValidId(id) ? await store.GetAsync(id, SessionService.OwnerOf(context), part) : null;
        }
        catch (Exception e) when (IsStoreFailure(e))
        {
            LogStoreUnavailable(logger, e.GetType().Name);
            await WriteStoreUnavailableAsync(context);
            return null;
        }

        if (json is null)
        {
            await WriteNotFoundAsync(context, id);
        }

        return json;
    }

    private static string? NonEmpty(Microsoft.Extensions.Primitives.StringValues value) => string.IsNullOrEmpty(value) ? null : value.ToString();

    private static Task WriteNotFoundAsync(HttpContext context, string id) =>
        OpenAIErrors.WriteAsync(context, StatusCodes.Status404NotFound,
            $"Response with id '{RequestReading.Truncate(id)}' not found: it expired, was deleted, was created with 'store': false, or belongs to another API key.",
            "invalid_request_error", "response_not_found");

    private static Task WriteStoreUnavailableAsync(HttpContext context) =>
        OpenAIErrors.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, "The response store is unavailable right now; retry shortly.",
            "server_error", "response_store_unavailable");

    private static bool IsStoreFailure(Exception e) => e is StackExchange.Redis.RedisException or StackExchange.Redis.RedisTimeoutException;

    /// <summary>
    /// A stored response's continuation. A miss while this process is still writing that response (a slow store: the
    /// answer went out first) waits for the write instead of answering "not found".
    /// </summary>
    private static async Task<ResponseContinuation?> ReadContinuationAsync(IResponseStore store, PendingResponseWrites pending, string id, string owner)
    {
        if (!SessionService.IsValidId(id))
        {
            return null;
        }

        var json = await store.GetAsync(id, owner, StoredResponsePart.Continuation);
        if (json is null && pending.TryGet(id) is { } write)
        {
            await Task.WhenAny(write, Task.Delay(PendingWait));
            json = await store.GetAsync(id, owner, StoredResponsePart.Continuation);
        }

        try
        {
            return json is null ? null : IResponseStore.Deserialize(json);
        }
        catch (JsonException)
        {
            return null; // unreadable (an older shape): as good as gone
        }
    }

    /// <summary>How long a finished response waits for its store write before it is sent anyway.</summary>
    private static readonly TimeSpan StoreWait = TimeSpan.FromSeconds(2);

    /// <summary>How long a continuation waits for its previous response's write still in progress here.</summary>
    private static readonly TimeSpan PendingWait = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Stores a finished response; a store failure is logged, never the client's loss (it already has its answer). The
    /// continuation keeps the last <c>MAX_CONTEXT_MESSAGES</c> turns, as sessions do, so stored conversations stay bounded.
    /// </summary>
    private sealed class ResponseSaver(IResponseStore store, PendingResponseWrites pending, ResponseEcho echo, string owner,
        ResponseContinuation history, string inputItems, LongContextOptions limits, ILogger logger)
    {
        public async Task SaveAsync(ReadOnlyMemory<byte> response, AnswerSummary? answer)
        {
            IReadOnlyList<StoredTurn> turns = history.Turns;
            var calls = new Dictionary<string, string>(history.CallNames, StringComparer.Ordinal);
            if (answer is not null)
            {
                foreach (var toolCall in answer.ToolCalls)
                {
                    calls[toolCall.Id] = toolCall.Name;
                }

                turns = [.. turns, StoredTurn.From(answer.ToMessage())];
            }

            if (turns.Count > limits.MaxMessages)
            {
                turns = [.. turns.Skip(turns.Count - limits.MaxMessages)];
            }

            if (calls.Count > MaxCallNames)
            {
                calls = calls.Skip(calls.Count - MaxCallNames).ToDictionary(StringComparer.Ordinal);
            }

            Task save;
            try
            {
                save = store.SaveAsync(echo.Id, new StoredResponse(owner, System.Text.Encoding.UTF8.GetString(response.Span), inputItems,
                    new ResponseContinuation { Turns = turns, CallNames = calls }), limits.Ttl);
            }
            catch (Exception e) when (IsStoreFailure(e))
            {
                LogNotStored(logger, echo.Id, e.GetType().Name);
                return;
            }

            var id = echo.Id;
            pending.Add(id, save);
            _ = save.ContinueWith(static (task, state) =>
            {
                var (pending, logger, id) = ((PendingResponseWrites, ILogger, string))state!;
                pending.Remove(id);
                if (task.Exception?.InnerException is { } e)
                {
                    LogNotStored(logger, id, e.GetType().Name);
                }
            }, (pending, logger, id), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            if (await Task.WhenAny(save, Task.Delay(StoreWait)) != save)
            {
                // A slow or reconnecting store does not hold the answer back: the write goes on, its outcome logged.
                LogStoreSlow(logger, id);
            }
        }
    }

    /// <summary>Function-call names a continuation remembers (only recent calls get outputs).</summary>
    private const int MaxCallNames = 256;

    [LoggerMessage(Level = LogLevel.Error, Message = "The response store is unavailable ({ExceptionType})")]
    private static partial void LogStoreUnavailable(ILogger logger, string exceptionType);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Response {ResponseId} is sent before the response store confirmed it")]
    private static partial void LogStoreSlow(ILogger logger, string responseId);

    [LoggerMessage(Level = LogLevel.Error, Message = "Response {ResponseId} could not be stored ({ExceptionType})")]
    private static partial void LogNotStored(ILogger logger, string responseId, string exceptionType);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Response failed ({Kind}): {Message}")]
    private static partial void LogFailed(ILogger logger, UpstreamFailureKind kind, string message);
}
