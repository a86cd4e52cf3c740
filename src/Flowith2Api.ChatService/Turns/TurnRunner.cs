using System.Diagnostics;
using Flowith2Api.ChatService.Models;
using Flowith2Api.ChatService.ServerTools;
using Flowith2Api.ChatService.Sessions;
using Microsoft.Extensions.Options;

namespace Flowith2Api.ChatService.Turns;

/// <summary>
/// Runs one client turn, whatever its dialect: the model, the session, the server tools, the prompt, then the answer
/// through the upstream with failover — whole, or streamed with its start buffered so that a failed start is retried
/// invisibly — and its usage, statistics and session commit. The dialect only read the request and writes what comes
/// out (<see cref="DialectTurn"/>).
/// </summary>
public sealed partial class TurnRunner(ChatExecutor executor, ToolLoop toolLoop, ModelCatalog catalog, SessionService sessions, TokenCounter tokens,
    ChatStats stats, IOptionsMonitor<ChatOptions> options, ILogger<TurnRunner> logger)
{
    public async Task RunAsync(HttpContext context, DialectTurn dialect)
    {
        var aborted = context.RequestAborted;
        var request = dialect.Request;
        var model = await catalog.ResolveAsync(request.PublicModel, aborted);
        if (model is null)
        {
            await dialect.WriteErrorAsync(context, TurnError.ModelNotFound(request.PublicModel));
            return;
        }

        var owner = SessionService.OwnerOf(context);
        SessionTurn? session = null;
        if (dialect.Session is { } asked)
        {
            var (outcome, turn, withHistory) = await sessions.BeginAsync(asked.Id, asked.Auto, owner, request);
            if (SessionErrors.Describe(outcome, asked.Id) is { } error)
            {
                await dialect.WriteErrorAsync(context, new TurnError(error.Status, error.Code, error.Message, "session_id"));
                return;
            }

            if (turn is not null)
            {
                context.Response.Headers[SessionService.Header] = turn.Id;
            }

            (session, request) = (turn, withHistory);
        }

        var (offered, serverTools) = await toolLoop.OfferAsync(request, aborted);
        request = offered with { UpstreamModel = model.UpstreamId, Messages = PromptShaper.Apply(offered, options.CurrentValue) };
        var call = new ChatCall(context.TraceIdentifier) { Model = request.PublicModel, UpstreamModel = model.UpstreamId, Stream = request.Stream };
        context.Features.Set(call);
        Activity.Current?.SetTag("gen_ai.request.model", request.PublicModel);
        var turnContext = new TurnContext(executor, toolLoop, sessions, session, tokens, request, call, serverTools, owner);
        try
        {
            if (request.Stream)
            {
                using (stats.OpenStream())
                {
                    await StreamAsync(context, dialect, turnContext);
                }
            }
            else
            {
                var state = await toolLoop.CompleteAsync(request, serverTools, call, owner, aborted);
                var answer = await turnContext.FinishAsync(state);
                call.WriteTimingHeaders(context.Response);
                await dialect.WriteAnswerAsync(context, answer);
            }
        }
        catch (UpstreamException e) when (!context.Response.HasStarted)
        {
            LogFailed(logger, e.Kind, e.Message);
            call.WriteTimingHeaders(context.Response);
            await dialect.WriteUpstreamErrorAsync(context, e);
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            // The client went away; the upstream call was cancelled with it.
        }
    }

    private async Task StreamAsync(HttpContext context, DialectTurn dialect, TurnContext turn)
    {
        var aborted = context.RequestAborted;
        var keepAlive = dialect.KeepsStreamAlive ? TimeSpan.FromMilliseconds(options.CurrentValue.KeepAliveMs) : Timeout.InfiniteTimeSpan;
        using var stream = dialect.OpenStream(context, new TurnInfo(turn.Request.PublicModel, turn.Session?.Id, tokens.CountPrompt(turn.Request), turn.Call));

        // Wait for a good start (retries stay invisible); a dialect that keeps streams alive commits when that takes long.
        var starting = executor.StartStreamAsync(turn.Request, turn.Call, aborted);
        StartedAnswer started;
        try
        {
            started = await KeepAlive.AwaitAsync(starting, keepAlive, () => stream.Started ? stream.PingAsync(aborted) : stream.StartAsync(aborted), aborted);
        }
        catch (UpstreamException e) when (stream.Started)
        {
            await stream.FailAsync(e, whileStarting: true, aborted);
            return;
        }
        catch (OperationCanceledException)
        {
            _ = starting.ContinueWith(static t => t.IsCompletedSuccessfully ? t.Result.DisposeAsync().AsTask() : Task.CompletedTask, TaskScheduler.Default);
            throw;
        }

        if (!stream.Started)
        {
            try
            {
                await stream.StartAsync(aborted);
            }
            catch
            {
                await started.DisposeAsync(); // the tool loop has not taken the stream over yet
                throw;
            }
        }

        var state = toolLoop.NewState(turn.Request);
        await using var events = toolLoop.StreamAsync(started, turn.Request, turn.ServerTools, turn.Call, turn.KeyId, state, aborted).GetAsyncEnumerator(aborted);
        try
        {
            while (await KeepAlive.MoveNextAsync(events, keepAlive, () => stream.PingAsync(aborted), aborted))
            {
                await stream.WriteAsync(events.Current, aborted);
            }
        }
        catch (UpstreamException e)
        {
            await stream.FailAsync(e, whileStarting: false, aborted);
            return;
        }

        await stream.FinishAsync(await turn.FinishAsync(state), aborted);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Chat turn failed ({Kind}): {Message}")]
    private static partial void LogFailed(ILogger logger, UpstreamFailureKind kind, string message);
}
