namespace Flowith2Api.ChatService.Turns;

/// <summary>
/// What a dialect hands the <see cref="TurnRunner"/> for one request: the request read into the conversation model,
/// and how answers, streams and errors are written in the dialect's own wire format. Nothing else of a turn is a
/// dialect's business.
/// </summary>
public abstract class DialectTurn
{
    public required ConversationRequest Request { get; init; }

    /// <summary>The server-side session the client asked for; null: none (the Responses API keeps its own history).</summary>
    public SessionRequest? Session { get; init; }

    /// <summary>
    /// Whether the stream is committed at once and kept alive with pings while the upstream starts and between its
    /// pieces (Anthropic's clients expect <c>ping</c> events); otherwise it starts once the upstream started well.
    /// </summary>
    public virtual bool KeepsStreamAlive => false;

    /// <summary>An error before anything was sent, in the dialect's envelope.</summary>
    public abstract Task WriteErrorAsync(HttpContext context, TurnError problem);

    /// <summary>An upstream failure before anything was sent: status, envelope and <c>Retry-After</c>.</summary>
    public abstract Task WriteUpstreamErrorAsync(HttpContext context, UpstreamException failure);

    /// <summary>The whole answer of a request that did not ask for a stream.</summary>
    public abstract Task WriteAnswerAsync(HttpContext context, TurnAnswer answer);

    /// <summary>The stream writer of a request that asked for one (nothing is sent before its start).</summary>
    public abstract TurnStreamWriter OpenStream(HttpContext context, TurnInfo info);
}

/// <summary>The session a client asked for: an id, or a new one made for it (<c>auto_session</c>).</summary>
public sealed record SessionRequest(string? Id, bool Auto);

/// <summary>What a stream writer knows of its turn before the answer: the model to echo, the session, the prompt's size.</summary>
public sealed record TurnInfo(string PublicModel, string? SessionId, int InputTokens, ChatCall Call);

/// <summary>A finished turn as the writers need it.</summary>
public sealed record TurnAnswer(AnswerSummary Summary, Usage Usage, AnswerFinish Finish, string? SessionId);

/// <summary>
/// An error the client is told about before the first byte: its status, a machine code, a message and the field it
/// is about. Each dialect turns it into its own envelope.
/// </summary>
public sealed record TurnError(int Status, string Code, string Message, string? Param = null)
{
    public static TurnError ModelNotFound(string model) =>
        new(StatusCodes.Status404NotFound, "model_not_found", Apis.ModelsApi.NotFoundMessage(model), "model");
}
