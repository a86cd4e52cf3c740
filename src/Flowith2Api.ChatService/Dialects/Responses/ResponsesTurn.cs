using Flowith2Api.ChatService.Sessions;

namespace Flowith2Api.ChatService.Dialects.Responses;

/// <summary>
/// The Responses dialect: <c>POST /v1/responses</c> read into a turn (a stored previous response continued), and its
/// answers written — and, with <c>store</c> (the default), saved before the client hears they are complete, so its
/// next request can continue from them at once.
/// </summary>
public sealed partial class ResponsesTurn : DialectTurn
{
    /// <summary>How long a continuation waits for its previous response's write still in progress here.</summary>
    private static readonly TimeSpan PendingWait = TimeSpan.FromSeconds(10);

    private ResponseEcho _echo = null!;
    private ResponseSaver? _saver;

    /// <summary>The turn of a request; null once its error (400, or 503 when the store is away) has been written.</summary>
    public static async Task<ResponsesTurn?> ReadAsync(HttpContext context, ResponsesServices services)
    {
        var body = await OpenAIErrors.ReadBodyAsync(context, ResponsesJsonContext.Default.ResponsesRequest);
        if (body is null)
        {
            return null;
        }

        var owner = SessionService.OwnerOf(context);
        ResponseContinuation? previous = null;
        if (body.PreviousResponseId is { } previousId)
        {
            try
            {
                previous = await ReadContinuationAsync(services.Store, services.Pending, previousId, owner);
            }
            catch (Exception e) when (IResponseStore.IsStoreFailure(e))
            {
                LogStoreUnavailable(services.Logger, e.GetType().Name);
                await WriteStoreUnavailableAsync(context);
                return null;
            }

            if (previous is null)
            {
                await OpenAIErrors.WriteAsync(context, StatusCodes.Status400BadRequest,
                    $"Previous response with id '{RequestReading.Truncate(previousId)}' not found.",
                    "invalid_request_error", "previous_response_not_found", "previous_response_id");
                return null;
            }
        }

        RequestError? error;
        ConversationRequest request;
        ResponseContinuation history;
        string? inputItems = null;
        using (ChatTelemetry.StartTranslation("responses"))
        {
            try
            {
                error = ResponsesRequestMapper.TryMap(body, services.Options.CurrentValue.DefaultModel, previous, out request, out history);
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
            return null;
        }

        var echo = new ResponseEcho(ResponsesWriter.NewId("resp"), DateTimeOffset.UtcNow.ToUnixTimeSeconds(), request.PublicModel, body);
        return new ResponsesTurn
        {
            Request = request,
            _echo = echo,
            _saver = inputItems is null ? null
                : new ResponseSaver(services.Store, services.Pending, echo, owner, history, inputItems, services.ContextOptions.CurrentValue, services.Logger),
        };
    }

    public override Task WriteErrorAsync(HttpContext context, TurnError problem) =>
        OpenAIErrors.WriteAsync(context, problem.Status, problem.Message, OpenAIErrors.TypeOf(problem.Status), problem.Code, problem.Param);

    public override Task WriteUpstreamErrorAsync(HttpContext context, UpstreamException failure) => OpenAIErrors.WriteUpstreamAsync(context, failure);

    public override async Task WriteAnswerAsync(HttpContext context, TurnAnswer answer)
    {
        var response = Render(answer, new ResponseOutputIds());
        if (_saver is not null)
        {
            await _saver.SaveAsync(response, answer.Summary);
        }

        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "application/json";
        await context.Response.BodyWriter.WriteAsync(response, context.RequestAborted);
    }

    public override TurnStreamWriter OpenStream(HttpContext context, TurnInfo info) => new EventStream(context, info, this);

    public static Task WriteStoreUnavailableAsync(HttpContext context) =>
        OpenAIErrors.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, "The response store is unavailable right now; retry shortly.",
            "server_error", "response_store_unavailable");

    private ReadOnlyMemory<byte> Render(TurnAnswer answer, ResponseOutputIds ids)
    {
        var incomplete = answer.Finish == AnswerFinish.MaxTokens;
        return ResponsesWriter.Render(_echo, incomplete ? "incomplete" : "completed", answer.Summary, ids, answer.Usage, incomplete ? "max_output_tokens" : null);
    }

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

    [LoggerMessage(Level = LogLevel.Error, Message = "The response store is unavailable ({ExceptionType})")]
    public static partial void LogStoreUnavailable(ILogger logger, string exceptionType);

    /// <summary>The Responses event stream (response.created … response.completed); a failure is an error event, then response.failed.</summary>
    private sealed class EventStream(HttpContext context, TurnInfo info, ResponsesTurn turn) : TurnStreamWriter(context, info)
    {
        private readonly ResponsesStreamWriter _writer = new(context.Response, turn._echo);

        protected override Task WriteOpeningAsync(CancellationToken cancellationToken) => _writer.StartAsync(cancellationToken).AsTask();

        protected override IAnswerEventWriter Events => _writer;

        public override async Task FinishAsync(TurnAnswer answer, CancellationToken cancellationToken)
        {
            if (turn._saver is not null)
            {
                await turn._saver.SaveAsync(turn.Render(answer, _writer.Ids), answer.Summary);
            }

            await _writer.FinishAsync(answer.Summary, answer.Usage, answer.Finish, cancellationToken);
        }

        public override async Task FailAsync(UpstreamException failure, bool whileStarting, CancellationToken cancellationToken)
        {
            var error = new ResponseError(UpstreamErrors.StreamCode(failure), UpstreamErrors.StreamMessage(failure));
            if (turn._saver is not null)
            {
                await turn._saver.SaveAsync(ResponsesWriter.Render(turn._echo, "failed", null, null, null, null, error), null);
            }

            await _writer.FailAsync(error.Code, error.Message, cancellationToken);
        }

        protected override void Dispose(bool disposing) => _writer.Dispose();
    }
}
