using System.Diagnostics;
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
        var directory = Path.Combine(TestEnvironment.RepositoryRoot, "tests", "node-clients");
        var wrapper = Path.Combine(directory, "node_modules", "@anthropic-ai", "claude-code", "cli-wrapper.cjs");
        if (!File.Exists(wrapper))
        {
            throw new InvalidOperationException($"Claude Code is not installed in {directory}: run ./build.sh test (npm ci there).");
        }

        var home = Directory.CreateTempSubdirectory("flowith2api-claude-home-").FullName;
        try
        {
            var start = new ProcessStartInfo("node", [wrapper, "-p", prompt, "--output-format", "json"])
            {
                WorkingDirectory = home,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                RedirectStandardInput = true,
            };
            start.Environment["HOME"] = home;
            start.Environment["ANTHROPIC_BASE_URL"] = cluster.GatewayUri.ToString().TrimEnd('/');
            start.Environment["ANTHROPIC_API_KEY"] = GatewayCluster.UserKey;
            start.Environment["CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC"] = "1";
            start.Environment["DISABLE_AUTOUPDATER"] = "1";
            start.Environment["DISABLE_TELEMETRY"] = "1";
            start.Environment["DISABLE_ERROR_REPORTING"] = "1";
            start.Environment["CI"] = "true";
            using var claude = Process.Start(start) ?? throw new InvalidOperationException("node did not start: install nodejs (./build.sh deps).");
            claude.StandardInput.Close();
            var stdout = claude.StandardOutput.ReadToEndAsync();
            var stderr = claude.StandardError.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
            try
            {
                await claude.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                claude.Kill(entireProcessTree: true);
                throw new TimeoutException($"claude did not finish in 2 minutes:\n{await stdout}\n{await stderr}");
            }

            return (claude.ExitCode, await stdout + (claude.ExitCode == 0 ? "" : "\n" + await stderr));
        }
        finally
        {
            Directory.Delete(home, recursive: true);
        }
    }
}
