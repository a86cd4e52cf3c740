using System.Net;
using System.Text;
using Flowith2Api.FakeFlowith;
using Flowith2Api.Tests.Infrastructure;

namespace Flowith2Api.Tests.Anthropic;

/// <summary>Anthropic-dialect behaviour that needs its own settings: keep-alives, upstream failures, the switch.</summary>
public sealed class AnthropicBehaviourTests
{
    private const string Token = "flo_anthropic_behaviour_credential";

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private static HttpClient Client(GatewayCluster cluster)
    {
        var http = cluster.CreateClient(apiKey: null);
        http.DefaultRequestHeaders.Add("x-api-key", GatewayCluster.UserKey);
        return http;
    }

    private const string Ask = """{"model":"claude-sonnet-4","max_tokens":100,"stream":STREAM,"messages":[{"role":"user","content":"hi"}]}""";

    [Fact]
    public async Task A_slow_upstream_start_commits_the_stream_and_sends_pings_until_the_answer_comes()
    {
        await using var cluster = await GatewayCluster.StartAsync(new GatewayClusterOptions
        {
            FlowithTokens = Token,
            ChatSettings = new Dictionary<string, string> { ["STREAM_KEEPALIVE_MS"] = "150" },
        });
        cluster.Fake.Scenarios.SetForToken(Token, FakeScenario.Parse("latency=800;text=Worth%20the%20wait."));
        using var http = Client(cluster);

        using var response = await http.PostAsync("/v1/messages", Json(Ask.Replace("STREAM", "true", StringComparison.Ordinal)));
        var events = await AnthropicWireTests.EventsAsync(response);

        Assert.Equal("message_start", events[0].Event);
        Assert.True(events.TakeWhile(e => e.Event != "content_block_start").Count(e => e.Event == "ping") >= 2);
        Assert.Equal("Worth the wait.", string.Concat(events.Where(e => e.Event == "content_block_delta")
            .Select(e => e.Data.GetProperty("delta").GetProperty("text").GetString())));
        Assert.Equal("message_stop", events[^1].Event);
    }

    [Fact]
    public async Task A_failure_after_the_stream_was_committed_is_an_error_event()
    {
        await using var cluster = await GatewayCluster.StartAsync(new GatewayClusterOptions
        {
            FlowithTokens = Token,
            ChatSettings = new Dictionary<string, string> { ["STREAM_KEEPALIVE_MS"] = "150" },
        });
        cluster.Fake.Scenarios.SetForToken(Token, FakeScenario.Parse("latency=500;status=401"));
        using var http = Client(cluster);

        using var response = await http.PostAsync("/v1/messages", Json(Ask.Replace("STREAM", "true", StringComparison.Ordinal)));
        var events = await AnthropicWireTests.EventsAsync(response);

        Assert.Equal("message_start", events[0].Event);
        var error = events[^1];
        Assert.Equal("error", error.Event);
        Assert.Equal("overloaded_error", error.Data.GetProperty("error").GetProperty("type").GetString());
    }

    [Theory]
    [InlineData("status=401", "false", 529, "overloaded_error")]
    [InlineData("status=401", "true", 529, "overloaded_error")]
    [InlineData("status=429;retry-after=9", "true", 529, "overloaded_error")]
    [InlineData("status=500", "false", 502, "api_error")]
    [InlineData("status=500", "true", 502, "api_error")]
    public async Task Upstream_failures_before_the_first_byte_use_anthropics_envelope(string scenario, string stream, int status, string type)
    {
        await using var cluster = await GatewayCluster.StartAsync(new GatewayClusterOptions { FlowithTokens = Token });
        cluster.Fake.Scenarios.SetForToken(Token, FakeScenario.Parse(scenario));
        using var http = Client(cluster);
        using var response = await http.PostAsync("/v1/messages", Json(Ask.Replace("STREAM", stream, StringComparison.Ordinal)));
        await ErrorEnvelope.AssertAnthropicAsync(response, (HttpStatusCode)status, type);
    }

    [Fact]
    public async Task With_the_claude_api_turned_off_messages_are_a_404()
    {
        await using var cluster = await GatewayCluster.StartAsync(new GatewayClusterOptions
        {
            ChatSettings = new Dictionary<string, string> { ["ENABLE_CLAUDE_API"] = "false" },
        });
        using var http = Client(cluster);
        using var response = await http.PostAsync("/v1/messages", Json(Ask.Replace("STREAM", "false", StringComparison.Ordinal)));
        var error = await ErrorEnvelope.AssertAnthropicAsync(response, HttpStatusCode.NotFound, "not_found_error");
        Assert.Contains("ENABLE_CLAUDE_API", error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }
}
