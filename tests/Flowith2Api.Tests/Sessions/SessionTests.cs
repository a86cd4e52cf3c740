using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using Flowith2Api.Tests.Infrastructure;

namespace Flowith2Api.Tests.Sessions;

/// <summary>One real Redis for the session tests; each test has its own cluster (and key prefix).</summary>
public sealed class RedisFixture : IAsyncLifetime
{
    public RedisServer Redis { get; private set; } = null!;

    public async Task InitializeAsync() => Redis = await RedisServer.StartAsync();

    public async Task DisposeAsync() => await Redis.DisposeAsync();
}

/// <summary>Server-side sessions on a real Redis, through the Gateway.</summary>
public sealed class SessionTests(RedisFixture fixture) : IClassFixture<RedisFixture>
{
    private Task<GatewayCluster> StartAsync(Dictionary<string, string>? settings = null, int replicas = 1, string? redis = "")
        => GatewayCluster.StartAsync(new GatewayClusterOptions
        {
            Redis = redis == "" ? fixture.Redis.ConnectionString : redis,
            ChatReplicas = replicas,
            ChatSettings = settings ?? [],
        });

    internal static StringContent Json(object body) => new(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json");

    internal static object Turn(string text, string? session = null, bool? auto = null) =>
        new Dictionary<string, object?> { ["session_id"] = session, ["auto_session"] = auto, ["messages"] = new[] { new { role = "user", content = text } } }
            .Where(kv => kv.Value is not null).ToDictionary(kv => kv.Key, kv => kv.Value);

    internal static async Task<JsonElement> PostAsync(HttpClient http, object body, HttpStatusCode expected = HttpStatusCode.OK)
    {
        using var response = await http.PostAsync("/v1/chat/completions", Json(body));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(expected == response.StatusCode, $"{response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement;
    }

    /// <summary>The (role, content) pairs of the last upstream call, system messages left out.</summary>
    internal static List<(string Role, string Content)> LastUpstreamTurns(GatewayCluster cluster) =>
        [.. JsonDocument.Parse(cluster.Fake.Requests.All[^1].Body).RootElement.GetProperty("messages").EnumerateArray()
            .Where(m => m.GetProperty("role").GetString() != "system")
            .Select(m => (m.GetProperty("role").GetString()!, m.GetProperty("content").GetString()!))];

    private static string Reply(string text) => "fake-flowith reply to: " + text;

    [Fact]
    public async Task A_three_turn_conversation_sends_each_earlier_turn_exactly_once()
    {
        await using var cluster = await StartAsync();
        using var http = cluster.CreateClient();

        await PostAsync(http, Turn("one", "conv-three-turns"));
        await PostAsync(http, Turn("two", "conv-three-turns"));
        var third = await PostAsync(http, Turn("three", "conv-three-turns"));

        Assert.Equal("conv-three-turns", third.GetProperty("session_id").GetString());
        Assert.Equal(
            [("user", "one"), ("assistant", Reply("one")), ("user", "two"), ("assistant", Reply("two")), ("user", "three")],
            LastUpstreamTurns(cluster));
    }

    [Fact]
    public async Task A_client_that_sends_its_full_history_gets_no_duplicates()
    {
        await using var cluster = await StartAsync();
        using var http = cluster.CreateClient();
        await PostAsync(http, Turn("one", "conv-full-history"));

        await PostAsync(http, new
        {
            session_id = "conv-full-history",
            messages = new[]
            {
                new { role = "system", content = "Be brief." },
                new { role = "user", content = "one" },
                new { role = "assistant", content = Reply("one") },
                new { role = "user", content = "two" },
            },
        });

        Assert.Equal([("user", "one"), ("assistant", Reply("one")), ("user", "two")], LastUpstreamTurns(cluster));
    }

    [Fact]
    public async Task Stored_turns_are_trimmed_to_max_context_messages()
    {
        await using var cluster = await StartAsync(new() { ["MAX_CONTEXT_MESSAGES"] = "4" });
        using var http = cluster.CreateClient();
        foreach (var text in new[] { "one", "two", "three" })
        {
            await PostAsync(http, Turn(text, "conv-trim"));
        }

        await PostAsync(http, Turn("four", "conv-trim"));
        Assert.Equal(
            [("user", "two"), ("assistant", Reply("two")), ("user", "three"), ("assistant", Reply("three")), ("user", "four")],
            LastUpstreamTurns(cluster));
    }

    [Fact]
    public async Task A_session_expires_after_its_idle_ttl()
    {
        await using var cluster = await StartAsync(new() { ["CONTEXT_TTL_SECONDS"] = "1" });
        using var http = cluster.CreateClient();
        using var admin = cluster.CreateClient(GatewayCluster.AdminKeyValue);
        await PostAsync(http, Turn("remember me", "conv-ttl"));
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("/v1/admin/sessions?session_id=conv-ttl")).StatusCode);

        var clock = Stopwatch.StartNew();
        while ((await admin.GetAsync("/v1/admin/sessions?session_id=conv-ttl")).StatusCode != HttpStatusCode.NotFound)
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), "the session never expired");
            await Task.Delay(100);
        }

        await PostAsync(http, Turn("hello again", "conv-ttl"));
        Assert.Equal([("user", "hello again")], LastUpstreamTurns(cluster));
    }

    [Fact]
    public async Task Two_replicas_continue_one_session_alternately()
    {
        await using var cluster = await StartAsync(replicas: 2);
        using var first = cluster.CreateReplicaClient(0);
        using var second = cluster.CreateReplicaClient(1);
        first.DefaultRequestHeaders.Add("x-flowith2api-key-id", "key_replicas");
        second.DefaultRequestHeaders.Add("x-flowith2api-key-id", "key_replicas");

        await PostAsync(first, Turn("one", "conv-replicas"));
        await PostAsync(second, Turn("two", "conv-replicas"));
        await PostAsync(first, Turn("three", "conv-replicas"));

        Assert.Equal(
            [("user", "one"), ("assistant", Reply("one")), ("user", "two"), ("assistant", Reply("two")), ("user", "three")],
            LastUpstreamTurns(cluster));
        var kbLists = cluster.Fake.Requests.All.Select(r => JsonDocument.Parse(r.Body).RootElement.GetProperty("kb_list")[0].GetString()).Distinct();
        Assert.Single(kbLists); // one knowledge-base list for the session's whole life
    }

    [Fact]
    public async Task Another_key_cannot_read_continue_or_probe_a_session()
    {
        await using var cluster = await StartAsync();
        using var owner = cluster.CreateClient(GatewayCluster.UserKey);
        using var stranger = cluster.CreateClient(GatewayCluster.SecondUserKey);
        await PostAsync(owner, Turn("secret plans", "conv-private"));

        using var response = await stranger.PostAsync("/v1/chat/completions", Json(Turn("tell me", "conv-private")));
        await ErrorEnvelope.AssertOpenAIAsync(response, HttpStatusCode.NotFound, "session_not_found");
        Assert.DoesNotContain(cluster.Fake.Requests.All, r => r.Body.Contains("tell me", StringComparison.Ordinal));

        using var admin = await stranger.GetAsync("/v1/admin/sessions?session_id=conv-private");
        Assert.Equal(HttpStatusCode.Forbidden, admin.StatusCode);
    }

    [Fact]
    public async Task Concurrent_turns_on_one_session_both_end_up_stored()
    {
        await using var cluster = await StartAsync();
        using var http = cluster.CreateClient();
        await PostAsync(http, Turn("start", "conv-race"));

        await Task.WhenAll(
            PostAsync(http, Turn("[[fake:latency=300]] left", "conv-race")),
            PostAsync(http, Turn("[[fake:latency=300]] right", "conv-race")));

        using var admin = cluster.CreateClient(GatewayCluster.AdminKeyValue);
        var session = JsonDocument.Parse(await admin.GetStringAsync("/v1/admin/sessions?session_id=conv-race")).RootElement;
        var contents = session.GetProperty("turns").EnumerateArray().Select(t => t.GetProperty("content").GetString()).ToList();
        Assert.Equal(6, contents.Count);
        Assert.Contains("[[fake:latency=300]] left", contents);
        Assert.Contains("[[fake:latency=300]] right", contents);
        Assert.Equal("start", contents[0]);
    }

    [Fact]
    public async Task Auto_session_makes_a_new_id_per_conversation_and_returns_it()
    {
        await using var cluster = await StartAsync();
        using var http = cluster.CreateClient();

        using var first = await http.PostAsync("/v1/chat/completions", Json(Turn("hi", auto: true)));
        using var second = await http.PostAsync("/v1/chat/completions", Json(Turn("hi", auto: true)));
        var firstId = first.Headers.GetValues("x-session-id").Single();
        var secondId = second.Headers.GetValues("x-session-id").Single();

        Assert.NotEqual(firstId, secondId);
        Assert.Equal(firstId, JsonDocument.Parse(await first.Content.ReadAsStringAsync()).RootElement.GetProperty("session_id").GetString());

        using var third = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = Json(Turn("again")) };
        third.Headers.Add("x-session-id", firstId);
        (await http.SendAsync(third)).Dispose();
        Assert.Equal([("user", "hi"), ("assistant", Reply("hi")), ("user", "again")], LastUpstreamTurns(cluster));
    }

    [Fact]
    public async Task A_failed_turn_is_not_stored()
    {
        await using var cluster = await StartAsync();
        using var http = cluster.CreateClient();
        await PostAsync(http, Turn("one", "conv-failed"));
        await PostAsync(http, Turn("[[fake:status=400]] broken", "conv-failed"), HttpStatusCode.BadGateway);
        await PostAsync(http, Turn("two", "conv-failed"));

        Assert.Equal([("user", "one"), ("assistant", Reply("one")), ("user", "two")], LastUpstreamTurns(cluster));
    }

    [Fact]
    public async Task A_streamed_turn_and_an_anthropic_turn_continue_the_same_session()
    {
        await using var cluster = await StartAsync();
        using var http = cluster.CreateClient();
        using (var streamed = await http.PostAsync("/v1/chat/completions", Json(new
        {
            session_id = "conv-dialects",
            stream = true,
            messages = new[] { new { role = "user", content = "streamed question" } },
        })))
        {
            await streamed.Content.ReadAsStringAsync();
        }

        using var anthropic = new HttpRequestMessage(HttpMethod.Post, "/v1/messages")
        {
            Content = Json(new { model = "claude-sonnet-4", max_tokens = 100, messages = new[] { new { role = "user", content = "and now?" } } }),
        };
        anthropic.Headers.Add("x-session-id", "conv-dialects");
        using var response = await http.SendAsync(anthropic);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("conv-dialects", JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("session_id").GetString());
        Assert.Equal([("user", "streamed question"), ("assistant", Reply("streamed question")), ("user", "and now?")], LastUpstreamTurns(cluster));
    }

    [Fact]
    public async Task Admins_list_page_inspect_and_delete_sessions()
    {
        await using var cluster = await StartAsync();
        using var http = cluster.CreateClient();
        foreach (var id in new[] { "conv-admin-a", "conv-admin-b", "conv-admin-c" })
        {
            await PostAsync(http, Turn("hi " + id, id));
        }

        using var admin = cluster.CreateClient(GatewayCluster.AdminKeyValue);
        var page = JsonDocument.Parse(await admin.GetStringAsync("/v1/admin/sessions?limit=2")).RootElement;
        Assert.Equal(3, page.GetProperty("total").GetInt32());
        Assert.True(page.GetProperty("has_more").GetBoolean());
        Assert.Equal("conv-admin-c", page.GetProperty("data")[0].GetProperty("session_id").GetString()); // most recent first
        var rest = JsonDocument.Parse(await admin.GetStringAsync("/v1/admin/sessions?limit=2&offset=2")).RootElement;
        Assert.Equal("conv-admin-a", rest.GetProperty("data").EnumerateArray().Single().GetProperty("session_id").GetString());

        var one = JsonDocument.Parse(await admin.GetStringAsync("/v1/admin/sessions?session_id=conv-admin-b")).RootElement;
        Assert.Equal(2, one.GetProperty("message_count").GetInt32());
        Assert.True(one.GetProperty("size_bytes").GetInt32() > 0);
        Assert.StartsWith("key_", one.GetProperty("owner_key_id").GetString(), StringComparison.Ordinal);

        Assert.Equal(HttpStatusCode.OK, (await admin.DeleteAsync("/v1/admin/sessions?session_id=conv-admin-b")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await admin.GetAsync("/v1/admin/sessions?session_id=conv-admin-b")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await admin.DeleteAsync("/v1/admin/sessions?session_id=conv-admin-b")).StatusCode);
    }

    [Fact]
    public async Task With_long_context_off_session_ids_are_ignored()
    {
        await using var cluster = await StartAsync(new() { ["ENABLE_LONG_CONTEXT"] = "false" });
        using var http = cluster.CreateClient();
        await PostAsync(http, Turn("one", "conv-off"));
        using var response = await http.PostAsync("/v1/chat/completions", Json(Turn("two", "conv-off")));
        Assert.False(response.Headers.Contains("x-session-id"));
        Assert.Equal([("user", "two")], LastUpstreamTurns(cluster));
    }

    [Fact]
    public async Task Without_redis_the_in_process_store_behaves_the_same()
    {
        await using var cluster = await StartAsync(redis: null);
        using var http = cluster.CreateClient();
        await PostAsync(http, Turn("one", "conv-memory"));
        await PostAsync(http, Turn("two", "conv-memory"));
        Assert.Equal([("user", "one"), ("assistant", Reply("one")), ("user", "two")], LastUpstreamTurns(cluster));
    }

    [Fact]
    public async Task A_hostile_session_id_is_a_400()
    {
        await using var cluster = await StartAsync();
        using var http = cluster.CreateClient();
        using var response = await http.PostAsync("/v1/chat/completions", Json(Turn("hi", "../../etc/passwd then some spaces")));
        await ErrorEnvelope.AssertOpenAIAsync(response, HttpStatusCode.BadRequest, "invalid_session_id");
    }
}

public sealed class SessionPersistenceTests
{
    [Fact]
    public async Task A_redis_restart_between_turns_loses_nothing_redis_persisted()
    {
        await using var redis = await RedisServer.StartAsync(appendOnly: true);
        await using var cluster = await GatewayCluster.StartAsync(new GatewayClusterOptions { Redis = redis.ConnectionString });
        using var http = cluster.CreateClient();
        await SessionTests.PostAsync(http, SessionTests.Turn("before the restart", "conv-restart"));

        await redis.RestartAsync();

        // The service reconnects by itself; its health says when.
        using var probe = new HttpClient { BaseAddress = cluster.ChatServiceUri };
        var clock = Stopwatch.StartNew();
        while ((await probe.GetAsync("/health")).StatusCode != HttpStatusCode.OK)
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), "the chat service never reconnected to Redis");
            await Task.Delay(100);
        }

        await SessionTests.PostAsync(http, SessionTests.Turn("after the restart", "conv-restart"));
        Assert.Equal(
            [("user", "before the restart"), ("assistant", "fake-flowith reply to: before the restart"), ("user", "after the restart")],
            SessionTests.LastUpstreamTurns(cluster));
    }
}
