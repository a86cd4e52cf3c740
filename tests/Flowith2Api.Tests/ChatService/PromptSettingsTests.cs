using System.Text;
using System.Text.Json;
using Flowith2Api.Tests.Infrastructure;

namespace Flowith2Api.Tests.ChatService;

/// <summary>Settings that change what the upstream receives and how: system prompts, model aliases, the proxy.</summary>
public sealed class PromptSettingsTests
{
    private static async Task<JsonElement> UpstreamBodyAsync(GatewayCluster cluster, string body)
    {
        using var http = cluster.CreateClient();
        var id = "req-prompt-" + Guid.NewGuid().ToString("N");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Add("x-request-id", id);
        using var response = await http.SendAsync(request);
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        return JsonDocument.Parse((await cluster.Fake.Requests.WaitForAsync(r => r.RequestId == id, TimeSpan.FromSeconds(10))).Body).RootElement;
    }

    [Fact]
    public async Task The_system_prompt_is_prepended_to_the_clients_own()
    {
        await using var cluster = await GatewayCluster.StartAsync(new GatewayClusterOptions
        {
            ChatSettings = new Dictionary<string, string> { ["SYSTEM_PROMPT"] = "Answer like a pirate." },
        });
        var messages = (await UpstreamBodyAsync(cluster, """{"messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"hi"}]}""")).GetProperty("messages");
        Assert.Equal("Answer like a pirate.", messages[0].GetProperty("content").GetString());
        Assert.Equal("Be brief.", messages[1].GetProperty("content").GetString());
    }

    [Fact]
    public async Task With_the_override_the_system_prompt_replaces_the_clients_own()
    {
        await using var cluster = await GatewayCluster.StartAsync(new GatewayClusterOptions
        {
            ChatSettings = new Dictionary<string, string> { ["SYSTEM_PROMPT"] = "Answer like a pirate.", ["ENABLE_SYSTEM_PROMPT_OVERRIDE"] = "true" },
        });
        var messages = (await UpstreamBodyAsync(cluster, """{"messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"hi"}]}""")).GetProperty("messages");
        Assert.Equal(2, messages.GetArrayLength());
        Assert.Equal("Answer like a pirate.", messages[0].GetProperty("content").GetString());
        Assert.Equal("user", messages[1].GetProperty("role").GetString());
    }

    [Fact]
    public async Task Model_aliases_let_agents_use_their_own_model_names()
    {
        await using var cluster = await GatewayCluster.StartAsync(new GatewayClusterOptions
        {
            ChatSettings = new Dictionary<string, string> { ["MODEL_ALIASES"] = "claude-*=claude-sonnet-4,gpt-4o*=gpt-4.1" },
        });
        var upstream = await UpstreamBodyAsync(cluster, """{"model":"claude-3-5-haiku-20241022","messages":[{"role":"user","content":"hi"}]}""");
        Assert.Equal("claude-4-sonnet", upstream.GetProperty("model").GetString());
        var other = await UpstreamBodyAsync(cluster, """{"model":"gpt-4o-2024-08-06","messages":[{"role":"user","content":"hi"}]}""");
        Assert.Equal("gpt-4.1", other.GetProperty("model").GetString());
    }

    [Fact]
    public async Task With_proxy_url_upstream_calls_go_through_the_proxy()
    {
        // The fake accepts absolute-form request targets, so it can stand in for the proxy: the upstream host itself
        // does not exist, and the call only succeeds if it went through PROXY_URL.
        await using var cluster = await GatewayCluster.StartAsync(new GatewayClusterOptions { UpstreamThroughProxy = true });
        var upstream = await UpstreamBodyAsync(cluster, """{"messages":[{"role":"user","content":"through the proxy"}]}""");
        Assert.Equal("through the proxy", upstream.GetProperty("messages")[0].GetProperty("content").GetString());
        var recorded = cluster.Fake.Requests.All.Single();
        Assert.Equal("flowith.invalid", recorded.Header("Host"));
    }
}
