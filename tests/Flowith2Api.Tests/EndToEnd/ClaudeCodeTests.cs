using System.Text.Json;
using Flowith2Api.Tests.Infrastructure;

namespace Flowith2Api.Tests.EndToEnd;

/// <summary>
/// Claude Code itself (the npm package, pinned in <c>tests/node-clients</c>) pointed at the Gateway the way its users do
/// it (<c>ANTHROPIC_BASE_URL</c>, <c>ANTHROPIC_API_KEY</c>, one <c>MODEL_ALIASES</c> entry for the Claude ids it sends):
/// its real requests — a large system prompt, dozens of tools, cache_control, metadata, beta headers, streaming — must
/// come back as an answer it prints.
/// </summary>
public sealed class ClaudeCodeTests
{
    [Fact]
    public async Task Claude_code_prints_the_upstreams_answer()
    {
        await using var cluster = await GatewayCluster.StartAsync(new GatewayClusterOptions
        {
            ChatSettings = new Dictionary<string, string> { ["MODEL_ALIASES"] = "claude-*=claude-sonnet-4" },
        });
        var (exitCode, output) = await RunAsync(cluster, "[[fake:text=Hello%20from%20the%20gateway.]] say hello");

        Assert.True(exitCode == 0, $"claude exited with {exitCode}:\n{output}");
        var result = JsonDocument.Parse(output.Trim().Split('\n')[^1]).RootElement;
        Assert.Equal("result", result.GetProperty("type").GetString());
        Assert.False(result.GetProperty("is_error").GetBoolean(), output);
        Assert.Equal("Hello from the gateway.", result.GetProperty("result").GetString());

        // What it sent went through the Anthropic route (streamed, with its tools) and reached the upstream.
        var seek = cluster.Fake.Requests.All.Where(r => r.Path.EndsWith("/seek", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(seek);
        Assert.Contains(seek, r => r.Body.Contains("Hello%20from%20the%20gateway", StringComparison.Ordinal));
    }

    /// <summary>Runs <c>claude -p PROMPT --output-format json</c> with a throw-away home, no telemetry and no update checks.</summary>
    private static async Task<(int ExitCode, string Output)> RunAsync(GatewayCluster cluster, string prompt)
    {
        var wrapper = NodeClients.Require("@anthropic-ai/claude-code/cli-wrapper.cjs");
        var home = Directory.CreateTempSubdirectory("flowith2api-claude-home-").FullName;
        try
        {
            var (exitCode, stdout, stderr) = await NodeClients.RunNodeAsync([wrapper, "-p", prompt, "--output-format", "json"], new Dictionary<string, string>
            {
                ["HOME"] = home,
                ["ANTHROPIC_BASE_URL"] = cluster.GatewayUri.ToString().TrimEnd('/'),
                ["ANTHROPIC_API_KEY"] = GatewayCluster.UserKey,
                ["CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC"] = "1",
                ["DISABLE_AUTOUPDATER"] = "1",
                ["DISABLE_TELEMETRY"] = "1",
                ["DISABLE_ERROR_REPORTING"] = "1",
                ["CI"] = "true",
            }, home, TimeSpan.FromMinutes(2));
            return (exitCode, stdout + (exitCode == 0 ? "" : "\n" + stderr));
        }
        finally
        {
            Directory.Delete(home, recursive: true);
        }
    }
}
