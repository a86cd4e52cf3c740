using Flowith2Api.ChatService.Sessions;

namespace Flowith2Api.ChatService.Dialects.Responses;

/// <summary>
/// Stores a finished response; a store failure is logged, never the client's loss (it already has its answer). The
/// continuation keeps the last <c>MAX_CONTEXT_MESSAGES</c> turns, as sessions do, so stored conversations stay bounded.
/// </summary>
public sealed partial class ResponseSaver(IResponseStore store, PendingResponseWrites pending, ResponseEcho echo, string owner,
    ResponseContinuation history, string inputItems, LongContextOptions limits, ILogger logger)
{
    /// <summary>How long a finished response waits for its store write before it is sent anyway.</summary>
    private static readonly TimeSpan StoreWait = TimeSpan.FromSeconds(2);

    /// <summary>Function-call names a continuation remembers (only recent calls get outputs).</summary>
    private const int MaxCallNames = 256;

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
        catch (Exception e) when (IResponseStore.IsStoreFailure(e))
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "Response {ResponseId} is sent before the response store confirmed it")]
    private static partial void LogStoreSlow(ILogger logger, string responseId);

    [LoggerMessage(Level = LogLevel.Error, Message = "Response {ResponseId} could not be stored ({ExceptionType})")]
    private static partial void LogNotStored(ILogger logger, string responseId, string exceptionType);
}
