using System.Net;
using System.Text;
using System.Text.Json;
using Flowith2Api.Tests.Infrastructure;

namespace Flowith2Api.Tests.Admin;

/// <summary>One real PostgreSQL for the admin tests.</summary>
public sealed class PostgresFixture : IAsyncLifetime
{
    public PostgresServer Server { get; private set; } = null!;

    public async Task InitializeAsync() => Server = await PostgresServer.StartAsync();

    public async Task DisposeAsync() => await Server.DisposeAsync();
}

/// <summary>The credentials admin API; the same tests run on PostgreSQL and on SQLite.</summary>
public abstract class CredentialsApiTests
{
    protected const string Seeded = "flo_seeded_credential_0001";

    /// <summary>Settings that point the AdminService at this storage (a fresh database for each call).</summary>
    protected abstract Task<Dictionary<string, string>> StorageAsync();

    private async Task<GatewayCluster> StartAsync(Dictionary<string, string>? storage = null, string tokens = Seeded, string? redis = null) =>
        await GatewayCluster.StartAsync(new GatewayClusterOptions
        {
            FlowithTokens = tokens,
            AdminSettings = storage ?? await StorageAsync(),
            Redis = redis,
        });

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private static async Task<JsonElement> ListAsync(HttpClient admin) =>
        JsonDocument.Parse(await admin.GetStringAsync("/v1/admin/tokens")).RootElement;

    private static Task<HttpResponseMessage> SendAsync(HttpClient client, HttpMethod method, string path, string? body = null) =>
        client.SendAsync(new HttpRequestMessage(method, path) { Content = body is null ? null : Json(body) });

    [Fact]
    public async Task Seeded_credentials_are_listed_masked_and_exported_in_full()
    {
        await using var cluster = await StartAsync();
        using var admin = cluster.CreateClient(GatewayCluster.AdminKeyValue);

        var list = await ListAsync(admin);
        Assert.Equal(1, list.GetProperty("total").GetInt32());
        var token = list.GetProperty("tokens")[0];
        Assert.Equal("flo…0001", token.GetProperty("token").GetString());
        Assert.Equal("enabled", token.GetProperty("state").GetString());
        Assert.DoesNotContain(Seeded, list.GetRawText(), StringComparison.Ordinal);

        using var json = await admin.GetAsync("/v1/admin/tokens/export?format=json");
        Assert.Equal("attachment; filename=\"flowith-tokens.json\"", json.Content.Headers.ContentDisposition?.ToString());
        Assert.Equal(Seeded, JsonDocument.Parse(await json.Content.ReadAsStringAsync()).RootElement.GetProperty("tokens")[0].GetString());

        using var env = await admin.GetAsync("/v1/admin/tokens/export?format=env");
        Assert.Equal($"FLOWITH_AUTH_TOKENS={Seeded}\n", await env.Content.ReadAsStringAsync());
        Assert.Equal("flowith-tokens.env", env.Content.Headers.ContentDisposition?.FileName?.Trim('"'));

        using var text = await admin.GetAsync("/v1/admin/tokens/export?format=text");
        Assert.Equal($"{Seeded}\n", await text.Content.ReadAsStringAsync());

        using var unknown = await admin.GetAsync("/v1/admin/tokens/export?format=xml");
        Assert.Equal(HttpStatusCode.BadRequest, unknown.StatusCode);
    }

    [Fact]
    public async Task Credentials_are_added_idempotently_deleted_batched_and_cleared()
    {
        await using var cluster = await StartAsync();
        using var admin = cluster.CreateClient(GatewayCluster.AdminKeyValue);

        using (var added = await SendAsync(admin, HttpMethod.Post, "/v1/admin/tokens", """{"token":"flo_added_one_000000001","label":"team a"}"""))
        {
            Assert.Equal(HttpStatusCode.Created, added.StatusCode);
        }

        using (var again = await SendAsync(admin, HttpMethod.Post, "/v1/admin/tokens", """{"token":"flo_added_one_000000001"}"""))
        {
            Assert.Equal(HttpStatusCode.OK, again.StatusCode);
            Assert.False(JsonDocument.Parse(await again.Content.ReadAsStringAsync()).RootElement.GetProperty("added").GetBoolean());
        }

        Assert.Equal(2, (await ListAsync(admin)).GetProperty("total").GetInt32());

        using (var deleted = await SendAsync(admin, HttpMethod.Delete, "/v1/admin/tokens", """{"token":"flo_added_one_000000001"}"""))
        {
            Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);
        }

        using (var missing = await SendAsync(admin, HttpMethod.Delete, "/v1/admin/tokens", """{"token":"flo_added_one_000000001"}"""))
        {
            Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        }

        using (var batch = await SendAsync(admin, HttpMethod.Post, "/v1/admin/tokens/batch", """{"tokens":"flo_b1_0000000000001, flo_b2_0000000000002,flo_b3_0000000000003"}"""))
        {
            Assert.Equal(3, JsonDocument.Parse(await batch.Content.ReadAsStringAsync()).RootElement.GetProperty("added").GetInt32());
        }

        using (var batchDelete = await SendAsync(admin, HttpMethod.Delete, "/v1/admin/tokens/batch", """{"tokens":["flo_b1_0000000000001","flo_nope_000000000000"]}"""))
        {
            var result = JsonDocument.Parse(await batchDelete.Content.ReadAsStringAsync()).RootElement;
            Assert.Equal(1, result.GetProperty("deleted").GetInt32());
            Assert.Equal(1, result.GetProperty("missing").GetInt32());
        }

        Assert.Equal(3, (await ListAsync(admin)).GetProperty("total").GetInt32());
        using (var clear = await SendAsync(admin, HttpMethod.Post, "/v1/admin/tokens/clear"))
        {
            Assert.Equal(3, JsonDocument.Parse(await clear.Content.ReadAsStringAsync()).RootElement.GetProperty("cleared").GetInt32());
        }

        Assert.Equal(0, (await ListAsync(admin)).GetProperty("total").GetInt32());
    }

    [Theory]
    [InlineData("POST", "/v1/admin/tokens", """{"token":""}""")]
    [InlineData("POST", "/v1/admin/tokens", """{"token":42}""")]
    [InlineData("POST", "/v1/admin/tokens", """not json""")]
    [InlineData("POST", "/v1/admin/tokens", """["flo_x"]""")]
    [InlineData("DELETE", "/v1/admin/tokens", """{}""")]
    [InlineData("POST", "/v1/admin/tokens/batch", """{"tokens":[]}""")]
    [InlineData("POST", "/v1/admin/tokens/batch", """{"tokens":[1,2]}""")]
    [InlineData("PUT", "/v1/admin/tokens", """{"index":5}""")]
    [InlineData("PUT", "/v1/admin/tokens", """{"index":-1}""")]
    [InlineData("PUT", "/v1/admin/tokens", """{"index":"zero"}""")]
    public async Task Bad_input_is_a_400_and_changes_nothing(string method, string path, string body)
    {
        await using var cluster = await StartAsync();
        using var admin = cluster.CreateClient(GatewayCluster.AdminKeyValue);
        var before = (await ListAsync(admin)).GetRawText();

        using var response = await SendAsync(admin, new HttpMethod(method), path, body);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(before, (await ListAsync(admin)).GetRawText());
    }

    [Theory]
    [InlineData("GET", "/v1/admin/tokens")]
    [InlineData("POST", "/v1/admin/tokens")]
    [InlineData("DELETE", "/v1/admin/tokens")]
    [InlineData("PUT", "/v1/admin/tokens")]
    [InlineData("POST", "/v1/admin/tokens/clear")]
    [InlineData("GET", "/v1/admin/tokens/export?format=json")]
    [InlineData("POST", "/v1/admin/tokens/batch")]
    [InlineData("POST", "/v1/admin/tokens/1/enable")]
    public async Task A_non_admin_key_gets_403_on_every_credentials_route(string method, string path)
    {
        await using var cluster = await StartAsync();
        using var user = cluster.CreateClient();
        using var response = await SendAsync(user, new HttpMethod(method), path, "{}");
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    [Fact]
    public async Task A_deleted_credential_stays_deleted_across_restarts_unless_rsync_makes_the_environment_the_truth()
    {
        var storage = await StorageAsync();
        await using (var first = await StartAsync(storage, tokens: $"{Seeded},flo_other_credential_02"))
        {
            using var admin = first.CreateClient(GatewayCluster.AdminKeyValue);
            using var deleted = await SendAsync(admin, HttpMethod.Delete, "/v1/admin/tokens", $$"""{"token":"{{Seeded}}"}""");
            Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);
        }

        await using (var second = await StartAsync(storage, tokens: $"{Seeded},flo_other_credential_02"))
        {
            using var admin = second.CreateClient(GatewayCluster.AdminKeyValue);
            var list = await ListAsync(admin);
            Assert.Equal(1, list.GetProperty("total").GetInt32());
            Assert.Equal("flo…l_02", list.GetProperty("tokens")[0].GetProperty("token").GetString());
        }

        await using (var third = await StartAsync(new(storage) { ["RSYNC"] = "1" }, tokens: Seeded))
        {
            using var admin = third.CreateClient(GatewayCluster.AdminKeyValue);
            var list = await ListAsync(admin);
            Assert.Equal(1, list.GetProperty("total").GetInt32());
            Assert.Equal("flo…0001", list.GetProperty("tokens")[0].GetProperty("token").GetString());
        }
    }

    [Fact]
    public async Task Resetting_the_rotation_index_moves_the_shared_cursor()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var cluster = await StartAsync(tokens: "flo_rotation_a_0000001,flo_rotation_b_0000002,flo_rotation_c_0000003", redis: redis.ConnectionString);
        using var admin = cluster.CreateClient(GatewayCluster.AdminKeyValue);
        using var user = cluster.CreateClient();

        using (var reset = await SendAsync(admin, HttpMethod.Put, "/v1/admin/tokens", """{"index":2}"""))
        {
            Assert.Equal(HttpStatusCode.OK, reset.StatusCode);
        }

        using (await user.PostAsync("/v1/chat/completions", Json("""{"messages":[{"role":"user","content":"hi"}]}""")))
        {
        }

        Assert.Equal("flo_rotation_c_0000003", cluster.UpstreamTokens().Single());
    }

    [Fact]
    public async Task An_admin_disables_enables_and_deletes_a_credential_by_id()
    {
        await using var cluster = await StartAsync(tokens: Seeded + ",flo_second_credential_0002");
        using var admin = cluster.CreateClient(GatewayCluster.AdminKeyValue);
        var second = (await ListAsync(admin)).GetProperty("tokens").EnumerateArray().Single(t => t.GetProperty("token").GetString() == "flo…0002");
        var id = second.GetProperty("id").GetInt64();

        using (var disabled = await SendAsync(admin, HttpMethod.Post, $"/v1/admin/tokens/{id}/disable"))
        {
            Assert.Equal(HttpStatusCode.OK, disabled.StatusCode);
        }

        var listed = (await ListAsync(admin)).GetProperty("tokens").EnumerateArray().Single(t => t.GetProperty("id").GetInt64() == id);
        Assert.Equal("disabled", listed.GetProperty("state").GetString());
        Assert.Equal("Disabled by an admin.", listed.GetProperty("reason").GetString());
        Assert.True(listed.GetProperty("admin_disabled").GetBoolean());
        using (var internalList = cluster.CreateReplicaClient(0))
        {
            // What the pool reads: the disabled credential is not in it (so no replica uses it and the probe cannot revive it).
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(cluster.AdminServiceUri, "/internal/credentials"));
            request.Headers.Add("x-flowith2api-internal", GatewayCluster.InternalSecret);
            using var response = await internalList.SendAsync(request);
            var text = await response.Content.ReadAsStringAsync();
            Assert.Contains(Seeded, text, StringComparison.Ordinal);
            Assert.DoesNotContain("flo_second_credential_0002", text, StringComparison.Ordinal);
        }

        using (var enabled = await SendAsync(admin, HttpMethod.Post, $"/v1/admin/tokens/{id}/enable"))
        {
            Assert.Equal(HttpStatusCode.OK, enabled.StatusCode);
        }

        listed = (await ListAsync(admin)).GetProperty("tokens").EnumerateArray().Single(t => t.GetProperty("id").GetInt64() == id);
        Assert.Equal("enabled", listed.GetProperty("state").GetString());
        Assert.False(listed.GetProperty("admin_disabled").GetBoolean());

        using (var deleted = await SendAsync(admin, HttpMethod.Delete, $"/v1/admin/tokens/{id}"))
        {
            Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);
        }

        Assert.Equal(1, (await ListAsync(admin)).GetProperty("total").GetInt32());
        foreach (var path in new[] { $"/v1/admin/tokens/{id}/disable", $"/v1/admin/tokens/{id}/enable" })
        {
            using var missing = await SendAsync(admin, HttpMethod.Post, path);
            Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        }

        using var gone = await SendAsync(admin, HttpMethod.Delete, $"/v1/admin/tokens/{id}");
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
    }
}

public sealed class SqliteCredentialsApiTests : CredentialsApiTests
{
    protected override Task<Dictionary<string, string>> StorageAsync()
    {
        var path = Path.Combine(Path.GetTempPath(), "flowith2api-sqlite-" + Guid.NewGuid().ToString("N"), "flowith.db");
        return Task.FromResult(new Dictionary<string, string> { ["STORAGE_TYPE"] = "sqlite", ["SQLITE_PATH"] = path });
    }
}

public sealed class PostgresCredentialsApiTests(PostgresFixture fixture) : CredentialsApiTests, IClassFixture<PostgresFixture>
{
    protected override async Task<Dictionary<string, string>> StorageAsync() =>
        new() { ["STORAGE_TYPE"] = "postgres", ["ConnectionStrings:admindb"] = await fixture.Server.CreateDatabaseAsync() };
}
