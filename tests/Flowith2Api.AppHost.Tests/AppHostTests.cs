using System.ClientModel;
using System.Net;
using System.Text;
using System.Text.Json;
using ModelContextProtocol.Client;
using OpenAI;
using OpenAI.Chat;

namespace Flowith2Api.AppHost.Tests;

/// <summary>The whole composition, started the way users start it, answering an OpenAI SDK.</summary>
public sealed class AppHostTests(AppHostFixture fixture) : IClassFixture<AppHostFixture>
{
    [Fact]
    public async Task Every_resource_of_the_composition_becomes_healthy()
    {
        using var timeout = new CancellationTokenSource(AppHostFixture.StartTimeout);
        foreach (var name in new[] { "redis", "postgres", "fake-flowith", "chat-service", "tool-service", "admin-service", "gateway" })
        {
            await fixture.App.ResourceNotifications.WaitForResourceHealthyAsync(name, timeout.Token);
        }
    }

    [Fact]
    public async Task The_openai_sdk_gets_a_streamed_answer_from_the_fake_upstream_through_the_gateway()
    {
        var client = new ChatClient("flowith", new ApiKeyCredential(AppHostFixture.ApiKey), new OpenAIClientOptions
        {
            Endpoint = new Uri(fixture.GatewayUri, "/v1"),
            NetworkTimeout = TimeSpan.FromSeconds(30),
        });

        var text = new StringBuilder();
        var updates = 0;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await foreach (var update in client.CompleteChatStreamingAsync([new UserChatMessage("Hello from the AppHost test")], cancellationToken: timeout.Token))
        {
            foreach (var part in update.ContentUpdate)
            {
                text.Append(part.Text);
                updates++;
            }
        }

        Assert.Equal("fake-flowith reply to: Hello from the AppHost test", text.ToString());
        Assert.True(updates > 1, "the answer should arrive in several chunks");

        ChatCompletion completion = await client.CompleteChatAsync([new UserChatMessage("and not streamed")], cancellationToken: timeout.Token);
        Assert.Equal("fake-flowith reply to: and not streamed", completion.Content[0].Text);
    }

    [Fact]
    public async Task When_ready_the_apphost_says_where_the_gateway_the_console_and_the_dashboard_are()
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        string? banner;
        while ((banner = fixture.AppHostLog.FirstOrDefault(l => l.Contains("is ready", StringComparison.Ordinal))) is null && clock.Elapsed < TimeSpan.FromSeconds(10))
        {
            await Task.Delay(100);
        }

        Assert.NotNull(banner);
        var gateway = $"http://localhost:{fixture.GatewayUri.Port}";
        Assert.Contains($"Gateway: {gateway}", banner, StringComparison.Ordinal);
        Assert.Contains($"base URL: {gateway}/v1", banner, StringComparison.Ordinal);
        Assert.Contains($"Web console: {gateway}/admin", banner, StringComparison.Ordinal);
        Assert.Contains("Dashboard: ", banner, StringComparison.Ordinal);
        using var http = new HttpClient();
        using var console = await http.GetAsync($"{gateway}/admin");
        Assert.True(console.IsSuccessStatusCode || (int)console.StatusCode is >= 300 and < 400, $"the console URL answers: {(int)console.StatusCode}");
    }

    [Fact]
    public async Task A_wrong_key_gets_a_clear_401()
    {
        using var http = new HttpClient { BaseAddress = fixture.GatewayUri, Timeout = TimeSpan.FromSeconds(30) };
        http.DefaultRequestHeaders.Authorization = new("Bearer", "sk-wrong");
        using var response = await http.PostAsync("/v1/chat/completions",
            new StringContent("""{"messages":[{"role":"user","content":"hi"}]}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains("Invalid API key", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task With_the_shipped_defaults_a_plain_chat_carries_no_tool_prompt_and_mcp_offers_what_can_run()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var client = new ChatClient("flowith", new ApiKeyCredential(AppHostFixture.ApiKey), new OpenAIClientOptions
        {
            Endpoint = new Uri(fixture.GatewayUri, "/v1"),
            NetworkTimeout = TimeSpan.FromSeconds(30),
        });
        const string hello = "Hello! (shipped defaults)";
        await client.CompleteChatAsync([new UserChatMessage(hello)], cancellationToken: timeout.Token);

        // What the upstream was sent: the client's words and nothing else (no server-tool prompt paid for).
        using var fake = new HttpClient { BaseAddress = fixture.App.GetEndpoint("fake-flowith", "http"), Timeout = TimeSpan.FromSeconds(30) };
        using var requests = JsonDocument.Parse(await fake.GetStringAsync("/_fake/requests", timeout.Token));
        var seek = requests.RootElement.EnumerateArray().Last(r => r.GetProperty("path").GetString()!.EndsWith("/seek", StringComparison.Ordinal));
        using var body = JsonDocument.Parse(seek.GetProperty("body").GetString()!);
        var messages = body.RootElement.GetProperty("messages").EnumerateArray().Select(m => m.GetProperty("content").GetString()).ToList();
        Assert.Equal([hello], messages);

        // MCP with a plain key: the built-in tools that can run here (code_interpreter with bubblewrap installed), no
        // CLI tool (CLI mode is off), nothing that needs an unconfigured backend.
        var transport = new HttpClientTransport(new HttpClientTransportOptions
        {
            Endpoint = new Uri(fixture.GatewayUri, "/mcp"),
            TransportMode = HttpTransportMode.StreamableHttp,
            AdditionalHeaders = new Dictionary<string, string> { ["Authorization"] = "Bearer " + AppHostFixture.ApiKey },
        });
        await using (transport)
        {
            await using var mcp = await McpClient.CreateAsync(transport, cancellationToken: timeout.Token);
            var names = (await mcp.ListToolsAsync(cancellationToken: timeout.Token)).Select(t => t.Name).ToList();
            Assert.Equal(File.Exists("/usr/bin/bwrap"), names.Contains("code_interpreter"));
            Assert.DoesNotContain("file_read", names);
            Assert.DoesNotContain("web_search", names); // no SEARCH_URL
            var refused = await mcp.CallToolAsync("file_read", new Dictionary<string, object?> { ["path"] = "x" }, cancellationToken: timeout.Token);
            Assert.True(refused.IsError);
        }
    }

    [Fact]
    public void The_tool_service_as_the_apphost_runs_it_holds_no_secret_in_its_environment()
    {
        // The tool service's own process: it has the workspace under this run's data directory in its environment.
        var marker = $"CLI_WORKSPACE={Path.Combine(fixture.DataDirectory, "workspace")}";
        var services = Directory.GetDirectories("/proc").Select(Path.GetFileName).Where(name => name!.All(char.IsAsciiDigit))
            .Select(pid => (Pid: pid!, Environment: TryRead($"/proc/{pid}/environ")))
            .Where(p => p.Environment?.Contains(marker, StringComparison.Ordinal) == true && p.Environment.Contains("FLOWITH2API_SECRETS_FD=", StringComparison.Ordinal))
            .ToList();
        var service = Assert.Single(services);
        foreach (var secret in new[] { "INTERNAL_SECRET=", "ConnectionStrings__", "IMAGE_API_KEY=", "MCP_SERVERS=", "OTEL_EXPORTER_OTLP_HEADERS=", "REDIS_PASSWORD=", "REDIS_URI=" })
        {
            Assert.DoesNotContain(secret, service.Environment, StringComparison.Ordinal);
        }
    }

    private static string? TryRead(string path)
    {
        try
        {
            return File.ReadAllText(path).Replace('\0', '\n');
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
