using System.Net;
using System.Text;
using System.Text.Json;
using Flowith2Api.Tests.Infrastructure;

namespace Flowith2Api.Tests.Anthropic;

/// <summary>
/// Replays of the requests Claude Code sends (system blocks, cache_control everywhere, thinking blocks with
/// signatures in the history, tool_use/tool_result, large tool schemas, <c>?beta=true</c>, its own model names).
/// </summary>
public sealed class ClaudeCodeReplayTests
{
    private static async Task<GatewayCluster> StartAsync() => await GatewayCluster.StartAsync(new GatewayClusterOptions
    {
        ChatSettings = new Dictionary<string, string> { ["MODEL_ALIASES"] = "claude-*=claude-sonnet-4" },
    });

    private static HttpRequestMessage Replay(string path, string file)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path)
        {
            Content = new StringContent(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "TestData", file)), Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("x-api-key", GatewayCluster.UserKey);
        request.Headers.Add("anthropic-version", "2023-06-01");
        request.Headers.Add("anthropic-beta", "claude-code-20250219,interleaved-thinking-2025-05-14,fine-grained-tool-streaming-2025-05-14");
        request.Headers.Add("x-app", "cli");
        request.Headers.UserAgent.ParseAdd("claude-cli/2.0.14 (external, cli)");
        return request;
    }

    [Fact]
    public async Task A_recorded_claude_code_turn_is_accepted_and_answered_as_a_stream()
    {
        await using var cluster = await StartAsync();
        using var http = cluster.CreateClient(apiKey: null);

        using var response = await http.SendAsync(Replay("/v1/messages?beta=true", "claude-code-request.json"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var events = await AnthropicWireTests.EventsAsync(response);
        Assert.Equal("message_start", events[0].Event);
        Assert.Equal("claude-sonnet-4-5-20250929", events[0].Data.GetProperty("message").GetProperty("model").GetString());
        Assert.Equal("message_stop", events[^1].Event);

        var upstream = JsonDocument.Parse(cluster.Fake.Requests.All.Single().Body).RootElement;
        Assert.Equal("claude-4-sonnet", upstream.GetProperty("model").GetString());
        var prompt = string.Join("\n", upstream.GetProperty("messages").EnumerateArray().Select(m => m.GetProperty("content").GetString()));
        Assert.Contains("You are Claude Code", prompt, StringComparison.Ordinal);
        Assert.Contains("mcp__big__configure", prompt, StringComparison.Ordinal);
        Assert.Contains("<tool_call name=\"Bash\">", prompt, StringComparison.Ordinal);
        Assert.Contains("<tool_result name=\"Bash\" id=\"toolu_01A09q90qw90lq917835lq9\">", prompt, StringComparison.Ordinal);
        Assert.DoesNotContain("EqQBCkYIBRgCKkDopaque", prompt, StringComparison.Ordinal); // signatures are not sent upstream
    }

    [Fact]
    public async Task Claude_codes_token_count_and_background_haiku_calls_are_accepted()
    {
        await using var cluster = await StartAsync();
        using var http = cluster.CreateClient(apiKey: null);

        using var count = await http.SendAsync(Replay("/v1/messages/count_tokens?beta=true", "claude-code-request.json"));
        Assert.Equal(HttpStatusCode.OK, count.StatusCode);
        Assert.True(JsonDocument.Parse(await count.Content.ReadAsStringAsync()).RootElement.GetProperty("input_tokens").GetInt32() > 500);

        using var haiku = await http.SendAsync(Replay("/v1/messages?beta=true", "claude-code-haiku-request.json"));
        Assert.Equal(HttpStatusCode.OK, haiku.StatusCode);
        var message = JsonDocument.Parse(await haiku.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("message", message.GetProperty("type").GetString());
        Assert.Equal("claude-3-5-haiku-20241022", message.GetProperty("model").GetString());
    }

    /// <summary>
    /// Claude Code 2.1 sends instructions between turns as <c>"role":"system"</c> messages (its
    /// mid-conversation-system beta): accepted and kept at their place, after the turn they follow.
    /// </summary>
    [Fact]
    public async Task A_mid_conversation_system_message_is_accepted_and_kept_in_place()
    {
        await using var cluster = await StartAsync();
        using var http = cluster.CreateClient(apiKey: null);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/messages?beta=true")
        {
            Content = new StringContent("""
                {"model":"claude-opus-4-8","max_tokens":64000,"stream":false,"thinking":{"type":"adaptive"},"output_config":{"effort":"high"},
                 "context_management":{"edits":[{"type":"clear_thinking_20251015","keep":"all"}]},
                 "system":[{"type":"text","text":"You are Claude Code."}],
                 "messages":[{"role":"user","content":[{"type":"text","text":"[[fake:text=Noted.]] first question"}]},
                             {"role":"system","content":"Available agent types: Explore, Plan."}]}
                """, Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("x-api-key", GatewayCluster.UserKey);
        request.Headers.Add("anthropic-version", "2023-06-01");
        request.Headers.Add("anthropic-beta", "claude-code-20250219,mid-conversation-system-2026-04-07,effort-2025-11-24");

        using var response = await http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        Assert.Equal("Noted.", JsonDocument.Parse(body).RootElement.GetProperty("content")[0].GetProperty("text").GetString());

        var upstream = cluster.Fake.Requests.All[^1].Body;
        var question = upstream.IndexOf("first question", StringComparison.Ordinal);
        var agents = upstream.IndexOf("Available agent types: Explore, Plan.", StringComparison.Ordinal);
        Assert.True(question >= 0 && agents > question, upstream);
    }

    /// <summary>
    /// Claude Code's WebSearch sends Anthropic's hosted web_search tool (and may force it): a server tool the client
    /// cannot run, so it is not offered to the model as the client's (the server tools search when enabled); the
    /// Anthropic-defined client tools (bash, text editor) stay the client's tools by their names.
    /// </summary>
    [Fact]
    public async Task Hosted_server_tools_are_not_offered_as_client_tools_and_forcing_one_is_no_error()
    {
        await using var cluster = await StartAsync();
        using var http = cluster.CreateClient();
        using var response = await http.PostAsync("/v1/messages", new StringContent("""
            {"model":"claude-sonnet-4","max_tokens":500,
             "tools":[{"type":"web_search_20250305","name":"web_search","max_uses":8},{"type":"bash_20250124","name":"bash"}],
             "tool_choice":{"type":"tool","name":"web_search"},
             "messages":[{"role":"user","content":"[[fake:text=Searched.]] Search the web for Flowith."}]}
            """, Encoding.UTF8, "application/json"));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        Assert.Equal("Searched.", JsonDocument.Parse(body).RootElement.GetProperty("content")[0].GetProperty("text").GetString());

        var prompt = cluster.Fake.Requests.All[^1].Body;
        Assert.Contains("bash", prompt, StringComparison.Ordinal);
        Assert.DoesNotContain("web_search", prompt, StringComparison.Ordinal);
    }
}
