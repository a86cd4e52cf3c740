using System.ClientModel;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Flowith2Api.Tests.Infrastructure;
using OpenAI.Chat;
using OpenAI.Models;

namespace Flowith2Api.Tests.ChatService;

/// <summary>The model catalogue, thinking and the overhead header, through the Gateway.</summary>
[Collection(GatewayClusterCollection.Name)]
public sealed class ModelsAndThinkingTests(GatewayClusterFixture fixture)
{
    private GatewayCluster Cluster => fixture.Cluster;

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    [Fact]
    public async Task The_model_list_has_the_configured_names_and_the_upstreams_extra_ids()
    {
        var client = new OpenAIModelClient(new ApiKeyCredential(GatewayCluster.UserKey),
            new OpenAI.OpenAIClientOptions { Endpoint = new Uri(Cluster.GatewayUri, "/v1") });

        OpenAIModelCollection models = await client.GetModelsAsync();
        var ids = models.Select(m => m.Id).ToList();

        Assert.Contains("flowith", ids);
        Assert.Contains("gpt-4.1", ids);
        Assert.Contains("claude-sonnet-4", ids);
        Assert.Contains("deepseek-r1", ids);
        Assert.DoesNotContain("claude-4-sonnet", ids); // the upstream id behind claude-sonnet-4 is not listed twice
        Assert.Equal(ids.Count, ids.Distinct(StringComparer.OrdinalIgnoreCase).Count());

        OpenAIModel one = await client.GetModelAsync("gpt-4.1");
        Assert.Equal("flowith", one.OwnedBy);
    }

    [Fact]
    public async Task With_an_anthropic_version_header_the_model_list_is_in_anthropics_form()
    {
        using var http = Cluster.CreateClient();
        http.DefaultRequestHeaders.Add("anthropic-version", "2023-06-01");
        var list = JsonDocument.Parse(await http.GetStringAsync("/v1/models")).RootElement;
        Assert.False(list.GetProperty("has_more").GetBoolean());
        Assert.Equal("model", list.GetProperty("data")[0].GetProperty("type").GetString());

        using var missing = await http.GetAsync("/v1/models/no-such-model");
        await ErrorEnvelope.AssertAnthropicAsync(missing, HttpStatusCode.NotFound, "not_found_error");
    }

    [Fact]
    public async Task An_unknown_model_is_a_404_model_not_found_that_says_how_to_fix_it()
    {
        var client = Cluster.CreateOpenAIChatClient(model: "gpt-99-ultra");
        var error = await Assert.ThrowsAsync<ClientResultException>(() => client.CompleteChatAsync([new UserChatMessage("hi")]));
        Assert.Equal(404, error.Status);
        Assert.Contains("model_not_found", error.Message, StringComparison.Ordinal);
        Assert.Contains("MODEL_ALIASES", error.Message, StringComparison.Ordinal);
        Assert.Contains("GET /v1/models", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_public_name_is_sent_upstream_as_its_upstream_id()
    {
        using var http = Cluster.CreateClient();
        var requestId = "req-model-" + Guid.NewGuid().ToString("N");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = Json("""{"model":"deepseek-r1","messages":[{"role":"user","content":"hi"}]}"""),
        };
        request.Headers.Add("x-request-id", requestId);
        using var response = await http.SendAsync(request);

        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("deepseek-r1", body.GetProperty("model").GetString());
        var upstream = await Cluster.Fake.Requests.WaitForAsync(r => r.RequestId == requestId, TimeSpan.FromSeconds(10));
        Assert.Equal("deepseek-reasoner", JsonDocument.Parse(upstream.Body).RootElement.GetProperty("model").GetString());
    }

    [Fact]
    public async Task Think_tags_become_reasoning_content_and_never_reach_the_content()
    {
        using var http = Cluster.CreateClient();
        const string prompt = "[[fake:think=Let%20me%20weigh%20this;text=The%20answer%20is%2042.]] q";
        using var whole = await http.PostAsync("/v1/chat/completions", Json($$"""{"messages":[{"role":"user","content":"{{prompt}}"}]}"""));
        var message = JsonDocument.Parse(await whole.Content.ReadAsStringAsync()).RootElement.GetProperty("choices")[0].GetProperty("message");
        Assert.Equal("The answer is 42.", message.GetProperty("content").GetString());
        Assert.Equal("Let me weigh this", message.GetProperty("reasoning_content").GetString());

        using var streamed = await http.PostAsync("/v1/chat/completions",
            Json("""{"stream":true,"messages":[{"role":"user","content":"[[fake:think=Let%20me%20weigh%20this;text=The%20answer%20is%2042.;chunk=3]] q"}]}"""));
        var reasoning = new StringBuilder();
        var content = new StringBuilder();
        foreach (var data in (await ChatCompletionsBehaviourTests.SseEvents(streamed))[..^1])
        {
            var delta = JsonDocument.Parse(data).RootElement.GetProperty("choices")[0].GetProperty("delta");
            if (delta.TryGetProperty("reasoning_content", out var r))
            {
                reasoning.Append(r.GetString());
            }

            if (delta.TryGetProperty("content", out var c))
            {
                content.Append(c.GetString());
            }
        }

        Assert.Equal("Let me weigh this", reasoning.ToString());
        Assert.Equal("The answer is 42.", content.ToString());
    }

    [Fact]
    public async Task The_thinking_prompt_is_injected_only_when_the_client_asks_for_reasoning()
    {
        using var http = Cluster.CreateClient();
        var withEffort = "req-think-" + Guid.NewGuid().ToString("N");
        var without = "req-nothink-" + Guid.NewGuid().ToString("N");
        foreach (var (id, body) in new[]
        {
            (withEffort, """{"reasoning_effort":"high","messages":[{"role":"user","content":"hi"}]}"""),
            (without, """{"messages":[{"role":"user","content":"hi"}]}"""),
        })
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = Json(body) };
            request.Headers.Add("x-request-id", id);
            using var response = await http.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        var injected = await Cluster.Fake.Requests.WaitForAsync(r => r.RequestId == withEffort, TimeSpan.FromSeconds(10));
        var plain = await Cluster.Fake.Requests.WaitForAsync(r => r.RequestId == without, TimeSpan.FromSeconds(10));
        static string Prompt(string body) => string.Join("\n", JsonDocument.Parse(body).RootElement.GetProperty("messages")
            .EnumerateArray().Select(m => m.GetProperty("content").GetString()));
        Assert.Contains("<think></think>", Prompt(injected.Body), StringComparison.Ordinal);
        Assert.DoesNotContain("<think>", Prompt(plain.Body), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Every_answer_reports_the_time_spent_in_our_code()
    {
        using var http = Cluster.CreateClient();
        foreach (var stream in new[] { false, true })
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            using var response = await http.PostAsync("/v1/chat/completions",
                Json($$"""{"stream":{{(stream ? "true" : "false")}},"messages":[{"role":"user","content":"[[fake:latency=150]] hi"}]}"""));
            await response.Content.ReadAsStringAsync();
            var overhead = double.Parse(response.Headers.GetValues("x-gateway-overhead-ms").Single(), CultureInfo.InvariantCulture);
            Assert.InRange(overhead, 0, clock.Elapsed.TotalMilliseconds - 140); // the upstream's 150 ms are not ours
            Assert.False(response.Headers.Contains("x-flowith2api-service-elapsed-ms"));
            Assert.False(response.Headers.Contains("x-flowith2api-service-overhead-ms"));
        }
    }
}
