using System.Net;
using System.Text.Json;
using Flowith2Api.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace Flowith2Api.Tests.ToolService;

/// <summary>The official MCP client against the tools, through the Gateway.</summary>
public sealed class McpEndpointTests
{
    private static async Task<(McpClient Client, HttpClientTransport Transport)> ConnectAsync(GatewayCluster cluster, string? apiKey)
    {
        var headers = new Dictionary<string, string>();
        if (apiKey is not null)
        {
            headers["Authorization"] = "Bearer " + apiKey;
        }

        var transport = new HttpClientTransport(new HttpClientTransportOptions
        {
            Endpoint = new Uri(cluster.GatewayUri, "/mcp"),
            TransportMode = HttpTransportMode.StreamableHttp,
            AdditionalHeaders = headers,
        });
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            return (await McpClient.CreateAsync(transport, cancellationToken: timeout.Token), transport);
        }
        catch
        {
            await transport.DisposeAsync();
            throw;
        }
    }

    [Fact]
    public async Task An_mcp_client_lists_and_calls_the_tools_through_the_gateway()
    {
        await using var search = await TestBackend.StartAsync((app, _) => app.MapGet("/search", (HttpContext context) => Results.Json(new
        {
            results = new[] { new { title = "MCP", url = "https://modelcontextprotocol.io", content = "The Model Context Protocol." } },
        })));
        await using var cluster = await GatewayCluster.StartAsync(new GatewayClusterOptions
        {
            ToolSettings = new Dictionary<string, string> { ["SEARCH_URL"] = search.Uri.ToString(), ["OUTBOUND_ALLOWED_HOSTS"] = search.HostAndPort },
        });

        var (client, transport) = await ConnectAsync(cluster, GatewayCluster.UserKey);
        try
        {
            var tools = await client.ListToolsAsync();
            var webSearch = Assert.Single(tools, t => t.Name == "web_search");
            Assert.Equal("object", webSearch.JsonSchema.GetProperty("type").GetString());
            Assert.DoesNotContain(tools, t => t.Name == "image_gen"); // not configured, so not offered

            var result = await client.CallToolAsync("web_search", new Dictionary<string, object?> { ["query"] = "what is mcp" });
            Assert.NotEqual(true, result.IsError);
            var text = Assert.IsType<TextContentBlock>(Assert.Single(result.Content)).Text;
            Assert.Equal("The Model Context Protocol.", JsonDocument.Parse(text).RootElement.GetProperty("results")[0].GetProperty("snippet").GetString());

            var missing = await client.CallToolAsync("no_such_tool", new Dictionary<string, object?>());
            Assert.True(missing.IsError);
        }
        finally
        {
            await client.DisposeAsync();
            await transport.DisposeAsync();
        }
    }

    [Fact]
    public async Task Without_an_api_key_the_mcp_endpoint_is_a_401()
    {
        await using var cluster = await GatewayCluster.StartAsync();
        var error = await Assert.ThrowsAsync<HttpRequestException>(() => ConnectAsync(cluster, apiKey: null));
        Assert.Equal(HttpStatusCode.Unauthorized, error.StatusCode);

        var wrong = await Assert.ThrowsAsync<HttpRequestException>(() => ConnectAsync(cluster, "sk-wrong"));
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
    }
}
