using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using Flowith2Api.Tests.Infrastructure;

namespace Flowith2Api.Tests.Admin;

/// <summary>Named client keys: created, listed, disabled, deleted, rate limited — enforced by the Gateway on every replica.</summary>
public abstract class KeysApiTests(Sessions.RedisFixture redisFixture)
{
    /// <summary>Settings that point the AdminService at this storage (a fresh database for each call).</summary>
    protected abstract Task<Dictionary<string, string>> StorageAsync();

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private static readonly StringContent Chat = Json("""{"messages":[{"role":"user","content":"hi"}]}""");

    private async Task<GatewayCluster> StartAsync(bool redis = true) =>
        await GatewayCluster.StartAsync(new GatewayClusterOptions { Redis = redis ? redisFixture.Redis.ConnectionString : null, AdminSettings = await StorageAsync() });

    private static async Task<HttpStatusCode> PollUntilAsync(Func<Task<HttpStatusCode>> call, HttpStatusCode wanted)
    {
        var clock = Stopwatch.StartNew();
        HttpStatusCode status;
        while ((status = await call()) != wanted && clock.Elapsed < TimeSpan.FromSeconds(3))
        {
            await Task.Delay(50);
        }

        return status;
    }

    private static async Task<HttpStatusCode> ChatAsync(HttpClient client)
    {
        using var response = await client.PostAsync("/v1/chat/completions", Json("""{"messages":[{"role":"user","content":"hi"}]}"""));
        return response.StatusCode;
    }

    [Fact]
    public async Task A_created_key_works_at_once_and_stops_working_when_disabled_or_deleted()
    {
        await using var cluster = await StartAsync();
        using var admin = cluster.CreateClient(GatewayCluster.AdminKeyValue);

        using var created = await admin.PostAsync("/v1/admin/keys", Json("""{"name":"ci bot"}"""));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var body = JsonDocument.Parse(await created.Content.ReadAsStringAsync()).RootElement;
        var key = body.GetProperty("key").GetString()!;
        var id = body.GetProperty("id").GetInt64();
        Assert.StartsWith("sk-f2a-", key, StringComparison.Ordinal);

        using var bot = cluster.CreateClient(key);
        Assert.Equal(HttpStatusCode.OK, await PollUntilAsync(() => ChatAsync(bot), HttpStatusCode.OK));

        var listed = await admin.GetStringAsync("/v1/admin/keys");
        Assert.Contains("ci bot", listed, StringComparison.Ordinal);
        Assert.DoesNotContain(key, listed, StringComparison.Ordinal); // shown once, at creation

        using (var disabled = await admin.PatchAsync($"/v1/admin/keys/{id}", Json("""{"enabled":false}""")))
        {
            Assert.Equal(HttpStatusCode.OK, disabled.StatusCode);
        }

        Assert.Equal(HttpStatusCode.Unauthorized, await PollUntilAsync(() => ChatAsync(bot), HttpStatusCode.Unauthorized));

        using (await admin.PatchAsync($"/v1/admin/keys/{id}", Json("""{"enabled":true}""")))
        {
        }

        Assert.Equal(HttpStatusCode.OK, await PollUntilAsync(() => ChatAsync(bot), HttpStatusCode.OK));
        using (var deleted = await admin.DeleteAsync($"/v1/admin/keys/{id}"))
        {
            Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);
        }

        Assert.Equal(HttpStatusCode.Unauthorized, await PollUntilAsync(() => ChatAsync(bot), HttpStatusCode.Unauthorized));
        Assert.Equal(HttpStatusCode.NotFound, (await admin.DeleteAsync($"/v1/admin/keys/{id}")).StatusCode);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_key_over_its_rate_limit_gets_429_with_retry_after_in_its_dialect(bool redis)
    {
        await using var cluster = await StartAsync(redis);
        using var admin = cluster.CreateClient(GatewayCluster.AdminKeyValue);
        using var created = await admin.PostAsync("/v1/admin/keys", Json("""{"name":"limited","rate_limit_per_minute":2}"""));
        var key = JsonDocument.Parse(await created.Content.ReadAsStringAsync()).RootElement.GetProperty("key").GetString()!;
        using var limited = cluster.CreateClient(key);
        Assert.Equal(HttpStatusCode.OK, await PollUntilAsync(() => ChatAsync(limited), HttpStatusCode.OK));

        // Whatever minute we are in, within a few calls the third in one window is refused (a loaded machine may answer
        // slowly, so the loop may need to span more than one minute window).
        var clock = Stopwatch.StartNew();
        HttpResponseMessage? refused = null;
        while (refused is null && clock.Elapsed < TimeSpan.FromSeconds(70))
        {
            var response = await limited.PostAsync("/v1/chat/completions", Json("""{"messages":[{"role":"user","content":"hi"}]}"""));
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                refused = response;
            }
            else
            {
                response.Dispose();
            }
        }

        Assert.NotNull(refused);
        using (refused)
        {
            await ErrorEnvelope.AssertOpenAIAsync(refused, HttpStatusCode.TooManyRequests, "rate_limit_exceeded");
            Assert.InRange(refused.Headers.RetryAfter?.Delta ?? TimeSpan.Zero, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(60));
        }

        using var anthropic = new HttpRequestMessage(HttpMethod.Post, "/v1/messages")
        {
            Content = Json("""{"model":"claude-sonnet-4","max_tokens":10,"messages":[{"role":"user","content":"hi"}]}"""),
        };
        using var anthropicResponse = await limited.SendAsync(anthropic);
        if (anthropicResponse.StatusCode == HttpStatusCode.TooManyRequests)
        {
            await ErrorEnvelope.AssertAnthropicAsync(anthropicResponse, HttpStatusCode.TooManyRequests, "rate_limit_error");
        }

        // Other keys are not affected.
        using var user = cluster.CreateClient();
        Assert.Equal(HttpStatusCode.OK, await ChatAsync(user));
    }

    [Theory]
    [InlineData("""{"name":""}""")]
    [InlineData("""{"rate_limit_per_minute":5}""")]
    [InlineData("""{"name":"x","rate_limit_per_minute":0}""")]
    [InlineData("""{"name":"x","rate_limit_per_minute":"fast"}""")]
    [InlineData("""nope""")]
    public async Task A_bad_key_request_is_a_400(string body)
    {
        await using var cluster = await StartAsync();
        using var admin = cluster.CreateClient(GatewayCluster.AdminKeyValue);
        using var response = await admin.PostAsync("/v1/admin/keys", Json(body));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task The_environment_decides_which_of_its_keys_is_the_admin_key_at_every_start()
    {
        var storage = await StorageAsync();
        await using (var first = await GatewayCluster.StartAsync(new GatewayClusterOptions
        {
            Redis = redisFixture.Redis.ConnectionString,
            AdminSettings = storage,
            AdminKey = "",
        }))
        {
            using var firstUser = first.CreateClient(GatewayCluster.UserKey); // the first API key is the admin
            Assert.Equal(HttpStatusCode.OK, await PollUntilAsync(async () => (await firstUser.GetAsync("/v1/admin/keys")).StatusCode, HttpStatusCode.OK));
        }

        await using var second = await GatewayCluster.StartAsync(new GatewayClusterOptions
        {
            Redis = redisFixture.Redis.ConnectionString,
            AdminSettings = storage,
            AdminKey = GatewayCluster.SecondUserKey,
        });
        using var now = second.CreateClient(GatewayCluster.SecondUserKey);
        using var before = second.CreateClient(GatewayCluster.UserKey);
        Assert.Equal(HttpStatusCode.OK, await PollUntilAsync(async () => (await now.GetAsync("/v1/admin/keys")).StatusCode, HttpStatusCode.OK));
        Assert.Equal(HttpStatusCode.Forbidden, await PollUntilAsync(async () => (await before.GetAsync("/v1/admin/keys")).StatusCode, HttpStatusCode.Forbidden));
    }

    [Fact]
    public async Task Keys_from_the_environment_are_seeded_and_a_non_admin_key_cannot_manage_keys()
    {
        await using var cluster = await StartAsync();
        using var admin = cluster.CreateClient(GatewayCluster.AdminKeyValue);
        var keys = JsonDocument.Parse(await admin.GetStringAsync("/v1/admin/keys")).RootElement.GetProperty("keys");
        Assert.Equal(3, keys.GetArrayLength()); // two user keys and the admin key
        Assert.Single(keys.EnumerateArray(), k => k.GetProperty("is_admin").GetBoolean());

        using var user = cluster.CreateClient();
        Assert.Equal(HttpStatusCode.Forbidden, (await user.GetAsync("/v1/admin/keys")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await user.PostAsync("/v1/admin/keys", Json("""{"name":"sneaky","is_admin":true}"""))).StatusCode);
    }
}

public sealed class SqliteKeysApiTests(Sessions.RedisFixture redis) : KeysApiTests(redis), IClassFixture<Sessions.RedisFixture>
{
    protected override Task<Dictionary<string, string>> StorageAsync() => Task.FromResult(new Dictionary<string, string>
    {
        ["STORAGE_TYPE"] = "sqlite",
        ["SQLITE_PATH"] = Path.Combine(Path.GetTempPath(), "flowith2api-sqlite-" + Guid.NewGuid().ToString("N"), "flowith.db"),
    });
}

public sealed class PostgresKeysApiTests(Sessions.RedisFixture redis, PostgresFixture postgres) : KeysApiTests(redis), IClassFixture<Sessions.RedisFixture>, IClassFixture<PostgresFixture>
{
    protected override async Task<Dictionary<string, string>> StorageAsync() =>
        new() { ["STORAGE_TYPE"] = "postgres", ["ConnectionStrings:admindb"] = await postgres.Server.CreateDatabaseAsync() };
}
