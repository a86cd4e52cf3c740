using System.Diagnostics;
using System.Text;
using Flowith2Api.ServiceDefaults;
using Flowith2Api.Tests.Infrastructure;

namespace Flowith2Api.Tests.Operations;

/// <summary>Redis and PostgreSQL calls appear as spans in the request's trace.</summary>
public sealed class DatabaseSpanTests
{
    [Fact]
    public async Task Redis_and_postgresql_calls_are_spans_of_the_requests_that_made_them()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var postgres = await PostgresServer.StartAsync();
        await using var cluster = await GatewayCluster.StartAsync(new GatewayClusterOptions
        {
            CaptureTraces = true,
            Redis = redis.ConnectionString,
            AdminSettings = new Dictionary<string, string>
            {
                ["STORAGE_TYPE"] = "postgres",
                ["ConnectionStrings:admindb"] = await postgres.CreateDatabaseAsync(),
            },
        });

        using var user = cluster.CreateClient();
        var chatId = "req-db-spans-" + Guid.NewGuid().ToString("N");
        using (var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = new StringContent("""{"messages":[{"role":"user","content":"touch redis"}]}""", Encoding.UTF8, "application/json"),
        })
        {
            request.Headers.Add("x-request-id", chatId);
            using var response = await user.SendAsync(request);
            response.EnsureSuccessStatusCode();
        }

        using var admin = cluster.CreateClient(GatewayCluster.AdminKeyValue);
        var adminId = "req-db-spans-admin-" + Guid.NewGuid().ToString("N");
        using (var request = new HttpRequestMessage(HttpMethod.Get, "/v1/admin/tokens"))
        {
            request.Headers.Add("x-request-id", adminId);
            using var response = await admin.SendAsync(request);
            response.EnsureSuccessStatusCode();
        }

        Activity? redisSpan = null, postgresSpan = null;
        var deadline = Stopwatch.StartNew();
        while ((redisSpan is null || postgresSpan is null) && deadline.Elapsed < TimeSpan.FromSeconds(15))
        {
            await Task.Delay(200);
            var spans = cluster.Spans.ToArray();
            redisSpan ??= InTraceOf(spans, chatId, s => Equals(s.GetTagItem("db.system"), "redis"));
            postgresSpan ??= InTraceOf(spans, adminId, s => s.Source.Name == "Npgsql");
        }

        Assert.NotNull(redisSpan);
        Assert.Equal(ActivityKind.Client, redisSpan.Kind);
        Assert.NotNull(postgresSpan);
        Assert.Equal(ActivityKind.Client, postgresSpan.Kind);
    }

    private static Activity? InTraceOf(Activity[] spans, string requestId, Func<Activity, bool> predicate)
    {
        var traces = spans.Where(s => Equals(s.GetTagItem(Telemetry.RequestIdTag), requestId)).Select(s => s.TraceId).ToHashSet();
        return spans.FirstOrDefault(s => traces.Contains(s.TraceId) && predicate(s));
    }
}
