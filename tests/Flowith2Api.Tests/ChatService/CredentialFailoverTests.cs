using System.ClientModel;
using System.Diagnostics;
using System.Net;
using System.Text;
using Flowith2Api.FakeFlowith;
using Flowith2Api.Tests.Infrastructure;
using OpenAI.Chat;

namespace Flowith2Api.Tests.ChatService;

/// <summary>
/// The credential pool under each failure class, through the real Gateway and ChatService, with the OpenAI SDK as
/// the client: who gets rotated, disabled or cooled down, and what the client sees.
/// </summary>
public sealed class CredentialFailoverTests
{
    private const string A = "flo_failover_credential_a";
    private const string B = "flo_failover_credential_b";
    private const string C = "flo_failover_credential_c";

    private static Task<GatewayCluster> StartAsync(string tokens = $"{A},{B},{C}", Dictionary<string, string>? settings = null, string? redis = null, int replicas = 1) =>
        GatewayCluster.StartAsync(new GatewayClusterOptions
        {
            FlowithTokens = tokens,
            ChatSettings = settings ?? [],
            Redis = redis,
            ChatReplicas = replicas,
        });

    private static async Task<string> AskAsync(GatewayCluster cluster, string prompt = "hello", bool stream = false)
    {
        var client = cluster.CreateOpenAIChatClient();
        if (!stream)
        {
            ChatCompletion completion = await client.CompleteChatAsync([new UserChatMessage(prompt)]);
            return completion.Content[0].Text;
        }

        var text = new StringBuilder();
        await foreach (var update in client.CompleteChatStreamingAsync([new UserChatMessage(prompt)]))
        {
            foreach (var part in update.ContentUpdate)
            {
                text.Append(part.Text);
            }
        }

        return text.ToString();
    }

    [Theory]
    [InlineData(401, false)]
    [InlineData(402, false)]
    [InlineData(403, true)]
    public async Task A_rejected_credential_is_disabled_and_skipped_while_the_client_never_notices(int status, bool stream)
    {
        await using var cluster = await StartAsync();
        cluster.Fake.Scenarios.SetForToken(A, FakeScenario.Parse($"status={status}"));

        for (var i = 0; i < 6; i++)
        {
            Assert.Equal("fake-flowith reply to: hello", await AskAsync(cluster, stream: stream));
        }

        var tokens = cluster.UpstreamTokens();
        Assert.Equal(1, tokens.Count(t => t == A));
        Assert.Equal(7, tokens.Count);
        Assert.Equal(A, tokens[0]);
        Assert.Equal(B, tokens[1]);
    }

    [Fact]
    public async Task A_rate_limited_credential_cools_down_for_retry_after_and_then_comes_back()
    {
        await using var cluster = await StartAsync();
        cluster.Fake.Scenarios.SetForToken(A, FakeScenario.Parse("status=429;retry-after=2"));

        Assert.Equal("fake-flowith reply to: hello", await AskAsync(cluster));
        cluster.Fake.Scenarios.ClearToken(A);
        for (var i = 0; i < 3; i++)
        {
            await AskAsync(cluster);
        }

        Assert.Equal(1, cluster.UpstreamTokens().Count(t => t == A)); // skipped while cooling

        var clock = Stopwatch.StartNew();
        while (cluster.UpstreamTokens().Count(t => t == A) < 2)
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), "the credential never came back after its cooldown");
            await AskAsync(cluster);
            await Task.Delay(50);
        }
    }

    [Theory]
    [InlineData("status=500")]
    [InlineData("status=502")]
    [InlineData("status=503")]
    [InlineData("reset-after=0")]
    [InlineData("empty=true")]
    [InlineData("empty-body=true")]
    public async Task A_transient_failure_before_the_first_byte_is_retried_on_another_credential(string scenario)
    {
        await using var cluster = await StartAsync();
        cluster.Fake.Scenarios.SetForToken(A, FakeScenario.Parse(scenario));

        Assert.Equal("fake-flowith reply to: hello", await AskAsync(cluster, stream: true));
        Assert.Equal("fake-flowith reply to: hello", await AskAsync(cluster));

        var tokens = cluster.UpstreamTokens();
        Assert.Equal(A, tokens[0]);
        Assert.NotEqual(A, tokens[1]);
    }

    [Fact]
    public async Task When_every_attempt_fails_transiently_the_client_gets_a_clean_502_after_the_configured_retries()
    {
        await using var cluster = await StartAsync(settings: new() { ["UPSTREAM_RETRY_MAX"] = "2" });
        foreach (var token in new[] { A, B, C })
        {
            cluster.Fake.Scenarios.SetForToken(token, FakeScenario.Parse("status=502"));
        }

        using var http = cluster.CreateClient();
        using var response = await http.PostAsync("/v1/chat/completions", Json("""{"messages":[{"role":"user","content":"hi"}]}"""));

        var error = await ErrorEnvelope.AssertOpenAIAsync(response, HttpStatusCode.BadGateway, "upstream_error");
        Assert.Contains("HTML error page", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(3, cluster.UpstreamTokens().Count);
    }

    [Fact]
    public async Task When_every_credential_is_rejected_the_client_gets_503_credentials_exhausted()
    {
        await using var cluster = await StartAsync();
        foreach (var token in new[] { A, B, C })
        {
            cluster.Fake.Scenarios.SetForToken(token, FakeScenario.Parse("status=401"));
        }

        var client = cluster.CreateOpenAIChatClient();
        var error = await Assert.ThrowsAsync<ClientResultException>(() => client.CompleteChatAsync([new UserChatMessage("hi")]));
        Assert.Equal(503, error.Status);
        Assert.Contains("upstream_credentials_exhausted", error.Message, StringComparison.Ordinal);
        Assert.Equal(3, cluster.UpstreamTokens().Count);

        // Nothing is usable now: the next call fails at once, without calling the upstream.
        await Assert.ThrowsAsync<ClientResultException>(() => client.CompleteChatAsync([new UserChatMessage("again")]));
        Assert.Equal(3, cluster.UpstreamTokens().Count);
    }

    [Fact]
    public async Task When_every_credential_is_rate_limited_the_503_says_when_to_retry()
    {
        await using var cluster = await StartAsync();
        foreach (var token in new[] { A, B, C })
        {
            cluster.Fake.Scenarios.SetForToken(token, FakeScenario.Parse("status=429;retry-after=30"));
        }

        using var http = cluster.CreateClient();
        using var response = await http.PostAsync("/v1/chat/completions", Json("""{"messages":[{"role":"user","content":"hi"}]}"""));
        await ErrorEnvelope.AssertOpenAIAsync(response, HttpStatusCode.ServiceUnavailable, "upstream_credentials_exhausted");
        Assert.InRange(response.Headers.RetryAfter?.Delta ?? TimeSpan.Zero, TimeSpan.FromSeconds(25), TimeSpan.FromSeconds(31));
    }

    [Fact]
    public async Task A_real_short_answer_is_not_mistaken_for_an_empty_one()
    {
        await using var cluster = await StartAsync();
        Assert.Equal("Hi!", await AskAsync(cluster, "[[fake:text=Hi!]] hello", stream: true));
        Assert.Single(cluster.UpstreamTokens());
    }

    [Fact]
    public async Task With_retry_on_empty_off_an_empty_stream_is_a_502()
    {
        await using var cluster = await StartAsync(settings: new() { ["SSE_RETRY_ON_EMPTY"] = "false" });
        using var http = cluster.CreateClient();
        using var response = await http.PostAsync("/v1/chat/completions",
            Json("""{"stream":true,"messages":[{"role":"user","content":"[[fake:empty=true]] hi"}]}"""));
        await ErrorEnvelope.AssertOpenAIAsync(response, HttpStatusCode.BadGateway, "upstream_empty_response");
        Assert.Single(cluster.UpstreamTokens());
    }

    [Fact]
    public async Task With_retry_on_timeout_allowed_a_stalled_credential_is_abandoned_for_another()
    {
        await using var cluster = await StartAsync(settings: new() { ["NO_RETRY_ON_TIMEOUT"] = "false", ["UPSTREAM_TIMEOUT_MS"] = "400" });
        cluster.Fake.Scenarios.SetForToken(A, FakeScenario.Parse("stall-before-headers=forever"));

        Assert.Equal("fake-flowith reply to: hello", await AskAsync(cluster, stream: true));
        Assert.Equal([A, B], cluster.UpstreamTokens());
    }

    [Fact]
    public async Task A_client_that_disconnects_mid_stream_cancels_the_upstream_call_at_once()
    {
        await using var cluster = await StartAsync(tokens: A);
        cluster.Fake.Scenarios.SetForToken(A, FakeScenario.Parse("text=abcdefghijklmnopqrstuvwxyz;chunk=5;stall-after=3;stall=forever"));
        using var http = cluster.CreateClient();
        using (var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = Json("""{"stream":true,"messages":[{"role":"user","content":"hi"}]}"""),
        })
        using (var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
            var line = await reader.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(10));
            Assert.StartsWith("data: ", line, StringComparison.Ordinal);
            Assert.Equal(1, cluster.Fake.Requests.InFlight(A));
        }

        var clock = Stopwatch.StartNew();
        while (cluster.Fake.Requests.InFlight(A) > 0)
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), "the upstream call outlived the client");
            await Task.Delay(20);
        }
    }

    [Fact]
    public async Task The_probe_re_enables_a_disabled_credential_once_it_works_again()
    {
        await using var cluster = await StartAsync(tokens: $"{A},{B}", settings: new() { ["CREDENTIAL_PROBE_INTERVAL_SECONDS"] = "1" });
        cluster.Fake.Scenarios.SetForToken(A, FakeScenario.Parse("status=401"));
        await AskAsync(cluster);
        await AskAsync(cluster);
        Assert.Equal(1, cluster.UpstreamTokens().Count(t => t == A));

        cluster.Fake.Scenarios.ClearToken(A);
        var clock = Stopwatch.StartNew();
        while (cluster.UpstreamTokens().Count(t => t == A) < 2)
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(15), "the probe never re-enabled the credential");
            await AskAsync(cluster);
            await Task.Delay(100);
        }

        Assert.Contains(cluster.Fake.Requests.All, r => r.Token == A && r.Path.EndsWith("/models", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Two_replicas_share_one_rotation_and_skip_a_credential_the_other_disabled()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var cluster = await StartAsync(tokens: $"{A},{B}", redis: redis.ConnectionString, replicas: 2);
        using var first = cluster.CreateReplicaClient(0);
        using var second = cluster.CreateReplicaClient(1);

        foreach (var replica in new[] { first, second, first, second })
        {
            using var response = await replica.PostAsync("/v1/chat/completions", Json("""{"messages":[{"role":"user","content":"hi"}]}"""));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        Assert.Equal([A, B, A, B], cluster.UpstreamTokens());

        cluster.Fake.Scenarios.SetForToken(A, FakeScenario.Parse("status=403"));
        using (var response = await first.PostAsync("/v1/chat/completions", Json("""{"messages":[{"role":"user","content":"hi"}]}""")))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        cluster.Fake.Scenarios.ClearToken(A);
        for (var i = 0; i < 4; i++)
        {
            using var response = await second.PostAsync("/v1/chat/completions", Json("""{"messages":[{"role":"user","content":"hi"}]}"""));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        Assert.Equal([A, B, A, B, A, B, B, B, B, B], cluster.UpstreamTokens());
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");
}
