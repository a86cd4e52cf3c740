namespace Flowith2Api.ChatService.Turns;

/// <summary>
/// One answer stream in a dialect's wire format. Nothing is sent before <see cref="StartAsync"/> (the status, the
/// headers and the opening events); after it, failures go out as the dialect's in-band error.
/// </summary>
public abstract class TurnStreamWriter(HttpContext context, TurnInfo info) : IDisposable
{
    protected HttpResponse Response => context.Response;

    protected TurnInfo Info => info;

    public bool Started { get; private set; }

    /// <summary>Commits the stream: the event-stream headers, the service's timing, the opening events.</summary>
    public Task StartAsync(CancellationToken cancellationToken)
    {
        Response.StatusCode = StatusCodes.Status200OK;
        Response.ContentType = "text/event-stream; charset=utf-8";
        Response.Headers.CacheControl = "no-cache";
        Response.Headers["X-Accel-Buffering"] = "no";
        info.Call.WriteTimingHeaders(Response);
        Started = true;
        return WriteOpeningAsync(cancellationToken);
    }

    protected abstract Task WriteOpeningAsync(CancellationToken cancellationToken);

    /// <summary>The dialect's writer of answer pieces.</summary>
    protected abstract IAnswerEventWriter Events { get; }

    /// <summary>One piece of the answer: reasoning, text or a tool call.</summary>
    public ValueTask<FlushResult> WriteAsync(AnswerEvent item, CancellationToken cancellationToken) => item.Kind switch
    {
        AnswerEventKind.Reasoning => Events.WriteReasoningAsync(item.Text, cancellationToken),
        AnswerEventKind.ToolCall => Events.WriteToolCallAsync(item.Call!, cancellationToken),
        _ => Events.WriteTextAsync(item.Text, cancellationToken),
    };

    /// <summary>A keep-alive while nothing else is said (for dialects whose streams keep alive).</summary>
    public virtual Task PingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>The end of a complete answer.</summary>
    public abstract Task FinishAsync(TurnAnswer answer, CancellationToken cancellationToken);

    /// <summary>
    /// The end of an answer the upstream broke off (or one that could not be made what was asked);
    /// <paramref name="whileStarting"/>: before any of it was sent (a stream committed early, while the upstream started).
    /// </summary>
    public abstract Task FailAsync(UpstreamException failure, bool whileStarting, CancellationToken cancellationToken);

    public void Dispose()
    {
        Dispose(disposing: true);
        GC.SuppressFinalize(this);
    }

    protected abstract void Dispose(bool disposing);
}
