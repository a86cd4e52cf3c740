using System.Text;
using System.Text.Json;
using Anthropic;
using Anthropic.Models.Messages;
using Flowith2Api.FakeFlowith;
using Flowith2Api.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;
using OpenAI.Chat;

namespace Flowith2Api.Tests.ToolService;

/// <summary>The server-side tool loop: the model calls web_search, the gateway runs it and the model answers with it.</summary>
public sealed class ToolLoopTests
{
    private const string Token = "flo_tool_loop_credential";
    private const string Snippet = "Flowith is an AI workspace with agents.";

    private static async Task<(TestBackend Search, GatewayCluster Cluster)> StartAsync()
    {
        var search = await TestBackend.StartAsync((app, _) => app.MapGet("/search", (HttpContext context) => Results.Json(new
        {
            results = new[] { new { title = "Flowith", url = "https://flowith.io", content = Snippet } },
        })));
        var cluster = await GatewayCluster.StartAsync(new GatewayClusterOptions
        {
            FlowithTokens = Token,
            McpTools = "web_search",
            ToolSettings = new Dictionary<string, string> { ["SEARCH_URL"] = search.Uri.ToString(), ["OUTBOUND_ALLOWED_HOSTS"] = search.HostAndPort },
        });
        cluster.Fake.Scenarios.Enqueue(Token,
            new FakeScenario { Text = "Let me look. <tool_call name=\"web_search\">{\"query\":\"what is flowith\"}</tool_call>", ChunkSize = 6 },
            new FakeScenario { Text = "Flowith is an AI workspace.", ChunkSize = 6 });
        return (search, cluster);
    }

    private static void AssertSecondRoundSawTheResult(GatewayCluster cluster)
    {
        var seek = cluster.Fake.Requests.All.Where(r => r.Path.EndsWith("/seek", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, seek.Count);
        var first = Prompt(seek[0].Body);
        Assert.Contains("web_search", first, StringComparison.Ordinal); // offered to the model
        var second = Prompt(seek[1].Body);
        Assert.Contains("<tool_call name=\"web_search\">{\"query\":\"what is flowith\"}</tool_call>", second, StringComparison.Ordinal);
        Assert.Contains("<tool_result name=\"web_search\"", second, StringComparison.Ordinal);
        Assert.Contains(Snippet, second, StringComparison.Ordinal);
    }

    private static string Prompt(string body) => string.Join("\n",
        JsonDocument.Parse(body).RootElement.GetProperty("messages").EnumerateArray().Select(m => m.GetProperty("content").GetString()));

    [Fact]
    public async Task An_openai_answer_that_calls_web_search_ends_in_an_answer_built_on_the_result()
    {
        var (search, cluster) = await StartAsync();
        await using (search)
        await using (cluster)
        {
            ChatCompletion completion = await cluster.CreateOpenAIChatClient().CompleteChatAsync([new UserChatMessage("What is Flowith?")]);

            Assert.Equal("Let me look. Flowith is an AI workspace.", completion.Content[0].Text);
            Assert.Empty(completion.ToolCalls);
            Assert.Equal(ChatFinishReason.Stop, completion.FinishReason);
            AssertSecondRoundSawTheResult(cluster);
        }
    }

    [Fact]
    public async Task A_streamed_openai_answer_shows_the_tool_running_and_then_the_answer()
    {
        var (search, cluster) = await StartAsync();
        await using (search)
        await using (cluster)
        {
            using var http = cluster.CreateClient();
            using var response = await http.PostAsync("/v1/chat/completions", new StringContent(
                """{"stream":true,"messages":[{"role":"user","content":"What is Flowith?"}]}""", Encoding.UTF8, "application/json"));
            var content = new StringBuilder();
            var reasoning = new StringBuilder();
            var body = await response.Content.ReadAsStringAsync();
            foreach (var data in body.Split("\n\n", StringSplitOptions.RemoveEmptyEntries).Select(e => e.Trim()["data: ".Length..]).Where(d => d != "[DONE]"))
            {
                var delta = JsonDocument.Parse(data).RootElement.GetProperty("choices")[0].GetProperty("delta");
                Assert.False(delta.TryGetProperty("tool_calls", out _), "server tool calls never reach the client");
                if (delta.TryGetProperty("content", out var c))
                {
                    content.Append(c.GetString());
                }

                if (delta.TryGetProperty("reasoning_content", out var r))
                {
                    reasoning.Append(r.GetString());
                }
            }

            Assert.Equal("Let me look. Flowith is an AI workspace.", content.ToString());
            Assert.Contains("running web_search", reasoning.ToString(), StringComparison.Ordinal);
            Assert.Contains("\"finish_reason\":\"stop\"", body, StringComparison.Ordinal);
            AssertSecondRoundSawTheResult(cluster);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task An_anthropic_answer_that_calls_web_search_ends_in_an_answer_built_on_the_result(bool stream)
    {
        var (search, cluster) = await StartAsync();
        await using (search)
        await using (cluster)
        {
            using var client = cluster.CreateAnthropicClient();
            var parameters = new MessageCreateParams { Model = "claude-sonnet-4", MaxTokens = 500, Messages = [new UserMessageParam("What is Flowith?")] };
            Message message = stream ? await client.Messages.CreateStreaming(parameters).Aggregate() : await client.Messages.Create(parameters);

            Assert.Equal("end_turn", message.StopReason?.Raw());
            var text = string.Concat(message.Content.Select(b => b.TryPickText(out var t) ? t.Text : ""));
            Assert.Equal("Let me look. Flowith is an AI workspace.", text);
            Assert.DoesNotContain(message.Content, b => b.TryPickToolUse(out _));
            AssertSecondRoundSawTheResult(cluster);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_responses_answer_that_calls_web_search_ends_in_an_answer_built_on_the_result(bool stream)
    {
        var (search, cluster) = await StartAsync();
        await using (search)
        await using (cluster)
        {
#pragma warning disable OPENAI001 // the SDK's Responses client is marked for evaluation
            var client = cluster.CreateOpenAIResponsesClient();
            OpenAI.Responses.ResponseResult? result = null;
            if (stream)
            {
                await foreach (var update in await client.CreateResponseStreamingAsync("gpt-4.1-mini", "What is Flowith?", null))
                {
                    Assert.IsNotType<OpenAI.Responses.StreamingResponseFunctionCallArgumentsDoneUpdate>(update); // server calls never reach the client
                    result = (update as OpenAI.Responses.StreamingResponseCompletedUpdate)?.Response ?? result;
                }
            }
            else
            {
                result = (await client.CreateResponseAsync("gpt-4.1-mini", "What is Flowith?", null)).Value;
            }

            Assert.NotNull(result);
            Assert.Equal(OpenAI.Responses.ResponseStatus.Completed, result.Status);
            Assert.Equal("Let me look. Flowith is an AI workspace.", result.GetOutputText());
            Assert.DoesNotContain(result.OutputItems, i => i is OpenAI.Responses.FunctionCallResponseItem);
#pragma warning restore OPENAI001
            AssertSecondRoundSawTheResult(cluster);
        }
    }

    [Fact]
    public async Task A_client_tool_with_the_same_name_as_a_server_tool_wins_and_goes_back_to_the_client()
    {
        var (search, cluster) = await StartAsync();
        await using (search)
        await using (cluster)
        {
            var clientTool = ChatTool.CreateFunctionTool("web_search", "The client's own search",
                BinaryData.FromString("""{"type":"object","properties":{"query":{"type":"string"}},"required":["query"]}"""));
            ChatCompletion completion = await cluster.CreateOpenAIChatClient().CompleteChatAsync(
                [new UserChatMessage("What is Flowith?")], new ChatCompletionOptions { Tools = { clientTool } });

            Assert.Equal(ChatFinishReason.ToolCalls, completion.FinishReason);
            Assert.Equal("web_search", Assert.Single(completion.ToolCalls).FunctionName);
            Assert.Empty(search.Requests);
        }
    }
}
