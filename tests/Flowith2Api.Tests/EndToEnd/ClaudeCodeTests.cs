using System.Text.Json;
using Flowith2Api.FakeFlowith;
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

    /// <summary>
    /// The model (the fake) asks for Claude Code's Read tool; Claude Code runs it on its own machine and sends the file
    /// back as a tool_result; the answer to that is what it prints.
    /// </summary>
    [Fact]
    public async Task Claude_code_runs_a_tool_the_model_calls_and_sends_back_its_result()
    {
        const string Token = "flo_claude_code_tools_credential";
        await using var cluster = await GatewayCluster.StartAsync(new GatewayClusterOptions
        {
            FlowithTokens = Token,
            ChatSettings = new Dictionary<string, string> { ["MODEL_ALIASES"] = "claude-*=claude-sonnet-4" },
        });
        var (exitCode, output) = await RunAsync(cluster, "What does note.txt say?", home =>
        {
            var note = Path.Combine(home, "note.txt");
            File.WriteAllText(note, "The launch code is tangerine-42.");
            cluster.Fake.Scenarios.Enqueue(Token,
                new FakeScenario { Text = $"Let me read it. <tool_call name=\"Read\">{{\"file_path\": \"{note}\"}}</tool_call>", ChunkSize = 7 },
                new FakeScenario { Text = "The note says the launch code is tangerine-42.", ChunkSize = 7 });
        }, "--allowedTools", "Read");

        Assert.True(exitCode == 0, $"claude exited with {exitCode}:\n{output}");
        var result = JsonDocument.Parse(output.Trim().Split('\n')[^1]).RootElement;
        Assert.False(result.GetProperty("is_error").GetBoolean(), output);
        Assert.Equal("The note says the launch code is tangerine-42.", result.GetProperty("result").GetString());
        Assert.True(result.GetProperty("num_turns").GetInt32() >= 2, output);

        // The second upstream call carried the file's text back as the tool's result.
        var seek = cluster.Fake.Requests.All.Where(r => r.Path.EndsWith("/seek", StringComparison.Ordinal)).ToList();
        Assert.Contains(seek, r => r.Body.Contains("tangerine-42", StringComparison.Ordinal) && r.Body.Contains("tool_result", StringComparison.Ordinal));
    }

    /// <summary>Runs <c>claude -p PROMPT --output-format json</c> with a throw-away home, no telemetry and no update checks.</summary>
    private static async Task<(int ExitCode, string Output)> RunAsync(GatewayCluster cluster, string prompt, Action<string>? prepare = null,
        params string[] extraArguments)
    {
        var wrapper = NodeClients.Require("@anthropic-ai/claude-code/cli-wrapper.cjs");
        var home = Directory.CreateTempSubdirectory("flowith2api-claude-home-").FullName;
        try
        {
            prepare?.Invoke(home);
            var (exitCode, stdout, stderr) = await NodeClients.RunNodeAsync([wrapper, "-p", prompt, "--output-format", "json", .. extraArguments], new Dictionary<string, string>
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
