using Flowith2Api.Contracts;
using StackExchange.Redis;

namespace Flowith2Api.AdminService.Data;

/// <summary>The cluster-wide counters and latency histograms at one moment (what every ChatService replica wrote to Redis).</summary>
public sealed record StatsSnapshot(DateTimeOffset Taken, Dictionary<string, long> Counters, Dictionary<int, long> Latency,
    Dictionary<int, long> TimeToFirstToken, long ActiveStreams, long? SinceUnixMs)
{
    public static async Task<StatsSnapshot> ReadAsync(IConnectionMultiplexer redis, string prefix, DateTimeOffset now)
    {
        var database = redis.GetDatabase();
        var counters = database.HashGetAllAsync(StatsKeys.Counters(prefix));
        var latency = database.HashGetAllAsync(StatsKeys.Latency(prefix));
        var ttft = database.HashGetAllAsync(StatsKeys.TimeToFirstToken(prefix));
        var since = database.StringGetAsync(StatsKeys.Since(prefix));
        long activeStreams = 0;
        foreach (var endpoint in redis.GetEndPoints())
        {
            await foreach (var key in redis.GetServer(endpoint).KeysAsync(pattern: StatsKeys.ActiveStreamsPattern(prefix)))
            {
                activeStreams += (long?)await database.StringGetAsync(key) ?? 0;
            }
        }

        return new StatsSnapshot(now, (await counters).ToDictionary(e => (string)e.Name!, e => (long)e.Value), Buckets(await latency), Buckets(await ttft),
            activeStreams, (long?)await since);
    }

    private static Dictionary<int, long> Buckets(HashEntry[] entries) =>
        entries.Where(e => int.TryParse((string?)e.Name, out _))
            .ToDictionary(e => int.Parse((string)e.Name!, System.Globalization.CultureInfo.InvariantCulture), e => (long)e.Value);
}

/// <summary>
/// The last hour of the cluster's statistics at <c>STATS_SERIES_SECONDS</c> [10] resolution, for the console's charts: a
/// snapshot is taken every interval and kept in memory (<c>GET /v1/admin/stats/series</c> turns neighbours into
/// per-interval rates and percentiles). Each AdminService replica samples the same Redis, so any replica answers alike;
/// without Redis it samples the in-process statistics.
/// </summary>
public sealed partial class StatsSeries(IServiceProvider services, IConfiguration configuration, TimeProvider time, ILogger<StatsSeries> logger)
    : BackgroundService
{
    public static readonly TimeSpan Window = TimeSpan.FromHours(1);

    public TimeSpan Interval { get; } = TimeSpan.FromSeconds(
        int.TryParse(configuration["STATS_SERIES_SECONDS"], out var seconds) && seconds is > 0 and <= 3600 ? seconds : 10);

    private readonly Lock _gate = new();
    private readonly Queue<StatsSnapshot> _samples = new();

    public IReadOnlyList<StatsSnapshot> Samples
    {
        get
        {
            lock (_gate)
            {
                return [.. _samples];
            }
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var redis = services.GetService<IConnectionMultiplexer>();
        var local = services.GetService<LocalStats>();
        if (redis is null && local is null)
        {
            return;
        }

        using var timer = new PeriodicTimer(Interval, time);
        do
        {
            try
            {
                Add(redis is not null ? await StatsSnapshot.ReadAsync(redis, RedisLayout.Prefix(configuration), time.GetUtcNow()) : local!.Snapshot(time.GetUtcNow()));
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LogFailed(logger, e.GetType().Name); // a missed sample is a gap in the chart, never a stopped service
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    private void Add(StatsSnapshot snapshot)
    {
        lock (_gate)
        {
            _samples.Enqueue(snapshot);
            while (_samples.Count > 0 && snapshot.Taken - _samples.Peek().Taken > Window + Interval)
            {
                _samples.Dequeue();
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "A statistics sample failed ({ExceptionType}); the chart has a gap there")]
    private static partial void LogFailed(ILogger logger, string exceptionType);
}
