using System.Text;
using System.Text.Json;
using Anthropic.Models.Messages;
using Flowith2Api.Tests.Infrastructure;
using Flowith2Api.ToolService.Sandbox;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using ModelContextProtocol.Client;
using OpenAI.Chat;

namespace Flowith2Api.Tests.ToolService;

/// <summary>
/// The server tools as the product ships them (<c>ENABLE_MCP</c> on, no <c>MCP_TOOLS</c>, CLI mode off): a plain chat
/// pays for no tool prompt, a request that asks for a hosted tool gets that one, and a tool that cannot run is never
/// offered, whatever the settings say.
/// </summary>
public sealed class ShippedDefaultsTests
{
    private static readonly string[] ServerToolNames = ["web_search", "image_gen", "code_interpreter", "bash_execute", "file_read"];

    private static string UpstreamPrompt(GatewayCluster cluster) => string.Join("\n",
        JsonDocument.Parse(cluster.Fake.Requests.All.Last(r => r.Path.EndsWith("/seek", StringComparison.Ordinal)).Body).RootElement
            .GetProperty("messages").EnumerateArray().Select(m => m.GetProperty("content").GetString()));

    [Fact]
    public async Task A_plain_chat_in_every_dialect_carries_no_tool_prompt_by_default()
    {
        await using var search = await StartSearchAsync();
        await using var cluster = await GatewayCluster.StartAsync(new GatewayClusterOptions
        {
            // A usable web_search: not offered all the same, since nothing asks for it.
            ToolSettings = new Dictionary<string, string> { ["SEARCH_URL"] = search.Uri.ToString(), ["OUTBOUND_ALLOWED_HOSTS"] = search.HostAndPort },
        });

        ChatCompletion completion = await cluster.CreateOpenAIChatClient().CompleteChatAsync([new UserChatMessage("Hello!")]);
        Assert.Equal("fake-flowith reply to: Hello!", completion.Content[0].Text);
        Assert.Equal("Hello!", UpstreamPrompt(cluster)); // the client's words, nothing added
        Assert.True(completion.Usage.InputTokenCount < 20, $"{completion.Usage.InputTokenCount} prompt tokens for 'Hello!'");

        using var anthropic = cluster.CreateAnthropicClient();
        await anthropic.Messages.Create(new MessageCreateParams { Model = "claude-sonnet-4", MaxTokens = 100, Messages = [new UserMessageParam("Hello!")] });
        Assert.Equal("Hello!", UpstreamPrompt(cluster));

#pragma warning disable OPENAI001 // the SDK's Responses client is marked for evaluation
        await cluster.CreateOpenAIResponsesClient().CreateResponseAsync("gpt-4.1-mini", "Hello!", null);
#pragma warning restore OPENAI001
        Assert.Equal("Hello!", UpstreamPrompt(cluster));
        Assert.Empty(search.Requests);
    }

    [Theory]
    [InlineData("/v1/responses", """{"model":"gpt-4.1-mini","input":"What is new?","tools":[{"type":"web_search"}]}""")]
    [InlineData("/v1/messages", """{"model":"claude-sonnet-4","max_tokens":100,"messages":[{"role":"user","content":"What is new?"}],"tools":[{"type":"web_search_20250305","name":"web_search"}]}""")]
    [InlineData("/v1/chat/completions", """{"model":"flowith","messages":[{"role":"user","content":"What is new?"}],"web_search_options":{}}""")]
    public async Task A_request_that_asks_for_a_hosted_tool_is_offered_that_server_tool_and_no_other(string path, string body)
    {
        await using var search = await StartSearchAsync();
        await using var cluster = await GatewayCluster.StartAsync(new GatewayClusterOptions
        {
            ToolSettings = new Dictionary<string, string> { ["SEARCH_URL"] = search.Uri.ToString(), ["OUTBOUND_ALLOWED_HOSTS"] = search.HostAndPort },
        });
        using var http = cluster.CreateClient();
        http.DefaultRequestHeaders.Add("anthropic-version", "2023-06-01");
        using var response = await http.PostAsync(path, new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());

        var prompt = UpstreamPrompt(cluster);
        Assert.Contains("web_search", prompt, StringComparison.Ordinal);
        Assert.DoesNotContain("code_interpreter", prompt, StringComparison.Ordinal);
        Assert.DoesNotContain("image_gen", prompt, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_tool_that_cannot_run_is_never_offered_even_when_the_settings_name_it()
    {
        await using var cluster = await GatewayCluster.StartAsync(new GatewayClusterOptions
        {
            McpTools = "code_interpreter,bash_execute,git_status,file_read",
            ChatSettings = new Dictionary<string, string> { ["ENABLE_CLI_MODE"] = "true" },
            ToolSettings = new Dictionary<string, string> { ["ENABLE_CLI_MODE"] = "true", ["CLI_WORKSPACE"] = Directory.CreateTempSubdirectory("f2a-nosandbox-").FullName },
            // A host without bubblewrap.
            ConfigureToolService = builder => builder.Services.Replace(ServiceDescriptor.Singleton<ISandbox>(new BubblewrapSandbox(bwrapPath: "/nonexistent/bwrap"))),
        });

        // The model is offered only what can run: the file tool, not the command tools.
        await cluster.CreateOpenAIChatClient().CompleteChatAsync([new UserChatMessage("Run some code")]);
        var prompt = UpstreamPrompt(cluster);
        Assert.Contains("file_read", prompt, StringComparison.Ordinal);
        foreach (var tool in new[] { "code_interpreter", "bash_execute", "git_status" })
        {
            Assert.DoesNotContain(tool, prompt, StringComparison.Ordinal);
        }

        // So is an MCP client.
        var transport = new HttpClientTransport(new HttpClientTransportOptions
        {
            Endpoint = new Uri(cluster.GatewayUri, "/mcp"),
            TransportMode = HttpTransportMode.StreamableHttp,
            AdditionalHeaders = new Dictionary<string, string> { ["Authorization"] = "Bearer " + GatewayCluster.UserKey },
        });
        await using (transport)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await using var client = await McpClient.CreateAsync(transport, cancellationToken: timeout.Token);
            var names = (await client.ListToolsAsync(cancellationToken: timeout.Token)).Select(t => t.Name).ToList();
            Assert.Contains("file_read", names);
            Assert.DoesNotContain("code_interpreter", names);
            Assert.DoesNotContain("bash_execute", names);
        }

        // The admin list says why.
        using var admin = cluster.CreateClient(GatewayCluster.AdminKeyValue);
        using var list = JsonDocument.Parse(await admin.GetStringAsync("/v1/admin/tools"));
        var interpreter = list.RootElement.GetProperty("tools").EnumerateArray().Single(t => t.GetProperty("name").GetString() == "code_interpreter");
        Assert.Contains("bubblewrap", interpreter.GetProperty("unavailable_reason").GetString(), StringComparison.Ordinal);
    }

    private static Task<TestBackend> StartSearchAsync() =>
        TestBackend.StartAsync((app, _) => app.MapGet("/search", (HttpContext context) => Results.Json(new
        {
            results = new[] { new { title = "News", url = "https://example.com", content = "Something new." } },
        })));
}
