using System.Text.Json;
using System.Text.Json.Serialization;
using Flowith2Api.AdminService.Data;
using Flowith2Api.Contracts;
using Flowith2Api.ServiceDefaults;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using StackExchange.Redis;

namespace Flowith2Api.AdminService.Apis;

/// <summary>Latency percentiles (ms) over a histogram; null where nothing was counted.</summary>
public sealed record PercentilesAnswer(
    [property: JsonPropertyName("p50")] double? P50,
    [property: JsonPropertyName("p95")] double? P95,
    [property: JsonPropertyName("p99")] double? P99,
    [property: JsonPropertyName("count")] long Count);

public sealed record RequestCountsAnswer(
    [property: JsonPropertyName("total")] long Total,
    [property: JsonPropertyName("succeeded")] long Succeeded,
    [property: JsonPropertyName("failed")] long Failed,
    [property: JsonPropertyName("by_status_class")] Dictionary<string, long> ByStatusClass);

public sealed record TokenCountsAnswer([property: JsonPropertyName("input")] long Input, [property: JsonPropertyName("output")] long Output);

public sealed record CredentialCountsAnswer(
    [property: JsonPropertyName("enabled")] int Enabled,
    [property: JsonPropertyName("disabled")] int Disabled,
    [property: JsonPropertyName("cooling")] int Cooling);

/// <summary><c>GET /v1/admin/stats</c>: cluster-wide counts since the last reset.</summary>
public sealed record StatsAnswer(
    [property: JsonPropertyName("uptime_seconds")] long UptimeSeconds,
    [property: JsonPropertyName("requests")] RequestCountsAnswer Requests,
    [property: JsonPropertyName("by_model")] Dictionary<string, long> ByModel,
    [property: JsonPropertyName("by_credential")] Dictionary<string, long> ByCredential,
    [property: JsonPropertyName("by_key")] Dictionary<string, long> ByKey,
    [property: JsonPropertyName("retries")] long Retries,
    [property: JsonPropertyName("tokens")] TokenCountsAnswer Tokens,
    [property: JsonPropertyName("latency_ms")] PercentilesAnswer LatencyMs,
    [property: JsonPropertyName("time_to_first_token_ms")] PercentilesAnswer TimeToFirstTokenMs,
    [property: JsonPropertyName("active_streams")] long ActiveStreams,
    [property: JsonPropertyName("credentials")] CredentialCountsAnswer Credentials);

public sealed record StatsResetAnswer([property: JsonPropertyName("reset")] bool Reset);

public sealed record RollupAnswer([property: JsonPropertyName("taken")] DateTimeOffset Taken, [property: JsonPropertyName("counters")] JsonElement Counters);

public sealed record RollupList([property: JsonPropertyName("rollups")] IReadOnlyList<RollupAnswer> Rollups);

/// <summary>One interval of the series: what happened in it, and the streams open at its end.</summary>
public sealed record SeriesPoint(
    [property: JsonPropertyName("t")] long T,
    [property: JsonPropertyName("seconds")] double Seconds,
    [property: JsonPropertyName("requests")] long Requests,
    [property: JsonPropertyName("succeeded")] long Succeeded,
    [property: JsonPropertyName("failed")] long Failed,
    [property: JsonPropertyName("tokens_in")] long TokensIn,
    [property: JsonPropertyName("tokens_out")] long TokensOut,
    [property: JsonPropertyName("active_streams")] long ActiveStreams,
    [property: JsonPropertyName("latency_ms")] PercentilesAnswer LatencyMs,
    [property: JsonPropertyName("time_to_first_token_ms")] PercentilesAnswer TimeToFirstTokenMs,
    [property: JsonPropertyName("by_model")] Dictionary<string, long> ByModel,
    [property: JsonPropertyName("by_credential")] Dictionary<string, long> ByCredential);

public sealed record SeriesAnswer(
    [property: JsonPropertyName("interval_seconds")] double IntervalSeconds,
    [property: JsonPropertyName("points")] IReadOnlyList<SeriesPoint> Points);

[JsonSerializable(typeof(StatsAnswer))]
[JsonSerializable(typeof(StatsResetAnswer))]
[JsonSerializable(typeof(RollupList))]
[JsonSerializable(typeof(SeriesAnswer))]
public sealed partial class StatsJsonContext : JsonSerializerContext;

/// <summary>
/// <c>GET /v1/admin/stats</c>: cluster-wide statistics, summed from what every ChatService replica writes to Redis (or,
/// without Redis, reports here: <see cref="LocalStats"/>), plus the credentials' states; <c>POST /v1/admin/stats/reset</c>
/// starts counting again.
/// </summary>
public static class StatsApi
{
    private static readonly string[] StatusClasses = ["2xx", "4xx", "5xx"];
    private static readonly (string Label, double Quantile)[] Quantiles = [("p50", 0.5), ("p95", 0.95), ("p99", 0.99)]; // the answer's p50, p95, p99

    public static IEndpointRouteBuilder MapStatsApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1/admin/stats").RequireAdminKey().WithTags("Admin: statistics");
        group.MapGet("", GetAsync);
        group.MapPost("/reset", ResetAsync);
        group.MapGet("/history", HistoryAsync);
        group.MapGet("/series", Series);
        app.MapPost(StatsReport.Path, (StatsReport report, LocalStats local) =>
        {
            local.Add(report); // embedded mode: a ChatService's counts of the last second
            return TypedResults.NoContent();
        });
        return app;
    }

    /// <summary>The statistics now, and how many credentials are cooling down: from Redis when it is configured, else in process.</summary>
    public static async Task<(StatsSnapshot Snapshot, int Cooling)> ReadAsync(IServiceProvider services, IConfiguration configuration, DateTimeOffset now)
    {
        if (services.GetService<IConnectionMultiplexer>() is not { } redis)
        {
            var local = services.GetRequiredService<LocalStats>();
            return (local.Snapshot(now), local.Cooling(now));
        }

        var prefix = RedisLayout.Prefix(configuration);
        var snapshot = await StatsSnapshot.ReadAsync(redis, prefix, now);
        var cooling = (await redis.GetDatabase().HashGetAllAsync(prefix + "pool:health")).Count(e => e.Value.ToString().StartsWith("1|", StringComparison.Ordinal));
        return (snapshot, cooling);
    }

    public static async Task<Ok<StatsAnswer>> GetAsync(AdminDbContext db, IServiceProvider services, IConfiguration configuration,
        CancellationToken cancellationToken)
    {
        var (snapshot, cooling) = await ReadAsync(services, configuration, DateTimeOffset.UtcNow);
        var counters = snapshot.Counters;
        var states = await db.Credentials.Where(c => c.Deleted == null).GroupBy(c => c.State).Select(g => new { g.Key, Count = g.Count() })
            .ToListAsync(cancellationToken);
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        return TypedResults.Ok(new StatsAnswer(
            snapshot.SinceUnixMs is { } start ? Math.Max(0, (now - start) / 1000) : 0,
            new RequestCountsAnswer(Get(counters, "requests"), Get(counters, "succeeded"), Get(counters, "failed"),
                StatusClasses.ToDictionary(c => c, c => Get(counters, "status:" + c))),
            Group(counters, "model:"),
            Group(counters, "credential:"),
            Group(counters, "key:"),
            Get(counters, "retries"),
            new TokenCountsAnswer(Get(counters, "tokens_in"), Get(counters, "tokens_out")),
            Percentiles(snapshot.Latency),
            Percentiles(snapshot.TimeToFirstToken),
            snapshot.ActiveStreams,
            new CredentialCountsAnswer(states.Where(s => s.Key == CredentialStateValue.Enabled).Sum(s => s.Count),
                states.Where(s => s.Key == CredentialStateValue.Disabled).Sum(s => s.Count), cooling)));
    }

    public static async Task<Ok<StatsResetAnswer>> ResetAsync(IServiceProvider services, IConfiguration configuration)
    {
        if (services.GetService<IConnectionMultiplexer>() is not { } redis)
        {
            services.GetRequiredService<LocalStats>().Reset();
            return TypedResults.Ok(new StatsResetAnswer(true));
        }

        var prefix = RedisLayout.Prefix(configuration);
        var database = redis.GetDatabase();
        await database.KeyDeleteAsync([StatsKeys.Counters(prefix), StatsKeys.Latency(prefix), StatsKeys.TimeToFirstToken(prefix)]);
        await database.StringSetAsync(StatsKeys.Since(prefix), DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        return TypedResults.Ok(new StatsResetAnswer(true));
    }

    /// <summary>The periodic snapshots of the counters, newest first.</summary>
    public static async Task<Ok<RollupList>> HistoryAsync(AdminDbContext db, int? limit, CancellationToken cancellationToken)
    {
        var take = Math.Clamp(limit ?? 50, 1, 1000);
        var rollups = await db.StatsRollups.OrderByDescending(r => r.Id).Take(take).ToListAsync(cancellationToken);
        return TypedResults.Ok(new RollupList([.. rollups.Select(r => new RollupAnswer(r.Taken, ParseCounters(r.CountersJson)))]));
    }

    /// <summary>
    /// The last hour, one point per <c>STATS_SERIES_SECONDS</c>: what happened in that interval (requests,
    /// outcomes, tokens, per model and per credential, latency and time-to-first-token percentiles) and the streams open
    /// at its end. A reset in between counts from zero.
    /// </summary>
    public static Ok<SeriesAnswer> Series(StatsSeries series)
    {
        var samples = series.Samples;
        var points = new List<SeriesPoint>(Math.Max(0, samples.Count - 1));
        for (var i = 1; i < samples.Count; i++)
        {
            var (previous, current) = (samples[i - 1], samples[i]);
            var reset = current.SinceUnixMs != previous.SinceUnixMs;
            long Delta(string name) => reset ? Get(current.Counters, name) : Math.Max(0, Get(current.Counters, name) - Get(previous.Counters, name));
            Dictionary<string, long> Moved(string prefix) => current.Counters.Keys.Where(k => k.StartsWith(prefix, StringComparison.Ordinal))
                .Select(k => (Name: k[prefix.Length..], Count: Delta(k))).Where(c => c.Count > 0).ToDictionary(c => c.Name, c => c.Count);
            points.Add(new SeriesPoint(
                current.Taken.ToUnixTimeMilliseconds(),
                Math.Round((current.Taken - previous.Taken).TotalSeconds, 3), // a missed sample makes a longer point
                Delta("requests"), Delta("succeeded"), Delta("failed"), Delta("tokens_in"), Delta("tokens_out"),
                current.ActiveStreams,
                Percentiles(reset ? current.Latency : Subtract(current.Latency, previous.Latency)),
                Percentiles(reset ? current.TimeToFirstToken : Subtract(current.TimeToFirstToken, previous.TimeToFirstToken)),
                Moved("model:"),
                Moved("credential:")));
        }

        return TypedResults.Ok(new SeriesAnswer(series.Interval.TotalSeconds, points));
    }

    private static Dictionary<int, long> Subtract(Dictionary<int, long> current, Dictionary<int, long> previous) =>
        current.Select(b => (b.Key, Count: b.Value - previous.GetValueOrDefault(b.Key))).Where(b => b.Count > 0).ToDictionary(b => b.Key, b => b.Count);

    private static long Get(Dictionary<string, long> counters, string name) => counters.GetValueOrDefault(name);

    private static JsonElement ParseCounters(string json)
    {
        using var document = JsonDocument.Parse(json);
        return document.RootElement.Clone();
    }

    private static Dictionary<string, long> Group(Dictionary<string, long> counters, string prefix) =>
        counters.Where(c => c.Key.StartsWith(prefix, StringComparison.Ordinal)).OrderByDescending(c => c.Value)
            .ToDictionary(c => c.Key[prefix.Length..], c => c.Value);

    private static PercentilesAnswer Percentiles(Dictionary<int, long> buckets) => new(
        StatsKeys.Percentile(buckets, Quantiles[0].Quantile),
        StatsKeys.Percentile(buckets, Quantiles[1].Quantile),
        StatsKeys.Percentile(buckets, Quantiles[2].Quantile),
        buckets.Values.Sum());
}
