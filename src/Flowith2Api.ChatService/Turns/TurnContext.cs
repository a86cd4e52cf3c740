using Flowith2Api.ChatService.ServerTools;
using Flowith2Api.ChatService.Sessions;

namespace Flowith2Api.ChatService.Turns;

/// <summary>
/// One client turn, dialect-neutral: the request as it goes upstream, the server tools offered, the session, and how a
/// finished turn is counted and remembered.
/// </summary>
public sealed record TurnContext(
    ChatExecutor Executor,
    ToolLoop ToolLoop,
    SessionService Sessions,
    SessionTurn? Session,
    TokenCounter Tokens,
    ConversationRequest Request,
    ChatCall Call,
    IReadOnlySet<string> ServerTools,
    string KeyId)
{
    /// <summary>Counts the turn's usage, decides how it ended, and stores it in the session (if any).</summary>
    public async Task<TurnAnswer> FinishAsync(LoopState state)
    {
        var summary = state.Summary();
        var reasoningTokens = Tokens.CountText(summary.Reasoning);
        var usage = new Usage(Tokens.CountPrompt(Request), Math.Max(Tokens.CountText(summary.OutputForCounting), reasoningTokens), reasoningTokens);
        Call.InputTokens = usage.InputTokens;
        Call.OutputTokens = usage.OutputTokens;
        if (Session is not null)
        {
            await Sessions.CommitAsync(Session, summary.ToMessage());
        }

        return new TurnAnswer(summary, usage, state.Finish(Request.MaxTokens, usage.OutputTokens), Session?.Id);
    }
}
