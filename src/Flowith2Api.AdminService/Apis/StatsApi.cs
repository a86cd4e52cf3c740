using System.Text.Json;
using Flowith2Api.AdminService.Data;
using Flowith2Api.Contracts;
using Flowith2Api.ServiceDefaults;
using Microsoft.EntityFrameworkCore;
using StackExchange.Redis;

namespace Flowith2Api.AdminService.Apis;

/// <summary>
/// <c>GET /v1/admin/stats</c>: cluster-wide statistics, summed from what every ChatService replica writes to Redis (or,
/// without Redis, reports here: <see cref="LocalStats"/>), plus the credentials' states; <c>POST /v1/admin/stats/reset</c>
/// starts counting again.
/// </summary>
public static class StatsApi
{
    private static readonly string[] StatusClasses = ["2xx", "4xx", "5xx"];
    private static readonly (string Label, double Quantile)[] Quantiles = [("p50", 0.5), ("p95", 0.95), ("p99", 0.99)];

    public static IEndpointRouteBuilder MapStatsApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1/admin/stats").RequireAdminKey().WithTags("Admin: statistics");
        group.MapGet("", GetAsync);
        group.MapPost("/reset", ResetAsync);
        group.MapGet("/history", HistoryAsync);
        group.MapGet("/series", SeriesAsync);
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

        var prefix = StatsKeys.Prefix(configuration);
        var snapshot = await StatsSnapshot.ReadAsync(redis, prefix, now);
        var cooling = (await redis.GetDatabase().HashGetAllAsync(prefix + "pool:health")).Count(e => e.Value.ToString().StartsWith("1|", StringComparison.Ordinal));
        return (snapshot, cooling);
    }

    public static async Task<IResult> GetAsync(HttpContext context, AdminDbContext db, IServiceProvider services, IConfiguration configuration)
    {
        var (snapshot, cooling) = await ReadAsync(services, configuration, DateTimeOffset.UtcNow);
        var (counters, latency, ttft, since, activeStreams) = (snapshot.Counters, snapshot.Latency, snapshot.TimeToFirstToken, snapshot.SinceUnixMs,
            snapshot.ActiveStreams);
        var states = await db.Credentials.Where(c => c.Deleted == null).GroupBy(c => c.State).Select(g => new { g.Key, Count = g.Count() })
            .ToListAsync(context.RequestAborted);

        await JsonResponse.WriteAsync(context, StatusCodes.Status200OK, json =>
        {
            json.WriteStartObject();
            var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            json.WriteNumber("uptime_seconds", since is { } start ? Math.Max(0, (now - start) / 1000) : 0);
            json.WriteStartObject("requests");
            json.WriteNumber("total", Get(counters, "requests"));
            json.WriteNumber("succeeded", Get(counters, "succeeded"));
            json.WriteNumber("failed", Get(counters, "failed"));
            json.WriteStartObject("by_status_class");
            foreach (var statusClass in StatusClasses)
            {
                json.WriteNumber(statusClass, Get(counters, "status:" + statusClass));
            }

            json.WriteEndObject();
            json.WriteEndObject();
            WriteGroup(json, "by_model", counters, "model:");
            WriteGroup(json, "by_credential", counters, "credential:");
            WriteGroup(json, "by_key", counters, "key:");
            json.WriteNumber("retries", Get(counters, "retries"));
            json.WriteStartObject("tokens");
            json.WriteNumber("input", Get(counters, "tokens_in"));
            json.WriteNumber("output", Get(counters, "tokens_out"));
            json.WriteEndObject();
            WritePercentiles(json, "latency_ms", latency);
            WritePercentiles(json, "time_to_first_token_ms", ttft);
            json.WriteNumber("active_streams", activeStreams);
            json.WriteStartObject("credentials");
            json.WriteNumber("enabled", states.Where(s => s.Key == CredentialStateValue.Enabled).Sum(s => s.Count));
            json.WriteNumber("disabled", states.Where(s => s.Key == CredentialStateValue.Disabled).Sum(s => s.Count));
            json.WriteNumber("cooling", cooling);
            json.WriteEndObject();
            json.WriteEndObject();
        });
        return TypedResults.Empty;
    }

    public static async Task<IResult> ResetAsync(IServiceProvider services, IConfiguration configuration)
    {
        if (services.GetService<IConnectionMultiplexer>() is not { } redis)
        {
            services.GetRequiredService<LocalStats>().Reset();
            return TypedResults.Json(new { reset = true });
        }

        var prefix = StatsKeys.Prefix(configuration);
        var database = redis.GetDatabase();
        await database.KeyDeleteAsync([StatsKeys.Counters(prefix), StatsKeys.Latency(prefix), StatsKeys.TimeToFirstToken(prefix)]);
        await database.StringSetAsync(StatsKeys.Since(prefix), DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        return TypedResults.Json(new { reset = true });
    }

    /// <summary>The periodic snapshots of the counters, newest first.</summary>
    public static async Task HistoryAsync(HttpContext context, AdminDbContext db, int? limit)
    {
        var take = Math.Clamp(limit ?? 50, 1, 1000);
        var rollups = await db.StatsRollups.OrderByDescending(r => r.Id).Take(take).ToListAsync(context.RequestAborted);
        await JsonResponse.WriteAsync(context, StatusCodes.Status200OK, json =>
        {
            json.WriteStartObject();
            json.WriteStartArray("rollups");
            foreach (var rollup in rollups)
            {
                json.WriteStartObject();
                json.WriteString("taken", rollup.Taken);
                json.WritePropertyName("counters");
                json.WriteRawValue(rollup.CountersJson);
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
        });
    }

    /// <summary>
    /// The last hour, one point per <c>STATS_SERIES_SECONDS</c>: what happened in that interval (requests,
    /// outcomes, tokens, per model and per credential, latency and time-to-first-token percentiles) and the streams open
    /// at its end. A reset in between counts from zero.
    /// </summary>
    public static async Task<IResult> SeriesAsync(HttpContext context, StatsSeries series)
    {
        var samples = series.Samples;
        await JsonResponse.WriteAsync(context, StatusCodes.Status200OK, json =>
        {
            json.WriteStartObject();
            json.WriteNumber("interval_seconds", series.Interval.TotalSeconds);
            json.WriteStartArray("points");
            for (var i = 1; i < samples.Count; i++)
            {
                var (previous, current) = (samples[i - 1], samples[i]);
                var reset = current.SinceUnixMs != previous.SinceUnixMs;
                long Delta(string name) => reset ? Get(current.Counters, name) : Math.Max(0, Get(current.Counters, name) - Get(previous.Counters, name));
                json.WriteStartObject();
                json.WriteNumber("t", current.Taken.ToUnixTimeMilliseconds());
                json.WriteNumber("seconds", Math.Round((current.Taken - previous.Taken).TotalSeconds, 3)); // a missed sample makes a longer point
                json.WriteNumber("requests", Delta("requests"));
                json.WriteNumber("succeeded", Delta("succeeded"));
                json.WriteNumber("failed", Delta("failed"));
                json.WriteNumber("tokens_in", Delta("tokens_in"));
                json.WriteNumber("tokens_out", Delta("tokens_out"));
                json.WriteNumber("active_streams", current.ActiveStreams);
                WritePercentiles(json, "latency_ms", reset ? current.Latency : Subtract(current.Latency, previous.Latency));
                WritePercentiles(json, "time_to_first_token_ms", reset ? current.TimeToFirstToken : Subtract(current.TimeToFirstToken, previous.TimeToFirstToken));
                foreach (var (group, prefix) in new[] { ("by_model", "model:"), ("by_credential", "credential:") })
                {
                    json.WriteStartObject(group);
                    foreach (var name in current.Counters.Keys.Where(k => k.StartsWith(prefix, StringComparison.Ordinal)))
                    {
                        if (Delta(name) is var count and > 0)
                        {
                            json.WriteNumber(name[prefix.Length..], count);
                        }
                    }

                    json.WriteEndObject();
                }

                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
        });
        return TypedResults.Empty;
    }

    private static Dictionary<int, long> Subtract(Dictionary<int, long> current, Dictionary<int, long> previous) =>
        current.Select(b => (b.Key, Count: b.Value - previous.GetValueOrDefault(b.Key))).Where(b => b.Count > 0).ToDictionary(b => b.Key, b => b.Count);

    private static long Get(Dictionary<string, long> counters, string name) => counters.GetValueOrDefault(name);

    private static void WriteGroup(Utf8JsonWriter json, string name, Dictionary<string, long> counters, string prefix)
    {
        json.WriteStartObject(name);
        foreach (var (key, value) in counters.Where(c => c.Key.StartsWith(prefix, StringComparison.Ordinal)).OrderByDescending(c => c.Value))
        {
            json.WriteNumber(key[prefix.Length..], value);
        }

        json.WriteEndObject();
    }

    private static void WritePercentiles(Utf8JsonWriter json, string name, Dictionary<int, long> buckets)
    {
        json.WriteStartObject(name);
        foreach (var (label, quantile) in Quantiles)
        {
            if (StatsKeys.Percentile(buckets, quantile) is { } value)
            {
                json.WriteNumber(label, value);
            }
            else
            {
                json.WriteNull(label);
            }
        }

        json.WriteNumber("count", buckets.Values.Sum());
        json.WriteEndObject();
    }
}
