using System.Diagnostics;
using Flowith2Api.Contracts;
using StackExchange.Redis;

namespace Flowith2Api.ChatService.Conversation;

/// <summary>
/// Counts every chat request in memory and adds the counts to Redis once a second (one batch per flush, never a write
/// per request), where the AdminService reads them cluster-wide: requests by outcome, model, credential and key,
/// retries, tokens, latency and time-to-first-token histograms, and this replica's open streams. Without Redis
/// (embedded mode) the same counts go to the AdminService itself once a second (<see cref="StatsReport"/>).
/// </summary>
public sealed partial class ChatStats(IServiceProvider services, IConfiguration configuration, ILogger<ChatStats> logger) : BackgroundService
{
    private readonly string _prefix = RedisLayout.Prefix(configuration);
    private readonly string _replica = Environment.MachineName + "-" + Environment.ProcessId + "-" + Guid.NewGuid().ToString("N")[..6];
    private readonly Lock _gate = new();
    private Dictionary<string, long> _counters = [];
    private Dictionary<int, long> _latency = [];
    private Dictionary<int, long> _ttft = [];
    private long _activeStreams;

    public long ActiveStreams => Interlocked.Read(ref _activeStreams);

    /// <summary>Counts an open stream until the returned handle is disposed.</summary>
    public IDisposable OpenStream()
    {
        Interlocked.Increment(ref _activeStreams);
        return new StreamHandle(this);
    }

    private sealed class StreamHandle(ChatStats owner) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                Interlocked.Decrement(ref owner._activeStreams);
            }
        }
    }

    public void Record(int status, double elapsedMs, double? ttftMs, ChatCall? call, string? keyId)
    {
        lock (_gate)
        {
            RecordLocked(status, elapsedMs, ttftMs, call, keyId);
        }
    }

    private void RecordLocked(int status, double elapsedMs, double? ttftMs, ChatCall? call, string? keyId)
    {
        Add("requests");
        Add(status < 400 ? "succeeded" : "failed");
        Add(status < 400 ? "status:2xx" : status < 500 ? "status:4xx" : "status:5xx");
        if (call is not null)
        {
            if (call.Model is { } model)
            {
                Add("model:" + model);
            }

            if (call.CredentialMasked is { } credential)
            {
                Add("credential:" + credential);
            }

            Add("retries", Math.Max(0, call.Attempts - 1));
            Add("tokens_in", call.InputTokens);
            Add("tokens_out", call.OutputTokens);
        }

        if (keyId is not null)
        {
            Add("key:" + keyId);
        }

        var bucket = StatsKeys.Bucket(elapsedMs);
        _latency[bucket] = _latency.GetValueOrDefault(bucket) + 1;
        if (ttftMs is { } ttft)
        {
            var ttftBucket = StatsKeys.Bucket(ttft);
            _ttft[ttftBucket] = _ttft.GetValueOrDefault(ttftBucket) + 1;
        }
    }

    private void Add(string counter, long amount = 1)
    {
        if (amount != 0)
        {
            _counters[counter] = _counters.GetValueOrDefault(counter) + amount;
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var redis = services.GetService<IConnectionMultiplexer>();
        var admin = redis is null && AdminClient.AdminServiceUri(configuration) is not null ? services.GetService<AdminClient>() : null;
        if (redis is null && admin is null)
        {
            return;
        }

        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await (redis is not null ? FlushAsync(redis) : ReportAsync(admin!, stoppingToken));
            }
            catch (Exception e) when (e is RedisException or HttpRequestException || (e is OperationCanceledException && !stoppingToken.IsCancellationRequested))
            {
                LogFlushFailed(logger, e.GetType().Name);
            }
        }
    }

    private (Dictionary<string, long> Counters, Dictionary<int, long> Latency, Dictionary<int, long> Ttft) Take()
    {
        lock (_gate)
        {
            var taken = (_counters, _latency, _ttft);
            (_counters, _latency, _ttft) = ([], [], []);
            return taken;
        }
    }

    /// <summary>Counts that could not be delivered go back, for the next flush.</summary>
    private void Restore(Dictionary<string, long> counters, Dictionary<int, long> latency, Dictionary<int, long> ttft)
    {
        lock (_gate)
        {
            foreach (var (name, value) in counters)
            {
                _counters[name] = _counters.GetValueOrDefault(name) + value;
            }

            foreach (var (bucket, value) in latency)
            {
                _latency[bucket] = _latency.GetValueOrDefault(bucket) + value;
            }

            foreach (var (bucket, value) in ttft)
            {
                _ttft[bucket] = _ttft.GetValueOrDefault(bucket) + value;
            }
        }
    }

    /// <summary>Embedded mode: what was counted since the last report, to the AdminService's in-process statistics.</summary>
    public async Task ReportAsync(AdminClient admin, CancellationToken cancellationToken)
    {
        var (counters, latency, ttft) = Take();
        var states = services.GetService<Credentials.ICredentialStateStore>() is { } store ? await store.ReadAllAsync() : null;
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var cooling = states?.Values.Count(h => h.State == Credentials.CredentialState.Cooling && h.UntilUnixMs > now) ?? 0;
        var report = new StatsReport(_replica, counters, latency, ttft, ActiveStreams, cooling);
        try
        {
            using var content = new StringContent(System.Text.Json.JsonSerializer.Serialize(report, StatsReportJsonContext.Default.StatsReport),
                System.Text.Encoding.UTF8, "application/json");
            using var response = await admin.SendAsync(HttpMethod.Post, StatsReport.Path, content, cancellationToken);
            response.EnsureSuccessStatusCode();
        }
        catch
        {
            Restore(counters, latency, ttft);
            throw;
        }
    }

    /// <summary>Moves what was counted since the last flush into Redis.</summary>
    public async Task FlushAsync(IConnectionMultiplexer redis)
    {
        var (counters, latency, ttft) = Take();
        var db = redis.GetDatabase();
        var batch = db.CreateBatch();
        var pending = new List<Task>
        {
            batch.StringSetAsync(StatsKeys.Since(_prefix), DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), when: When.NotExists),
            batch.StringSetAsync(StatsKeys.ActiveStreams(_prefix, _replica), ActiveStreams, TimeSpan.FromSeconds(15)),
        };
        pending.AddRange(counters.Select(c => batch.HashIncrementAsync(StatsKeys.Counters(_prefix), c.Key, c.Value)));
        pending.AddRange(latency.Select(c => batch.HashIncrementAsync(StatsKeys.Latency(_prefix), c.Key, c.Value)));
        pending.AddRange(ttft.Select(c => batch.HashIncrementAsync(StatsKeys.TimeToFirstToken(_prefix), c.Key, c.Value)));
        batch.Execute();
        try
        {
            await Task.WhenAll(pending);
        }
        catch (RedisException)
        {
            Restore(counters, latency, ttft); // not written: kept for the next flush
            throw;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Statistics could not be delivered ({ExceptionType}); they are kept for the next try")]
    private static partial void LogFlushFailed(ILogger logger, string exceptionType);
}

/// <summary>Times every chat request (total and until the first byte) and hands the outcome to <see cref="ChatStats"/>.</summary>
public sealed class ChatStatsMiddleware(RequestDelegate next, ChatStats stats)
{
    public async Task InvokeAsync(HttpContext context)
    {
        var path = context.Request.Path;
        var isResponses = HttpMethods.IsPost(context.Request.Method) && path.Equals("/v1/responses", StringComparison.Ordinal);
        if (!(isResponses || path.StartsWithSegments("/v1/chat/completions")
            || (path.StartsWithSegments("/v1/messages") && !path.Value!.EndsWith("/count_tokens", StringComparison.Ordinal))))
        {
            await next(context);
            return;
        }

        var started = Stopwatch.GetTimestamp();
        var dialect = isResponses ? "responses" : path.StartsWithSegments("/v1/messages") ? "anthropic" : "openai";
        var span = ChatTelemetry.StartChat(dialect);
        double? firstByte = null;
        context.Response.OnStarting(() =>
        {
            firstByte = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            return Task.CompletedTask;
        });
        Exception? failure = null;
        try
        {
            await next(context);
        }
        catch (Exception e)
        {
            failure = e;
            span?.AddException(e);
            throw;
        }
        finally
        {
            // An exception that escapes becomes a 500 further out (or nothing, when the client went away): count it so.
            var status = failure is null ? context.Response.StatusCode
                : context.RequestAborted.IsCancellationRequested ? 499
                : context.Response.HasStarted ? context.Response.StatusCode : StatusCodes.Status500InternalServerError;
            var call = context.Features.Get<ChatCall>();
            var keyId = context.Request.Headers[InternalHeaders.KeyId] is { Count: > 0 } id ? id[0] : null;
            var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            try
            {
                stats.Record(status, elapsed, firstByte, call, keyId);
                ChatTelemetry.Record(dialect, status, elapsed, firstByte, call);
            }
            finally
            {
                ChatTelemetry.Finish(span, status, call, keyId);
            }
        }
    }
}
