using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using Flowith2Api.Tests.Infrastructure;

namespace Flowith2Api.Tests.Admin;

/// <summary>
/// Cluster-wide statistics, counted by every ChatService replica in Redis and read by the AdminService — and the same
/// without Redis (embedded mode, the README's default on a machine without it), where the replicas report to the
/// AdminService directly.
/// </summary>
public sealed class StatsApiTests(Sessions.RedisFixture redisFixture) : IClassFixture<Sessions.RedisFixture>
{
    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Requests_on_two_replicas_are_counted_together_by_model_key_and_outcome(bool redis)
    {
        await using var cluster = await GatewayCluster.StartAsync(new GatewayClusterOptions
        {
            FlowithTokens = "flo_stats_credential_0001",
            Redis = redis ? redisFixture.Redis.ConnectionString : null,
            ChatReplicas = 2,
        });
        using var user = cluster.CreateClient();
        using var admin = cluster.CreateClient(GatewayCluster.AdminKeyValue);
        for (var i = 0; i < 4; i++)
        {
            using var ok = await user.PostAsync("/v1/chat/completions", Json("""{"model":"gpt-4.1","stream":true,"messages":[{"role":"user","content":"hi"}]}"""));
            await ok.Content.ReadAsStringAsync();
        }

        using (await user.PostAsync("/v1/chat/completions", Json("""{"model":"gpt-4.1","messages":[{"role":"user","content":"[[fake:status=400]] x"}]}""")))
        {
        }

        using (await user.PostAsync("/v1/chat/completions", Json("""{"model":"no-such-model","messages":[{"role":"user","content":"x"}]}""")))
        {
        }

        JsonElement stats = default;
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(5))
        {
            stats = JsonDocument.Parse(await admin.GetStringAsync("/v1/admin/stats")).RootElement;
            if (stats.GetProperty("requests").GetProperty("total").GetInt64() >= 6)
            {
                break;
            }

            await Task.Delay(100);
        }

        var requests = stats.GetProperty("requests");
        Assert.Equal(6, requests.GetProperty("total").GetInt64());
        Assert.Equal(4, requests.GetProperty("succeeded").GetInt64());
        Assert.Equal(1, requests.GetProperty("by_status_class").GetProperty("4xx").GetInt64());
        Assert.Equal(1, requests.GetProperty("by_status_class").GetProperty("5xx").GetInt64());
        Assert.Equal(5, stats.GetProperty("by_model").GetProperty("gpt-4.1").GetInt64());
        Assert.Equal(6, stats.GetProperty("by_key").EnumerateObject().Single().Value.GetInt64());
        Assert.Equal(5, stats.GetProperty("by_credential").GetProperty("flo…0001").GetInt64());
        Assert.True(stats.GetProperty("tokens").GetProperty("output").GetInt64() > 0);
        Assert.Equal(6, stats.GetProperty("latency_ms").GetProperty("count").GetInt64());
        Assert.True(stats.GetProperty("latency_ms").GetProperty("p99").GetDouble() > 0);
        Assert.True(stats.GetProperty("time_to_first_token_ms").GetProperty("count").GetInt64() >= 4);
        Assert.Equal(0, stats.GetProperty("active_streams").GetInt64());
        Assert.Equal(1, stats.GetProperty("credentials").GetProperty("enabled").GetInt64());
        Assert.DoesNotContain("flo_stats_credential_0001", stats.GetRawText(), StringComparison.Ordinal);

        using (var reset = await admin.PostAsync("/v1/admin/stats/reset", null))
        {
            Assert.Equal(HttpStatusCode.OK, reset.StatusCode);
        }

        var after = JsonDocument.Parse(await admin.GetStringAsync("/v1/admin/stats")).RootElement;
        Assert.Equal(0, after.GetProperty("requests").GetProperty("total").GetInt64());

        using var forbidden = await user.GetAsync("/v1/admin/stats");
        Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task The_counters_are_rolled_up_into_the_database_periodically(bool redis)
    {
        await using var cluster = await GatewayCluster.StartAsync(new GatewayClusterOptions
        {
            Redis = redis ? redisFixture.Redis.ConnectionString : null,
            AdminSettings = new Dictionary<string, string> { ["STATS_ROLLUP_SECONDS"] = "1" },
        });
        using var user = cluster.CreateClient();
        for (var i = 0; i < 2; i++)
        {
            (await user.PostAsync("/v1/chat/completions", Json("""{"messages":[{"role":"user","content":"hi"}]}"""))).Dispose();
        }

        using var admin = cluster.CreateClient(GatewayCluster.AdminKeyValue);
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var rollups = JsonDocument.Parse(await admin.GetStringAsync("/v1/admin/stats/history")).RootElement.GetProperty("rollups");
            if (rollups.GetArrayLength() > 0 && rollups[0].GetProperty("counters").TryGetProperty("requests", out var requests) && requests.GetInt64() >= 2)
            {
                break;
            }

            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), "no roll-up with the requests appeared");
            await Task.Delay(200);
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task The_series_gives_the_last_hour_in_points_with_what_happened_in_each(bool redis)
    {
        await using var cluster = await GatewayCluster.StartAsync(new GatewayClusterOptions
        {
            Redis = redis ? redisFixture.Redis.ConnectionString : null,
            AdminSettings = new Dictionary<string, string> { ["STATS_SERIES_SECONDS"] = "1" },
        });
        using var user = cluster.CreateClient();
        using var admin = cluster.CreateClient(GatewayCluster.AdminKeyValue);
        for (var i = 0; i < 3; i++)
        {
            (await user.PostAsync("/v1/chat/completions", Json("""{"model":"gpt-4.1","messages":[{"role":"user","content":"hi"}]}"""))).Dispose();
        }

        var clock = Stopwatch.StartNew();
        JsonElement series;
        while (true)
        {
            series = JsonDocument.Parse(await admin.GetStringAsync("/v1/admin/stats/series")).RootElement.Clone();
            if (series.GetProperty("points").EnumerateArray().Sum(p => p.GetProperty("requests").GetInt64()) >= 3)
            {
                break;
            }

            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(15), "the requests never showed in the series");
            await Task.Delay(300);
        }

        Assert.Equal(1, series.GetProperty("interval_seconds").GetDouble());
        var points = series.GetProperty("points").EnumerateArray().ToList();
        Assert.Equal(3, points.Sum(p => p.GetProperty("succeeded").GetInt64())); // each request counted once, in its own interval
        Assert.Equal(3, points.Sum(p => p.GetProperty("by_model").TryGetProperty("gpt-4.1", out var n) ? n.GetInt64() : 0));
        Assert.True(points.Sum(p => p.GetProperty("tokens_out").GetInt64()) > 0);
        var busy = points.First(p => p.GetProperty("requests").GetInt64() > 0);
        Assert.NotEqual(JsonValueKind.Null, busy.GetProperty("latency_ms").GetProperty("p50").ValueKind);
        Assert.InRange(busy.GetProperty("seconds").GetDouble(), 0.5, 5);
        Assert.True(points.Zip(points.Skip(1)).All(pair => pair.First.GetProperty("t").GetInt64() < pair.Second.GetProperty("t").GetInt64()));
    }
}
