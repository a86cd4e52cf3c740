using System.Net;
using System.Text;
using System.Text.Json;
using Flowith2Api.Tests.Infrastructure;

namespace Flowith2Api.Tests.Anthropic;

/// <summary>The Anthropic dialect on the wire: exact event order, envelopes and status codes.</summary>
[Collection(GatewayClusterCollection.Name)]
public sealed class AnthropicWireTests(GatewayClusterFixture fixture)
{
    private GatewayCluster Cluster => fixture.Cluster;

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private HttpClient Client()
    {
        var http = Cluster.CreateClient(apiKey: null);
        http.DefaultRequestHeaders.Add("x-api-key", GatewayCluster.UserKey);
        http.DefaultRequestHeaders.Add("anthropic-version", "2023-06-01");
        return http;
    }

    internal static async Task<List<(string Event, JsonElement Data)>> EventsAsync(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync();
        var events = new List<(string, JsonElement)>();
        foreach (var block in body.Split("\n\n", StringSplitOptions.RemoveEmptyEntries))
        {
            var lines = block.Split('\n');
            var name = lines.Single(l => l.StartsWith("event: ", StringComparison.Ordinal))["event: ".Length..];
            var data = JsonDocument.Parse(lines.Single(l => l.StartsWith("data: ", StringComparison.Ordinal))["data: ".Length..]).RootElement;
            Assert.Equal(name, data.GetProperty("type").GetString());
            events.Add((name, data));
        }

        return events;
    }

    [Fact]
    public async Task A_streamed_message_follows_anthropics_event_order_exactly()
    {
        using var http = Client();
        using var response = await http.PostAsync("/v1/messages", Json("""
            {"model":"claude-sonnet-4","max_tokens":256,"stream":true,
             "messages":[{"role":"user","content":"[[fake:think=Weighing%20it;text=Hello%20there%2C%20Claude%20client.;chunk=5]] hi"}]}
            """));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        var events = await EventsAsync(response);
        var names = events.Select(e => e.Event).Where(e => e != "ping").ToList();

        Assert.Equal("message_start", names[0]);
        Assert.Equal(["message_delta", "message_stop"], names[^2..]);
        Assert.Equal(1, names.Count(n => n == "message_start"));
        var start = events[0].Data.GetProperty("message");
        Assert.True(start.GetProperty("usage").GetProperty("input_tokens").GetInt32() > 0);
        Assert.Equal(0, start.GetProperty("content").GetArrayLength());

        // Blocks: thinking at index 0 (deltas, signature, stop), then text at index 1, never interleaved.
        var blocks = events.Where(e => e.Event.StartsWith("content_block", StringComparison.Ordinal)).ToList();
        Assert.Equal("content_block_start", blocks[0].Event);
        Assert.Equal("thinking", blocks[0].Data.GetProperty("content_block").GetProperty("type").GetString());
        var thinkingStop = blocks.FindIndex(b => b.Event == "content_block_stop");
        Assert.All(blocks[..thinkingStop], b => Assert.Equal(0, b.Data.GetProperty("index").GetInt32()));
        Assert.Equal("signature_delta", blocks[thinkingStop - 1].Data.GetProperty("delta").GetProperty("type").GetString());
        Assert.Equal("Weighing it", string.Concat(blocks[..thinkingStop]
            .Where(b => b.Event == "content_block_delta" && b.Data.GetProperty("delta").GetProperty("type").GetString() == "thinking_delta")
            .Select(b => b.Data.GetProperty("delta").GetProperty("thinking").GetString())));

        var text = blocks[(thinkingStop + 1)..];
        Assert.Equal("text", text[0].Data.GetProperty("content_block").GetProperty("type").GetString());
        Assert.All(text, b => Assert.Equal(1, b.Data.GetProperty("index").GetInt32()));
        Assert.Equal("content_block_stop", text[^1].Event);
        Assert.Equal("Hello there, Claude client.", string.Concat(text
            .Where(b => b.Event == "content_block_delta")
            .Select(b => b.Data.GetProperty("delta").GetProperty("text").GetString())));

        var delta = events.Single(e => e.Event == "message_delta").Data;
        Assert.Equal("end_turn", delta.GetProperty("delta").GetProperty("stop_reason").GetString());
        Assert.True(delta.GetProperty("usage").GetProperty("output_tokens").GetInt32() > 0);
        Assert.Equal(start.GetProperty("usage").GetProperty("input_tokens").GetInt32(), delta.GetProperty("usage").GetProperty("input_tokens").GetInt32());
    }

    [Fact]
    public async Task A_streamed_tool_call_is_a_tool_use_block_with_input_json_delta()
    {
        using var http = Client();
        using var response = await http.PostAsync("/v1/messages", Json("""
            {"model":"claude-sonnet-4","max_tokens":256,"stream":true,
             "tools":[{"name":"get_weather","description":"Weather","input_schema":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}],
             "messages":[{"role":"user","content":"[[fake:text=Checking.%20%3Ctool_call%20name%3D%22get_weather%22%3E%7B%22city%22%3A%22Lima%22%7D%3C%2Ftool_call%3E;chunk=3]] weather?"}]}
            """));
        var events = await EventsAsync(response);

        var toolStart = events.Single(e => e.Event == "content_block_start" && e.Data.GetProperty("content_block").GetProperty("type").GetString() == "tool_use");
        var index = toolStart.Data.GetProperty("index").GetInt32();
        Assert.Equal(1, index); // after the text block
        Assert.StartsWith("toolu_", toolStart.Data.GetProperty("content_block").GetProperty("id").GetString(), StringComparison.Ordinal);
        var json = string.Concat(events.Where(e => e.Event == "content_block_delta" && e.Data.GetProperty("index").GetInt32() == index)
            .Select(e => e.Data.GetProperty("delta").GetProperty("partial_json").GetString()));
        Assert.Equal("""{"city":"Lima"}""", json);
        Assert.Equal("tool_use", events.Single(e => e.Event == "message_delta").Data.GetProperty("delta").GetProperty("stop_reason").GetString());
        Assert.DoesNotContain(events, e => e.Event == "content_block_delta" && e.Data.GetProperty("delta").TryGetProperty("text", out var t)
            && t.GetString()!.Contains("tool_call", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("""{"model":"claude-sonnet-4","messages":[{"role":"user","content":"hi"}]}""", "max_tokens")]
    [InlineData("""{"model":"claude-sonnet-4","max_tokens":10}""", "messages")]
    [InlineData("""{"model":"claude-sonnet-4","max_tokens":10,"messages":[{"role":"developer","content":"hi"}]}""", "role")]
    [InlineData("""{"model":"claude-sonnet-4","max_tokens":10,"messages":[{"role":"user","content":"hi"},{"role":"system","content":[{"type":"image","source":{"type":"url","url":"https://x/y.png"}}]}]}""", "system role")]
    [InlineData("""{"model":"claude-sonnet-4","max_tokens":10,"messages":[{"role":"user","content":[{"type":"video"}]}]}""", "type")]
    [InlineData("""{"model":"claude-sonnet-4","max_tokens":10,"messages":[{"role":"user","content":42}]}""", "content")]
    [InlineData("""{"model":"claude-sonnet-4","max_tokens":"ten","messages":[]}""", "JSON")]
    [InlineData("not json", "JSON")]
    public async Task Bad_input_gets_a_400_invalid_request_error(string body, string mentioned)
    {
        using var http = Client();
        using var response = await http.PostAsync("/v1/messages", Json(body));
        var error = await ErrorEnvelope.AssertAnthropicAsync(response, HttpStatusCode.BadRequest, "invalid_request_error");
        Assert.Contains(mentioned, error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_model_is_a_404_not_found_error()
    {
        using var http = Client();
        using var response = await http.PostAsync("/v1/messages", Json("""{"model":"claude-opus-99","max_tokens":10,"messages":[{"role":"user","content":"hi"}]}"""));
        await ErrorEnvelope.AssertAnthropicAsync(response, HttpStatusCode.NotFound, "not_found_error");
    }

    [Fact]
    public async Task A_wrong_key_is_a_401_authentication_error_in_anthropics_envelope()
    {
        using var wrong = Cluster.CreateClient(apiKey: null);
        wrong.DefaultRequestHeaders.Add("x-api-key", "nope");
        using var unauthorized = await wrong.PostAsync("/v1/messages", Json("{}"));
        await ErrorEnvelope.AssertAnthropicAsync(unauthorized, HttpStatusCode.Unauthorized, "authentication_error");
    }

    [Fact]
    public async Task Count_tokens_counts_system_messages_and_tools_and_takes_the_beta_flag()
    {
        using var http = Client();
        const string plain = """{"model":"claude-sonnet-4","messages":[{"role":"user","content":"How many tokens is this?"}]}""";
        const string rich = """
            {"model":"claude-sonnet-4","system":[{"type":"text","text":"You are a careful assistant.","cache_control":{"type":"ephemeral"}}],
             "tools":[{"name":"get_weather","description":"Weather for a city","input_schema":{"type":"object","properties":{"city":{"type":"string"}}}}],
             "messages":[{"role":"user","content":"How many tokens is this?"}]}
            """;
        var small = await CountAsync(http, "/v1/messages/count_tokens", plain);
        var large = await CountAsync(http, "/v1/messages/count_tokens?beta=true", rich);
        Assert.InRange(small, 8, 20);
        Assert.True(large > small + 20, $"system and tools should count: {small} vs {large}");
    }

    private static async Task<int> CountAsync(HttpClient http, string path, string body)
    {
        using var response = await http.PostAsync(path, Json(body));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("input_tokens").GetInt32();
    }
}
