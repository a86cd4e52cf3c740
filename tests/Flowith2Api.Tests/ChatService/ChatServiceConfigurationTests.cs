using System.Net;
using System.Text;
using Flowith2Api.Tests.Infrastructure;

namespace Flowith2Api.Tests.ChatService;

/// <summary>Behaviour that needs its own settings: no credentials, short timeouts.</summary>
public sealed class ChatServiceConfigurationTests
{
    private static StringContent Ask(string prompt, bool stream = false) => new(
        $$"""{"stream":{{(stream ? "true" : "false")}},"messages":[{"role":"user","content":"{{prompt}}"}]}""", Encoding.UTF8, "application/json");

    [Fact]
    public async Task Without_credentials_chat_calls_get_a_clear_503()
    {
        await using var cluster = await GatewayCluster.StartAsync(new GatewayClusterOptions { FlowithTokens = "" });
        using var http = cluster.CreateClient();
        using var response = await http.PostAsync("/v1/chat/completions", Ask("hi"));
        var error = await ErrorEnvelope.AssertOpenAIAsync(response, HttpStatusCode.ServiceUnavailable, "no_upstream_credentials");
        Assert.Contains("No upstream credentials configured", error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_upstream_that_stalls_before_headers_times_out_with_504_in_time()
    {
        await using var cluster = await GatewayCluster.StartAsync(new GatewayClusterOptions
        {
            ChatSettings = new Dictionary<string, string> { ["UPSTREAM_TIMEOUT_MS"] = "700" },
        });
        using var http = cluster.CreateClient();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        using var response = await http.PostAsync("/v1/chat/completions", Ask("[[fake:stall-before-headers=60000]] hi", stream: true));
        await ErrorEnvelope.AssertOpenAIAsync(response, HttpStatusCode.GatewayTimeout, "upstream_timeout");
        Assert.InRange(clock.Elapsed, TimeSpan.FromMilliseconds(600), TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task A_stream_that_stalls_mid_way_is_ended_by_the_idle_timeout_with_an_error_event()
    {
        await using var cluster = await GatewayCluster.StartAsync(new GatewayClusterOptions
        {
            ChatSettings = new Dictionary<string, string> { ["STREAM_IDLE_TIMEOUT_MS"] = "600" },
        });
        using var http = cluster.CreateClient();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        using var response = await http.PostAsync("/v1/chat/completions", Ask("[[fake:text=abcdefghijklmnopqrstuvwxyz;chunk=12;stall-after=1;stall=60000]] hi", stream: true));
        var events = await ChatCompletionsBehaviourTests.SseEvents(response);
        Assert.InRange(clock.Elapsed, TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(10));
        Assert.Equal("[DONE]", events[^1]);
        Assert.Contains("upstream_timeout", events[^2], StringComparison.Ordinal);
    }
}
