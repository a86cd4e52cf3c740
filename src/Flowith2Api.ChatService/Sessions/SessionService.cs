using Flowith2Api.Contracts;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Flowith2Api.ChatService.Sessions;

/// <summary>Long-context settings (SPEC section 2).</summary>
public sealed class LongContextOptions
{
    public bool Enabled { get; set; } = true;

    public int MaxMessages { get; set; } = 20;

    public TimeSpan Ttl { get; set; } = TimeSpan.FromHours(1);

    public static void Bind(LongContextOptions options, IConfiguration configuration)
    {
        options.Enabled = SeedSettings.ParseBool(configuration[SeedSettings.EnableLongContext], options.Enabled);
        options.MaxMessages = Math.Max(1, ChatOptions.ReadInt(configuration, SeedSettings.MaxContextMessages, options.MaxMessages));
        options.Ttl = TimeSpan.FromSeconds(Math.Max(1, ChatOptions.ReadInt(configuration, SeedSettings.ContextTtlSeconds, (int)options.Ttl.TotalSeconds)));
    }
}

public enum SessionOutcome
{
    /// <summary>The request uses no session.</summary>
    None,
    Ready,

    /// <summary>No such session for this key (also when another key owns it: ids cannot be probed).</summary>
    NotFound,
    InvalidId,
    Unavailable,
}

/// <summary>One turn on a session: what was stored, what the client added, and the context sent upstream.</summary>
public sealed record SessionTurn(string Id, string Owner, VersionedSession? Existing, IReadOnlyList<string> KnowledgeBases,
    IReadOnlyList<StoredTurn> Context, IReadOnlyList<StoredTurn> Added);

/// <summary>
/// Server-side conversations: loads a session's turns, merges them with what the client sent (never sending a turn
/// twice), and stores the new user turn and the answer once the answer is complete. Sessions belong to the key that
/// made them, keep one knowledge-base list for their whole life, are trimmed to <c>MAX_CONTEXT_MESSAGES</c> and
/// expire after <c>CONTEXT_TTL_SECONDS</c> idle.
/// </summary>
public sealed partial class SessionService(ISessionStore store, IOptionsMonitor<LongContextOptions> options, TimeProvider time, ILogger<SessionService> logger)
{
    public const string Header = "x-session-id";
    private const int MaxIdLength = 128;
    private const int MaxWriteAttempts = 8;

    /// <summary>How long a turn's write keeps trying while the session store cannot be reached.</summary>
    public static readonly TimeSpan StoreOutageWindow = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan FirstRetryDelay = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan MaxRetryDelay = TimeSpan.FromSeconds(1);

    public static string OwnerOf(HttpContext context) =>
        context.Request.Headers[InternalHeaders.KeyId] is { Count: > 0 } id && !string.IsNullOrEmpty(id[0]) ? id[0]! : "anonymous";

    /// <summary>The session id from the body field, else the <c>x-session-id</c> header.</summary>
    public static string? RequestedId(HttpContext context, string? fromBody) =>
        !string.IsNullOrWhiteSpace(fromBody) ? fromBody.Trim()
        : context.Request.Headers[Header] is { Count: > 0 } header && !string.IsNullOrWhiteSpace(header[0]) ? header[0]!.Trim()
        : null;

    public async Task<(SessionOutcome Outcome, SessionTurn? Turn, ConversationRequest Request)> BeginAsync(
        string? id, bool autoSession, string owner, ConversationRequest request)
    {
        var settings = options.CurrentValue;
        if (!settings.Enabled || (id is null && !autoSession))
        {
            return (SessionOutcome.None, null, request);
        }

        if (id is not null && !IsValidId(id))
        {
            return (SessionOutcome.InvalidId, null, request);
        }

        id ??= "sess_" + Guid.NewGuid().ToString("N");
        VersionedSession? existing;
        try
        {
            existing = await store.GetAsync(id);
        }
        catch (Exception e) when (e is RedisException or RedisTimeoutException)
        {
            LogUnavailable(logger, e.GetType().Name);
            return (SessionOutcome.Unavailable, null, request);
        }

        if (existing is not null && !string.Equals(existing.Data.Owner, owner, StringComparison.Ordinal))
        {
            return (SessionOutcome.NotFound, null, request);
        }

        var stored = existing?.Data.Turns ?? [];
        var client = request.Messages.Where(m => m.Role != ConversationRole.System).Select(StoredTurn.From).ToList();
        var (context, added) = Merge(stored, client);
        var knowledgeBases = existing?.Data.KnowledgeBases ?? [Guid.NewGuid().ToString()];
        var turn = new SessionTurn(id, owner, existing, knowledgeBases, context, added);
        var messages = request.Messages.Where(m => m.Role == ConversationRole.System).Concat(context.Select(t => t.ToMessage())).ToList();
        return (SessionOutcome.Ready, turn, request with { Messages = messages, KnowledgeBases = knowledgeBases });
    }

    /// <summary>
    /// Stores the turn's new messages and the answer; a concurrent turn's messages are kept, never overwritten. While the
    /// store cannot be reached (a Redis restart or failover) the write is tried again for up to
    /// <see cref="StoreOutageWindow"/>, so an answered turn is not lost to a blip; a write whose fate is unknown (the
    /// connection dropped under it) is checked for before the turn is added again.
    /// </summary>
    public async Task CommitAsync(SessionTurn turn, ConversationMessage answer)
    {
        var settings = options.CurrentValue;
        var assistant = StoredTurn.From(answer);
        var started = time.GetTimestamp();
        var retryDelay = FirstRetryDelay;
        var current = turn.Existing;
        var reload = false;
        var conflicts = 0;
        while (true)
        {
            try
            {
                if (reload)
                {
                    current = await Bounded(store.GetAsync(turn.Id), started);
                    if (current is not null && !string.Equals(current.Data.Owner, turn.Owner, StringComparison.Ordinal))
                    {
                        LogLostRace(logger, turn.Id); // the session now belongs to another key (made meanwhile): never touched
                        return;
                    }

                    if (current is not null && current.Version != turn.Existing?.Version && EndsWith(current.Data.Turns, turn.Added, assistant))
                    {
                        return; // an earlier attempt of ours was stored after all
                    }
                }

                // Unchanged since the turn began: its context and the answer. Changed: another turn was stored meanwhile,
                // so its messages stay and ours follow them.
                IReadOnlyList<StoredTurn> turns = current?.Version == turn.Existing?.Version
                    ? [.. turn.Context, assistant]
                    : [.. current?.Data.Turns ?? [], .. turn.Added, assistant];
                var now = time.GetUtcNow().ToUnixTimeMilliseconds();
                var data = new SessionData
                {
                    Owner = turn.Owner,
                    CreatedUnixMs = current?.Data.CreatedUnixMs ?? now,
                    LastUsedUnixMs = now,
                    KnowledgeBases = current?.Data.KnowledgeBases ?? turn.KnowledgeBases,
                    Turns = Trim(turns, settings.MaxMessages),
                };
                if (await Bounded(store.TryWriteAsync(turn.Id, data, current?.Version ?? 0, settings.Ttl), started))
                {
                    return;
                }

                if (++conflicts >= MaxWriteAttempts)
                {
                    LogLostRace(logger, turn.Id);
                    return;
                }

                reload = true;
            }
            catch (Exception e) when (IsPassingOutage(e) && time.GetElapsedTime(started) + retryDelay < StoreOutageWindow)
            {
                LogRetrying(logger, turn.Id, e.GetType().Name);
                reload = true;
                await Task.Delay(retryDelay, time);
                retryDelay = TimeSpan.FromTicks(Math.Min(retryDelay.Ticks * 2, MaxRetryDelay.Ticks));
            }
            catch (Exception e) when (e is RedisException or TimeoutException)
            {
                LogUnavailable(logger, e.GetType().Name);
                return;
            }
        }
    }

    /// <summary>
    /// What a Redis restart or failover looks like from here: no connection, a timeout, or a server still loading its
    /// data / a replica not yet promoted.
    /// </summary>
    private static bool IsPassingOutage(Exception e) =>
        e is RedisConnectionException or TimeoutException
        || e is RedisServerException
        {
            Kind: RedisErrorKind.Loading or RedisErrorKind.ReadOnly or RedisErrorKind.MasterDown or RedisErrorKind.TryAgain
            or RedisErrorKind.ClusterDown
        };

    /// <summary>A store call bounded by what is left of the outage window (each Redis call could otherwise wait its own 5 s timeout).</summary>
    private Task<T> Bounded<T>(Task<T> call, long started)
    {
        var left = StoreOutageWindow - time.GetElapsedTime(started);
        return call.WaitAsync(left > TimeSpan.FromMilliseconds(100) ? left : TimeSpan.FromMilliseconds(100), time);
    }

    private static bool EndsWith(IReadOnlyList<StoredTurn> stored, IReadOnlyList<StoredTurn> added, StoredTurn assistant)
    {
        var tail = added.Count + 1;
        if (stored.Count < tail || stored[^1] != assistant)
        {
            return false;
        }

        for (var i = 0; i < added.Count; i++)
        {
            if (stored[stored.Count - tail + i] != added[i])
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// The context to send and the client's new turns. When the client's messages contain every stored turn (it keeps
    /// its own history) they are the context; when they begin with the end of the stored turns, the overlap is sent
    /// once; otherwise the stored turns come first.
    /// </summary>
    public static (IReadOnlyList<StoredTurn> Context, IReadOnlyList<StoredTurn> Added) Merge(IReadOnlyList<StoredTurn> stored, IReadOnlyList<StoredTurn> client)
    {
        if (stored.Count == 0)
        {
            return (client, client);
        }

        // The whole stored history inside the client's messages: the client holds it all.
        for (var end = client.Count; end >= stored.Count; end--)
        {
            if (RunEquals(stored, 0, client, end - stored.Count, stored.Count))
            {
                return (client, client.Skip(end).ToList());
            }
        }

        // The client's messages start with the end of the stored history.
        for (var overlap = Math.Min(stored.Count - 1, client.Count); overlap > 0; overlap--)
        {
            if (RunEquals(stored, stored.Count - overlap, client, 0, overlap))
            {
                var added = client.Skip(overlap).ToList();
                return ([.. stored, .. added], added);
            }
        }

        return ([.. stored, .. client], client);
    }

    private static bool RunEquals(IReadOnlyList<StoredTurn> a, int aStart, IReadOnlyList<StoredTurn> b, int bStart, int length)
    {
        for (var i = 0; i < length; i++)
        {
            if (a[aStart + i] != b[bStart + i])
            {
                return false;
            }
        }

        return true;
    }

    private static IReadOnlyList<StoredTurn> Trim(IReadOnlyList<StoredTurn> turns, int max) =>
        turns.Count <= max ? turns : [.. turns.Skip(turns.Count - max)];

    public static bool IsValidId(string id) => id.Length <= MaxIdLength && RequestIdMiddleware.IsAcceptable(id);

    [LoggerMessage(Level = LogLevel.Error, Message = "The session store is unavailable ({ExceptionType})")]
    private static partial void LogUnavailable(ILogger logger, string exceptionType);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Session {SessionId}: the store could not be reached ({ExceptionType}); trying the turn's write again")]
    private static partial void LogRetrying(ILogger logger, string sessionId, string exceptionType);

    [LoggerMessage(Level = LogLevel.Error, Message = "Session {SessionId}: the turn could not be stored after repeated concurrent updates")]
    private static partial void LogLostRace(ILogger logger, string sessionId);
}
