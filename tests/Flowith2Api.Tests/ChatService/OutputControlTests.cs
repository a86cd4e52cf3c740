using System.Net;
using System.Text;
using System.Text.Json;
using Flowith2Api.Tests.Infrastructure;

namespace Flowith2Api.Tests.ChatService;

/// <summary>Request fields the upstream lacks, mapped by the gateway: stop sequences and response formats.</summary>
[Collection(GatewayClusterCollection.Name)]
public sealed class OutputControlTests(GatewayClusterFixture fixture)
{
    private GatewayCluster Cluster => fixture.Cluster;

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    [Fact]
    public async Task Stop_sequences_end_the_answer_streamed_or_not()
    {
        using var http = Cluster.CreateClient();
        const string prompt = "[[fake:text=one%20two%20three%20four%20five%20six;chunk=2]] go";

        using var whole = await http.PostAsync("/v1/chat/completions", Json($$"""{"stop":["three"],"messages":[{"role":"user","content":"{{prompt}}"}]}"""));
        var choice = JsonDocument.Parse(await whole.Content.ReadAsStringAsync()).RootElement.GetProperty("choices")[0];
        Assert.Equal("one two ", choice.GetProperty("message").GetProperty("content").GetString());
        Assert.Equal("stop", choice.GetProperty("finish_reason").GetString());

        using var streamed = await http.PostAsync("/v1/chat/completions", Json($$"""{"stream":true,"stop":"four","messages":[{"role":"user","content":"{{prompt}}"}]}"""));
        var text = new StringBuilder();
        var events = await ChatCompletionsBehaviourTests.SseEvents(streamed);
        foreach (var data in events[..^1])
        {
            if (JsonDocument.Parse(data).RootElement.GetProperty("choices")[0].GetProperty("delta").TryGetProperty("content", out var c))
            {
                text.Append(c.GetString());
            }
        }

        Assert.Equal("one two three ", text.ToString());
        Assert.Equal("[DONE]", events[^1]);
    }

    [Fact]
    public async Task A_json_response_format_asks_the_upstream_for_json_only()
    {
        using var http = Cluster.CreateClient();
        var id = "req-json-" + Guid.NewGuid().ToString("N");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            // The fake answers with JSON that matches, so the answer is a 200 (a non-JSON answer would be an error now).
            Content = Json("""{"response_format":{"type":"json_schema","json_schema":{"name":"x","schema":{"type":"object","properties":{"n":{"type":"number"}}}}},"messages":[{"role":"user","content":"[[fake:text=%7B%22n%22%3A1%7D]] hi"}]}"""),
        };
        request.Headers.Add("x-request-id", id);
        using var response = await http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        var upstream = await Cluster.Fake.Requests.WaitForAsync(r => r.RequestId == id, TimeSpan.FromSeconds(10));
        var system = JsonDocument.Parse(upstream.Body).RootElement.GetProperty("messages")[0];
        Assert.Equal("system", system.GetProperty("role").GetString());
        Assert.Contains("\"properties\"", system.GetProperty("content").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"response_format":"json","messages":[{"role":"user","content":"hi"}]}""")]
    [InlineData("""{"response_format":{"type":"yaml"},"messages":[{"role":"user","content":"hi"}]}""")]
    [InlineData("""{"response_format":{"type":"json_schema"},"messages":[{"role":"user","content":"hi"}]}""")]
    public async Task A_malformed_response_format_is_a_400(string body)
    {
        using var http = Cluster.CreateClient();
        using var response = await http.PostAsync("/v1/chat/completions", Json(body));
        await ErrorEnvelope.AssertOpenAIAsync(response, HttpStatusCode.BadRequest);
    }
}
