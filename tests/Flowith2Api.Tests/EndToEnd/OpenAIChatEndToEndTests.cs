using System.ClientModel;
using System.Diagnostics;
using System.Text;
using Flowith2Api.Tests.Infrastructure;
using OpenAI.Chat;

namespace Flowith2Api.Tests.EndToEnd;

/// <summary>The official OpenAI SDK against the real Gateway → ChatService → fake Flowith path.</summary>
[Collection(GatewayClusterCollection.Name)]
public sealed class OpenAIChatEndToEndTests(GatewayClusterFixture fixture)
{
    private GatewayCluster Cluster => fixture.Cluster;

    [Fact]
    public async Task A_non_streaming_completion_returns_the_upstream_answer_with_counted_usage()
    {
        var client = Cluster.CreateOpenAIChatClient();

        ChatCompletion completion = await client.CompleteChatAsync([new UserChatMessage("Hello gateway")]);

        Assert.Equal("fake-flowith reply to: Hello gateway", Assert.Single(completion.Content).Text);
        Assert.Equal(ChatFinishReason.Stop, completion.FinishReason);
        Assert.Equal(ChatMessageRole.Assistant, completion.Role);
        Assert.Equal("flowith", completion.Model);
        Assert.StartsWith("chatcmpl-", completion.Id, StringComparison.Ordinal);
        Assert.True(completion.Usage.InputTokenCount > 0);
        Assert.True(completion.Usage.OutputTokenCount > 0);
        Assert.Equal(completion.Usage.InputTokenCount + completion.Usage.OutputTokenCount, completion.Usage.TotalTokenCount);
    }

    [Fact]
    public async Task A_streamed_completion_arrives_chunk_by_chunk_before_the_upstream_has_finished()
    {
        var client = Cluster.CreateOpenAIChatClient();
        // The fake sends two chunks (enough for the gateway's start buffer of SSE_MIN_CONTENT_LENGTH characters), then
        // stalls 1.5 s before the rest: the first chunks must reach the SDK during the stall.
        var prompt = "[[fake:text=Hello%20streaming%20world%2C%20chunk%20by%20chunk;chunk=6;stall-after=2;stall=1500]] go";

        var text = new StringBuilder();
        var contentArrivals = new List<TimeSpan>();
        var clock = Stopwatch.StartNew();
        ChatFinishReason? finish = null;
        ChatTokenUsage? usage = null;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await foreach (var update in client.CompleteChatStreamingAsync([new UserChatMessage(prompt)], cancellationToken: timeout.Token))
        {
            foreach (var part in update.ContentUpdate)
            {
                text.Append(part.Text);
                contentArrivals.Add(clock.Elapsed);
            }

            finish ??= update.FinishReason;
            usage ??= update.Usage;
        }

        Assert.Equal("Hello streaming world, chunk by chunk", text.ToString());
        Assert.True(contentArrivals.Count >= 4, $"expected several content chunks, got {contentArrivals.Count}");
        var gap = contentArrivals[^1] - contentArrivals[0];
        Assert.True(gap >= TimeSpan.FromMilliseconds(1200), $"the first chunk arrived only {gap.TotalMilliseconds:F0} ms before the last: it was buffered");
        Assert.Equal(ChatFinishReason.Stop, finish);
        Assert.NotNull(usage);
        Assert.True(usage.OutputTokenCount > 0);
    }

    [Fact]
    public async Task A_wrong_api_key_is_refused_with_401_that_the_sdk_understands()
    {
        var client = Cluster.CreateOpenAIChatClient(apiKey: "sk-not-a-real-key");

        var error = await Assert.ThrowsAsync<ClientResultException>(() => client.CompleteChatAsync([new UserChatMessage("hi")]));

        Assert.Equal(401, error.Status);
        Assert.Contains("Invalid API key", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("sk-not-a-real-key", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_upstream_receives_flattened_string_messages_a_kb_list_and_the_request_id()
    {
        using var http = Cluster.CreateClient();
        var requestId = "req-e2e-" + Guid.NewGuid().ToString("N");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = new StringContent("""
                {"model":"gpt-4.1","max_tokens":50,"messages":[
                  {"role":"system","content":"Be brief."},
                  {"role":"user","content":[{"type":"text","text":"first part"},{"type":"text","text":"second part"}]}
                ]}
                """, Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("x-request-id", requestId);

        using var response = await http.SendAsync(request);

        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(requestId, response.Headers.GetValues("x-request-id").Single());
        var recorded = await Cluster.Fake.Requests.WaitForAsync(r => r.RequestId == requestId, TimeSpan.FromSeconds(10));
        using var body = System.Text.Json.JsonDocument.Parse(recorded.Body);
        var root = body.RootElement;
        Assert.Equal("gpt-4.1", root.GetProperty("model").GetString());
        Assert.Equal(50, root.GetProperty("max_tokens").GetInt32());
        Assert.False(root.GetProperty("stream").GetBoolean());
        Assert.Equal(1, root.GetProperty("kb_list").GetArrayLength());
        var messages = root.GetProperty("messages");
        Assert.Equal("system", messages[0].GetProperty("role").GetString());
        Assert.Equal("first part\nsecond part", messages[1].GetProperty("content").GetString());
        Assert.Equal("Bearer flo_test_credential_alpha", recorded.Headers["Authorization"]);
    }
}
