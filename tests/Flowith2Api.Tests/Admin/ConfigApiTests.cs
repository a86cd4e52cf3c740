using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using Flowith2Api.FakeFlowith;
using Flowith2Api.Tests.Infrastructure;

namespace Flowith2Api.Tests.Admin;

/// <summary>Runtime settings: listed, validated, persisted, and applied on every replica within a second.</summary>
public abstract class ConfigApiTests(Sessions.RedisFixture redisFixture)
{
    /// <summary>Settings that point the AdminService at this storage (a fresh database for each call).</summary>
    protected abstract Task<Dictionary<string, string>> StorageAsync();

    private const string Token = "flo_config_credential_01";

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private static async Task<JsonElement> SettingAsync(HttpClient admin, string key) =>
        JsonDocument.Parse(await admin.GetStringAsync("/v1/admin/config")).RootElement.GetProperty("settings")
            .EnumerateArray().Single(s => s.GetProperty("key").GetString() == key);

    [Fact]
    public async Task Settings_are_listed_with_value_default_and_description_for_the_admin_only()
    {
        await using var cluster = await GatewayCluster.StartAsync(new GatewayClusterOptions { AdminSettings = await StorageAsync() });
        using var admin = cluster.CreateClient(GatewayCluster.AdminKeyValue);
        var retryMax = await SettingAsync(admin, "retryMax");
        Assert.Equal(3, retryMax.GetProperty("value").GetInt32());
        Assert.Equal(3, retryMax.GetProperty("default").GetInt32());
        Assert.Equal("UPSTREAM_RETRY_MAX", retryMax.GetProperty("env").GetString());
        Assert.False(retryMax.GetProperty("overridden").GetBoolean());
        Assert.False(string.IsNullOrEmpty(retryMax.GetProperty("description").GetString()));

        using var user = cluster.CreateClient();
        Assert.Equal(HttpStatusCode.Forbidden, (await user.GetAsync("/v1/admin/config")).StatusCode);
        using var patch = await user.PatchAsync("/v1/admin/config", Json("""{"retryMax":1}"""));
        Assert.Equal(HttpStatusCode.Forbidden, patch.StatusCode);
    }

    [Theory]
    [InlineData("""{"retryMax":1,"noSuchSetting":true}""", "noSuchSetting")]
    [InlineData("""{"retryMax":"five"}""", "retryMax")]
    [InlineData("""{"retryMax":99}""", "retryMax")]
    [InlineData("""{"enableMCP":"yes"}""", "enableMCP")]
    [InlineData("""{"logLevel":"loud"}""", "logLevel")]
    [InlineData("""not json""", "JSON")]
    [InlineData("""{}""", "at least one")]
    public async Task A_bad_patch_is_a_400_naming_the_problem_and_applies_nothing(string body, string named)
    {
        await using var cluster = await GatewayCluster.StartAsync(new GatewayClusterOptions { AdminSettings = await StorageAsync() });
        using var admin = cluster.CreateClient(GatewayCluster.AdminKeyValue);

        using var response = await admin.PatchAsync("/v1/admin/config", Json(body));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(named, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.False((await SettingAsync(admin, "retryMax")).GetProperty("overridden").GetBoolean());
    }

    [Fact]
    public async Task Patching_retry_max_to_zero_changes_behaviour_on_every_replica_within_a_second()
    {
        await using var cluster = await GatewayCluster.StartAsync(new GatewayClusterOptions
        {
            AdminSettings = await StorageAsync(),
            FlowithTokens = Token,
            Redis = redisFixture.Redis.ConnectionString,
            ChatReplicas = 2,
        });
        using var admin = cluster.CreateClient(GatewayCluster.AdminKeyValue);
        using var first = cluster.CreateReplicaClient(0);
        using var second = cluster.CreateReplicaClient(1);

        // One failure, then success: with retries the client never notices.
        Assert.Equal(HttpStatusCode.OK, await AskAfterOneFailureAsync(cluster, first));
        Assert.Equal(HttpStatusCode.OK, await AskAfterOneFailureAsync(cluster, second));

        using (var patch = await admin.PatchAsync("/v1/admin/config", Json("""{"retryMax":0}""")))
        {
            Assert.Equal(HttpStatusCode.OK, patch.StatusCode);
        }

        foreach (var replica in new[] { first, second })
        {
            var clock = Stopwatch.StartNew();
            while (await AskAfterOneFailureAsync(cluster, replica) != HttpStatusCode.BadGateway)
            {
                Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1.5), "the new setting did not reach a replica within a second");
            }
        }

        var retryMax = await SettingAsync(admin, "retryMax");
        Assert.Equal(0, retryMax.GetProperty("value").GetInt32());
        Assert.True(retryMax.GetProperty("overridden").GetBoolean());
    }

    [Fact]
    public async Task Turning_the_tools_off_reaches_the_tool_service_within_a_second()
    {
        await using var cluster = await GatewayCluster.StartAsync(new GatewayClusterOptions
        {
            AdminSettings = await StorageAsync(),
            Redis = redisFixture.Redis.ConnectionString,
        });
        using var admin = cluster.CreateClient(GatewayCluster.AdminKeyValue);
        async Task<HttpStatusCode> RunAsync()
        {
            using var response = await admin.PostAsync("/v1/admin/tools/execute", Json("""{"tool":"web_search","arguments":{"query":"x"}}"""));
            return response.StatusCode;
        }

        Assert.Equal(HttpStatusCode.OK, await RunAsync());
        using (var patch = await admin.PatchAsync("/v1/admin/config", Json("""{"enableMCP":false}""")))
        {
            Assert.Equal(HttpStatusCode.OK, patch.StatusCode);
        }

        var clock = Stopwatch.StartNew();
        while (await RunAsync() != HttpStatusCode.Forbidden)
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1.5), "the tool service never turned the tools off");
        }
    }

    private static async Task<HttpStatusCode> AskAfterOneFailureAsync(GatewayCluster cluster, HttpClient replica)
    {
        cluster.Fake.Scenarios.ClearToken(Token);
        cluster.Fake.Scenarios.Enqueue(Token, FakeScenario.Parse("status=500"), FakeScenario.Parse("text=recovered"));
        using var response = await replica.PostAsync("/v1/chat/completions", Json("""{"messages":[{"role":"user","content":"hi"}]}"""));
        return response.StatusCode;
    }
}

public sealed class SqliteConfigApiTests(Sessions.RedisFixture redis) : ConfigApiTests(redis), IClassFixture<Sessions.RedisFixture>
{
    protected override Task<Dictionary<string, string>> StorageAsync() => Task.FromResult(new Dictionary<string, string>
    {
        ["STORAGE_TYPE"] = "sqlite",
        ["SQLITE_PATH"] = Path.Combine(Path.GetTempPath(), "flowith2api-sqlite-" + Guid.NewGuid().ToString("N"), "flowith.db"),
    });
}

public sealed class PostgresConfigApiTests(Sessions.RedisFixture redis, PostgresFixture postgres) : ConfigApiTests(redis), IClassFixture<Sessions.RedisFixture>, IClassFixture<PostgresFixture>
{
    protected override async Task<Dictionary<string, string>> StorageAsync() =>
        new() { ["STORAGE_TYPE"] = "postgres", ["ConnectionStrings:admindb"] = await postgres.Server.CreateDatabaseAsync() };
}
