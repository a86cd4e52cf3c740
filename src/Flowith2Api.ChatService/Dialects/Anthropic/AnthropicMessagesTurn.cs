using Flowith2Api.ChatService.Sessions;
using Flowith2Api.Contracts;

namespace Flowith2Api.ChatService.Dialects.Anthropic;

/// <summary>The Anthropic Messages dialect: <c>POST /v1/messages</c> read into a turn, and its answers written.</summary>
public sealed class AnthropicMessagesTurn : DialectTurn
{
    /// <summary>Anthropic's clients expect <c>ping</c> events: the stream commits at once and keeps alive.</summary>
    public override bool KeepsStreamAlive => true;

    /// <summary>The turn of a request (<paramref name="countOnly"/>: for count_tokens, which needs no max_tokens); null once its error has been written.</summary>
    public static async Task<AnthropicMessagesTurn?> ReadAsync(HttpContext context, ChatOptions settings, bool countOnly)
    {
        if (!settings.EnableClaudeApi)
        {
            await WriteErrorAsync(context, StatusCodes.Status404NotFound, "not_found_error",
                "The Claude (Anthropic Messages) API is turned off on this gateway (ENABLE_CLAUDE_API=false).");
            return null;
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
            return null;
        }

        if (body is null)
        {
            await WriteErrorAsync(context, StatusCodes.Status400BadRequest, "invalid_request_error", "The request body must be a JSON object.");
            return null;
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
            return null;
        }

        return new AnthropicMessagesTurn
        {
            Request = request,
            Session = new SessionRequest(SessionService.RequestedId(context, body.SessionId), body.AutoSession == true),
        };
    }

    public override Task WriteErrorAsync(HttpContext context, TurnError problem) =>
        WriteErrorAsync(context, problem.Status, problem.Status switch
        {
            StatusCodes.Status404NotFound => "not_found_error",
            StatusCodes.Status429TooManyRequests => "rate_limit_error",
            >= 500 => "api_error",
            _ => "invalid_request_error",
        }, problem.Message);

    public override Task WriteUpstreamErrorAsync(HttpContext context, UpstreamException failure)
    {
        var (status, type) = Classify(failure);
        UpstreamErrors.WriteRetryAfter(context.Response, failure);
        return WriteErrorAsync(context, status, type, failure.Message);
    }

    public override Task WriteAnswerAsync(HttpContext context, TurnAnswer answer) =>
        AnthropicResponseWriter.WriteMessageAsync(context, AnthropicResponseWriter.NewMessageId(), Request.PublicModel, answer.Summary, answer.Finish, answer.Usage,
            answer.SessionId);

    public override TurnStreamWriter OpenStream(HttpContext context, TurnInfo info) => new EventStream(context, info);

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

    /// <summary>Anthropic's event stream: message_start, content blocks, message_delta, message_stop, pings between.</summary>
    private sealed class EventStream(HttpContext context, TurnInfo info) : TurnStreamWriter(context, info)
    {
        private readonly AnthropicStreamWriter _writer = new(context.Response, AnthropicResponseWriter.NewMessageId(), info.PublicModel, info.SessionId);

        protected override async Task WriteOpeningAsync(CancellationToken cancellationToken)
        {
            await _writer.WriteMessageStartAsync(Info.InputTokens, cancellationToken);
            await _writer.WritePingAsync(cancellationToken);
        }

        public override Task PingAsync(CancellationToken cancellationToken) => _writer.WritePingAsync(cancellationToken).AsTask();

        protected override IAnswerEventWriter Events => _writer;

        public override Task FinishAsync(TurnAnswer answer, CancellationToken cancellationToken) =>
            _writer.WriteFinishAsync(AnthropicResponseWriter.StopReason(answer.Finish), answer.Summary.StopSequence,
                new Usage(Info.InputTokens, answer.Usage.OutputTokens), cancellationToken).AsTask();

        /// <summary>A failure while starting is told as what it was (overloaded, rate limited…); one mid-answer as an api_error.</summary>
        public override Task FailAsync(UpstreamException failure, bool whileStarting, CancellationToken cancellationToken) => whileStarting
            ? _writer.WriteErrorAsync(Classify(failure).Type, failure.Message, cancellationToken).AsTask()
            : _writer.WriteErrorAsync("api_error", UpstreamErrors.StreamMessage(failure), cancellationToken).AsTask();

        protected override void Dispose(bool disposing) => _writer.Dispose();
    }
}
