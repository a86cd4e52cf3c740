using System.Text.Json;
using Flowith2Api.AdminService.Data;
using Flowith2Api.ServiceDefaults;
using Microsoft.EntityFrameworkCore;
using StackExchange.Redis;

namespace Flowith2Api.AdminService.Apis;

/// <summary>
/// <c>GET /v1/admin/stats</c>: cluster-wide statistics, summed from what every ChatService replica writes to Redis, plus
/// the credentials' states; <c>POST /v1/admin/stats/reset</c> starts counting again.
/// </summary>
public static class StatsApi
{
    private static readonly string[] StatusClasses = ["2xx", "4xx", "5xx"];
    private static readonly (string Label, double Quantile)[] Quantiles = [("p50", 0.5), ("p95", 0.95), ("p99", 0.99)];

    public static IEndpointRouteBuilder MapStatsApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1/admin/stats").RequireAdminKey();
        group.MapGet("", GetAsync);
        group.MapPost("/reset", ResetAsync);
        group.MapGet("/history", HistoryAsync);
        return app;
    }

    public static async Task<IResult> GetAsync(HttpContext context, AdminDbContext db, IServiceProvider services, IConfiguration configuration)
    {
        if (services.GetService<IConnectionMultiplexer>() is not { } redis)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status503ServiceUnavailable,
                detail: "Cluster statistics are gathered in Redis, and no Redis is configured.");
        }

        var prefix = StatsKeys.Prefix(configuration);
        var database = redis.GetDatabase();
        var counters = (await database.HashGetAllAsync(StatsKeys.Counters(prefix))).ToDictionary(e => (string)e.Name!, e => (long)e.Value);
        var latency = Buckets(await database.HashGetAllAsync(StatsKeys.Latency(prefix)));
        var ttft = Buckets(await database.HashGetAllAsync(StatsKeys.TimeToFirstToken(prefix)));
        var since = (long?)await database.StringGetAsync(StatsKeys.Since(prefix));
        long activeStreams = 0;
        foreach (var endpoint in redis.GetEndPoints())
        {
            await foreach (var key in redis.GetServer(endpoint).KeysAsync(pattern: StatsKeys.ActiveStreamsPattern(prefix)))
            {
                activeStreams += (long?)await database.StringGetAsync(key) ?? 0;
            }
        }

        var cooling = (await database.HashGetAllAsync(prefix + "pool:health")).Count(e => e.Value.ToString().StartsWith("1|", StringComparison.Ordinal));
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
            return TypedResults.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, detail: "No Redis is configured.");
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

    private static long Get(Dictionary<string, long> counters, string name) => counters.GetValueOrDefault(name);

    private static Dictionary<int, long> Buckets(HashEntry[] entries) =>
        entries.Where(e => int.TryParse((string?)e.Name, out _)).ToDictionary(e => int.Parse((string)e.Name!, System.Globalization.CultureInfo.InvariantCulture), e => (long)e.Value);

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
