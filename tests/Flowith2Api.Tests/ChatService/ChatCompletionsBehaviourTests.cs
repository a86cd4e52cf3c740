using System.Net;
using System.Text;
using System.Text.Json;
using Flowith2Api.Tests.Infrastructure;

namespace Flowith2Api.Tests.ChatService;

/// <summary>How chat completions answer bad input and every upstream stream variant, through the Gateway.</summary>
[Collection(GatewayClusterCollection.Name)]
public sealed class ChatCompletionsBehaviourTests(GatewayClusterFixture fixture)
{
    private GatewayCluster Cluster => fixture.Cluster;

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private static StringContent Ask(string prompt, bool stream = false) =>
        Json(JsonSerializer.Serialize(new { model = "flowith", stream, messages = new[] { new { role = "user", content = prompt } } }));

    [Theory]
    [InlineData("not json", "invalid_json")]
    [InlineData("[]", "invalid_json")]
    [InlineData("""{"model":"flowith"}""", "missing_required_parameter")]
    [InlineData("""{"messages":[]}""", "invalid_request_error")]
    [InlineData("""{"messages":[{"role":"wizard","content":"hi"}]}""", "invalid_request_error")]
    [InlineData("""{"messages":[{"role":"user","content":42}]}""", "invalid_request_error")]
    [InlineData("""{"messages":[{"role":"user","content":[{"type":"video","url":"x"}]}]}""", "invalid_request_error")]
    [InlineData("""{"n":2,"messages":[{"role":"user","content":"hi"}]}""", "unsupported_parameter")]
    [InlineData("""{"max_tokens":-5,"messages":[{"role":"user","content":"hi"}]}""", "invalid_request_error")]
    [InlineData("""{"temperature":7,"messages":[{"role":"user","content":"hi"}]}""", "invalid_request_error")]
    [InlineData("""{"messages":"hello"}""", "invalid_json")]
    public async Task Bad_input_gets_a_400_in_the_openai_envelope(string body, string code)
    {
        using var http = Cluster.CreateClient();
        using var response = await http.PostAsync("/v1/chat/completions", Json(body));
        await ErrorEnvelope.AssertOpenAIAsync(response, HttpStatusCode.BadRequest, code);
    }

    [Theory]
    [InlineData("terminator=bare")]
    [InlineData("terminator=eof")]
    [InlineData("doc-style=true")]
    [InlineData("crlf=true;split=true;keepalive=true;searching=true")]
    public async Task Every_upstream_stream_variant_gives_the_same_answer(string scenario)
    {
        using var http = Cluster.CreateClient();
        var spec = $"text=Caf%C3%A9%20%E2%98%95%20and%20more%20text;chunk=3;{scenario}";

        using var streamed = await http.PostAsync("/v1/chat/completions", Ask($"[[fake:{spec}]] hi", stream: true));
        Assert.Equal(HttpStatusCode.OK, streamed.StatusCode);
        Assert.Equal("text/event-stream", streamed.Content.Headers.ContentType?.MediaType);
        var events = await SseEvents(streamed);
        Assert.Equal("[DONE]", events[^1]);
        var text = new StringBuilder();
        foreach (var data in events[..^1])
        {
            var choice = JsonDocument.Parse(data).RootElement.GetProperty("choices")[0];
            if (choice.GetProperty("delta").TryGetProperty("content", out var content))
            {
                text.Append(content.GetString());
            }
        }

        Assert.Equal("Café ☕ and more text", text.ToString());

        using var whole = await http.PostAsync("/v1/chat/completions", Ask($"[[fake:{spec}]] hi"));
        var message = JsonDocument.Parse(await whole.Content.ReadAsStringAsync()).RootElement.GetProperty("choices")[0].GetProperty("message");
        Assert.Equal("Café ☕ and more text", message.GetProperty("content").GetString());

        // And the same through the official SDK, streamed.
        var sdkText = new StringBuilder();
        await foreach (var update in Cluster.CreateOpenAIChatClient().CompleteChatStreamingAsync([new OpenAI.Chat.UserChatMessage($"[[fake:{spec}]] hi")]))
        {
            foreach (var part in update.ContentUpdate)
            {
                sdkText.Append(part.Text);
            }
        }

        Assert.Equal("Café ☕ and more text", sdkText.ToString());
    }

    [Fact]
    public async Task A_stream_that_breaks_after_the_first_byte_ends_with_an_in_band_error_and_done()
    {
        using var http = Cluster.CreateClient();
        using var response = await http.PostAsync("/v1/chat/completions", Ask("[[fake:text=abcdefghijklmnopqrstuvwxyz;chunk=3;reset-after=5]] hi", stream: true));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var events = await SseEvents(response);
        Assert.Equal("[DONE]", events[^1]);
        var error = JsonDocument.Parse(events[^2]).RootElement.GetProperty("error");
        Assert.Equal("upstream_stream_failed", error.GetProperty("code").GetString());
        Assert.Contains(events, e => e.Contains("\"content\":\"abc\"", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_role_chunk_comes_first_and_the_usage_chunk_comes_when_asked()
    {
        using var http = Cluster.CreateClient();
        using var response = await http.PostAsync("/v1/chat/completions", Json(
            """{"stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"count me"}]}"""));
        var events = await SseEvents(response);

        var first = JsonDocument.Parse(events[0]).RootElement;
        Assert.Equal("chat.completion.chunk", first.GetProperty("object").GetString());
        Assert.Equal("assistant", first.GetProperty("choices")[0].GetProperty("delta").GetProperty("role").GetString());
        var finish = JsonDocument.Parse(events[^3]).RootElement.GetProperty("choices")[0];
        Assert.Equal("stop", finish.GetProperty("finish_reason").GetString());
        var usage = JsonDocument.Parse(events[^2]).RootElement;
        Assert.Equal(0, usage.GetProperty("choices").GetArrayLength());
        Assert.True(usage.GetProperty("usage").GetProperty("completion_tokens").GetInt32() > 0);
        Assert.Equal("[DONE]", events[^1]);
    }

    internal static async Task<List<string>> SseEvents(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync();
        return [.. body.Split("\n\n", StringSplitOptions.RemoveEmptyEntries)
            .Select(e => e.Trim())
            .Where(e => e.StartsWith("data: ", StringComparison.Ordinal))
            .Select(e => e["data: ".Length..])];
    }
}
