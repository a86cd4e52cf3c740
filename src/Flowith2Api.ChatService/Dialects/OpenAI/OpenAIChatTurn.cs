using Flowith2Api.ChatService.Sessions;

namespace Flowith2Api.ChatService.Dialects.OpenAI;

/// <summary>The Chat Completions dialect: <c>POST /v1/chat/completions</c> read into a turn, and its answers written.</summary>
public sealed class OpenAIChatTurn : DialectTurn
{
    private bool _includeUsage;

    /// <summary>The turn of a request; null once its 400 has been written.</summary>
    public static async Task<OpenAIChatTurn?> ReadAsync(HttpContext context, ChatOptions settings)
    {
        var body = await OpenAIErrors.ReadBodyAsync(context, OpenAIJsonContext.Default.OpenAIChatRequest);
        if (body is null)
        {
            return null;
        }

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
            return null;
        }

        return new OpenAIChatTurn
        {
            Request = request,
            Session = new SessionRequest(SessionService.RequestedId(context, body.SessionId), body.AutoSession == true),
            _includeUsage = body.StreamOptions?.IncludeUsage == true,
        };
    }

    public override Task WriteErrorAsync(HttpContext context, TurnError problem) =>
        OpenAIErrors.WriteAsync(context, problem.Status, problem.Message, OpenAIErrors.TypeOf(problem.Status), problem.Code, problem.Param);

    public override Task WriteUpstreamErrorAsync(HttpContext context, UpstreamException failure) => OpenAIErrors.WriteUpstreamAsync(context, failure);

    public override Task WriteAnswerAsync(HttpContext context, TurnAnswer answer) =>
        OpenAIResponseWriter.WriteCompletionAsync(context.Response, OpenAIResponseWriter.NewCompletionId(), DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
            Request.PublicModel, answer.Summary, FinishReason(answer.Finish), answer.Usage, answer.SessionId, context.RequestAborted);

    public override TurnStreamWriter OpenStream(HttpContext context, TurnInfo info) => new ChunkStream(context, info, _includeUsage);

    private static string FinishReason(AnswerFinish finish) => finish switch
    {
        AnswerFinish.ToolUse => "tool_calls",
        AnswerFinish.MaxTokens => "length",
        _ => "stop",
    };

    /// <summary>The <c>chat.completion.chunk</c> stream.</summary>
    private sealed class ChunkStream(HttpContext context, TurnInfo info, bool includeUsage) : TurnStreamWriter(context, info)
    {
        private readonly OpenAIStreamWriter _writer = new(context.Response, OpenAIResponseWriter.NewCompletionId(), DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
            info.PublicModel, info.SessionId);

        protected override Task WriteOpeningAsync(CancellationToken cancellationToken) => _writer.WriteRoleAsync(cancellationToken).AsTask();

        protected override IAnswerEventWriter Events => _writer;

        public override async Task FinishAsync(TurnAnswer answer, CancellationToken cancellationToken)
        {
            await _writer.WriteFinishAsync(FinishReason(answer.Finish), cancellationToken);
            if (includeUsage)
            {
                await _writer.WriteUsageAsync(answer.Usage, cancellationToken);
            }

            await _writer.WriteDoneAsync(cancellationToken);
        }

        public override Task FailAsync(UpstreamException failure, bool whileStarting, CancellationToken cancellationToken) =>
            _writer.WriteErrorAsync(UpstreamErrors.StreamMessage(failure), "server_error", UpstreamErrors.StreamCode(failure), cancellationToken).AsTask();

        protected override void Dispose(bool disposing) => _writer.Dispose();
    }
}
