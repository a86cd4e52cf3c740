using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using Flowith2Api.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using ModelContextProtocol.Protocol;

namespace Flowith2Api.Tests.ToolService;

/// <summary>An external MCP server's tools join the registry, namespaced by the server's name.</summary>
public sealed class ExternalMcpServerTests
{
    private static async Task<WebApplication> StartMcpServerAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Services.AddMcpServer()
            .WithHttpTransport(options => options.Stateless = true)
            .WithListToolsHandler((_, _) => ValueTask.FromResult(new ListToolsResult
            {
                Tools =
                [
                    new Tool
                    {
                        Name = "lookup",
                        Description = "Looks a word up",
                        InputSchema = JsonDocument.Parse("""{"type":"object","properties":{"word":{"type":"string"}},"required":["word"]}""").RootElement.Clone(),
                    },
                ],
            }))
            .WithCallToolHandler((request, _) => ValueTask.FromResult(new CallToolResult
            {
                Content = [new TextContentBlock { Text = "definition of " + request.Params!.Arguments!["word"].GetString() }],
            }));
        var app = builder.Build();
        app.MapMcp("/mcp");
        await app.StartAsync();
        return app;
    }

    [Fact]
    public async Task The_tools_of_a_configured_mcp_server_can_be_listed_and_run()
    {
        await using var server = await StartMcpServerAsync();
        var url = new Uri(new Uri(server.Urls.First()), "/mcp");
        await using var cluster = await GatewayCluster.StartAsync(new GatewayClusterOptions
        {
            ToolSettings = new Dictionary<string, string> { ["MCP_SERVERS"] = $"docs={url}", ["OUTBOUND_ALLOWED_HOSTS"] = $"{url.Host}:{url.Port}" },
        });
        using var admin = cluster.CreateClient(GatewayCluster.AdminKeyValue);

        var clock = Stopwatch.StartNew();
        while (!(await admin.GetStringAsync("/v1/admin/tools")).Contains("docs__lookup", StringComparison.Ordinal))
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(15), "the external tools never appeared");
            await Task.Delay(100);
        }

        using var response = await admin.PostAsync("/v1/admin/tools/execute",
            new StringContent("""{"tool":"docs__lookup","arguments":{"word":"gateway"}}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var result = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.False(result.GetProperty("is_error").GetBoolean());
        Assert.Equal("definition of gateway", result.GetProperty("result").GetString());
    }
}
