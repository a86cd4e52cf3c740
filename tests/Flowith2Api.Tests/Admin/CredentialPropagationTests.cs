using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using Flowith2Api.FakeFlowith;
using Flowith2Api.Tests.Infrastructure;

namespace Flowith2Api.Tests.Admin;

/// <summary>Credential changes made through the admin API reach every ChatService replica, and rejections persist.</summary>
public sealed class CredentialPropagationTests(Sessions.RedisFixture redisFixture) : IClassFixture<Sessions.RedisFixture>
{
    private const string First = "flo_propagation_first_01";
    private const string Added = "flo_propagation_added_02";

    private readonly Sessions.RedisFixture _redis = redisFixture;

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private static async Task<string?> AskAsync(GatewayCluster cluster, HttpClient replica)
    {
        var id = "req-prop-" + Guid.NewGuid().ToString("N");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = Json("""{"messages":[{"role":"user","content":"hi"}]}""") };
        request.Headers.Add("x-request-id", id);
        using var response = await replica.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return cluster.Fake.Requests.All.Single(r => r.RequestId == id).Token;
    }

    [Fact]
    public async Task A_credential_added_or_deleted_through_the_admin_api_reaches_both_replicas()
    {
        await using var cluster = await GatewayCluster.StartAsync(new GatewayClusterOptions
        {
            FlowithTokens = First,
            Redis = _redis.Redis.ConnectionString,
            ChatReplicas = 2,
        });
        using var admin = cluster.CreateClient(GatewayCluster.AdminKeyValue);
        using var replicas = new ReplicaClients(cluster);

        using (var added = await admin.PostAsync("/v1/admin/tokens", Json($$"""{"token":"{{Added}}"}""")))
        {
            Assert.Equal(HttpStatusCode.Created, added.StatusCode);
        }

        foreach (var replica in replicas.All)
        {
            var clock = Stopwatch.StartNew();
            while (await AskAsync(cluster, replica) != Added)
            {
                Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), "the added credential never reached a replica");
            }
        }

        using (var deleted = await admin.SendAsync(new HttpRequestMessage(HttpMethod.Delete, "/v1/admin/tokens") { Content = Json($$"""{"token":"{{First}}"}""") }))
        {
            Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);
        }

        // Within a second every replica has dropped it; after that it is never used again.
        var settle = Stopwatch.StartNew();
        var quietRounds = 0;
        while (quietRounds < 3)
        {
            Assert.True(settle.Elapsed < TimeSpan.FromSeconds(5), "the deleted credential was still in use");
            var used = new[] { await AskAsync(cluster, replicas.All[0]), await AskAsync(cluster, replicas.All[1]) };
            quietRounds = used.Contains(First) ? 0 : quietRounds + 1;
        }

        for (var i = 0; i < 6; i++)
        {
            Assert.Equal(Added, await AskAsync(cluster, replicas.All[i % 2]));
        }
    }

    [Fact]
    public async Task A_credential_the_upstream_rejects_shows_as_disabled_with_its_reason_and_stays_so_after_a_restart()
    {
        var storage = new Dictionary<string, string>
        {
            ["STORAGE_TYPE"] = "sqlite",
            ["SQLITE_PATH"] = Path.Combine(Path.GetTempPath(), "flowith2api-sqlite-" + Guid.NewGuid().ToString("N"), "flowith.db"),
        };
        var options = new GatewayClusterOptions { FlowithTokens = $"{First},{Added}", AdminSettings = storage, Redis = _redis.Redis.ConnectionString };

        await using (var cluster = await GatewayCluster.StartAsync(options))
        {
            cluster.Fake.Scenarios.SetForToken(First, FakeScenario.Parse("status=401"));
            using var user = cluster.CreateClient();
            (await user.PostAsync("/v1/chat/completions", Json("""{"messages":[{"role":"user","content":"hi"}]}"""))).Dispose();

            using var admin = cluster.CreateClient(GatewayCluster.AdminKeyValue);
            var clock = Stopwatch.StartNew();
            while (!(await admin.GetStringAsync("/v1/admin/tokens")).Contains("\"state\":\"disabled\"", StringComparison.Ordinal))
            {
                Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), "the rejection was never recorded");
                await Task.Delay(50);
            }
        }

        await using (var restarted = await GatewayCluster.StartAsync(options with { Redis = null }))
        {
            using var admin = restarted.CreateClient(GatewayCluster.AdminKeyValue);
            var tokens = JsonDocument.Parse(await admin.GetStringAsync("/v1/admin/tokens")).RootElement.GetProperty("tokens");
            var first = tokens.EnumerateArray().Single(t => t.GetProperty("token").GetString() == "flo…t_01");
            Assert.Equal("disabled", first.GetProperty("state").GetString());
            Assert.Contains("401", first.GetProperty("reason").GetString(), StringComparison.Ordinal);
            Assert.DoesNotContain(First, first.GetRawText(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Use_and_failure_counts_last_use_and_last_error_are_persisted_in_batches()
    {
        await using var cluster = await GatewayCluster.StartAsync(new GatewayClusterOptions { FlowithTokens = First, Redis = _redis.Redis.ConnectionString });
        using var user = cluster.CreateClient();
        for (var i = 0; i < 3; i++)
        {
            (await user.PostAsync("/v1/chat/completions", Json("""{"messages":[{"role":"user","content":"hi"}]}"""))).Dispose();
        }

        (await user.PostAsync("/v1/chat/completions", Json("""{"messages":[{"role":"user","content":"[[fake:status=400]] x"}]}"""))).Dispose();

        using var admin = cluster.CreateClient(GatewayCluster.AdminKeyValue);
        var clock = Stopwatch.StartNew();
        JsonElement token;
        do
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(15), "the counts never arrived");
            await Task.Delay(200);
            token = JsonDocument.Parse(await admin.GetStringAsync("/v1/admin/tokens")).RootElement.GetProperty("tokens")[0];
        }
        while (token.GetProperty("use_count").GetInt64() < 4);

        Assert.Equal(4, token.GetProperty("use_count").GetInt64());
        Assert.Equal(1, token.GetProperty("failure_count").GetInt64());
        Assert.Equal(JsonValueKind.String, token.GetProperty("last_used").ValueKind);
        Assert.Contains("400", token.GetProperty("last_error").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_rate_limited_credential_shows_as_cooling_until_its_retry_after()
    {
        await using var cluster = await GatewayCluster.StartAsync(new GatewayClusterOptions { FlowithTokens = $"{First},{Added}", Redis = _redis.Redis.ConnectionString });
        cluster.Fake.Scenarios.SetForToken(First, FakeScenario.Parse("status=429;retry-after=30"));
        using var user = cluster.CreateClient();
        (await user.PostAsync("/v1/chat/completions", Json("""{"messages":[{"role":"user","content":"hi"}]}"""))).Dispose();

        using var admin = cluster.CreateClient(GatewayCluster.AdminKeyValue);
        var tokens = JsonDocument.Parse(await admin.GetStringAsync("/v1/admin/tokens")).RootElement.GetProperty("tokens");
        var first = tokens.EnumerateArray().Single(t => t.GetProperty("token").GetString() == "flo…t_01");
        Assert.Equal("cooling", first.GetProperty("state").GetString());
        Assert.Contains("429", first.GetProperty("reason").GetString(), StringComparison.Ordinal);
        Assert.InRange(first.GetProperty("cooling_until").GetDateTimeOffset(), DateTimeOffset.UtcNow.AddSeconds(20), DateTimeOffset.UtcNow.AddSeconds(31));
        Assert.Equal("enabled", tokens.EnumerateArray().Single(t => t.GetProperty("token").GetString() != "flo…t_01").GetProperty("state").GetString());
    }

    private sealed class ReplicaClients(GatewayCluster cluster) : IDisposable
    {
        public IReadOnlyList<HttpClient> All { get; } = [cluster.CreateReplicaClient(0), cluster.CreateReplicaClient(1)];

        public void Dispose()
        {
            foreach (var client in All)
            {
                client.Dispose();
            }
        }
    }
}
