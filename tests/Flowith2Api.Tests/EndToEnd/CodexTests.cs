using Flowith2Api.Tests.Infrastructure;

namespace Flowith2Api.Tests.EndToEnd;

/// <summary>
/// The Codex CLI (the npm package, pinned in <c>tests/node-clients</c>) configured the way its users point it at another
/// provider (a <c>model_providers</c> entry with <c>wire_api = "responses"</c>): its real Responses requests — developer
/// messages, function tools, a namespace of tools, web_search, <c>include: ["reasoning.encrypted_content"]</c>,
/// <c>store: false</c>, streaming — must come back as an answer it prints.
/// </summary>
public sealed class CodexTests
{
    [Fact]
    public async Task Codex_exec_prints_the_upstreams_answer()
    {
        await using var cluster = await GatewayCluster.StartAsync();
        var (exitCode, stdout, stderr) = await RunAsync(cluster, "[[fake:text=Hello%20from%20the%20gateway%2C%20Codex.]] say hello");

        Assert.True(exitCode == 0, $"codex exited with {exitCode}:\n{stdout}\n{stderr}");
        Assert.Contains("Hello from the gateway, Codex.", stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("ERROR", stderr, StringComparison.Ordinal);
        Assert.Contains(cluster.Fake.Requests.All, r => r.Path.EndsWith("/seek", StringComparison.Ordinal) && r.Body.Contains("say hello", StringComparison.Ordinal));
    }

    /// <summary>Runs <c>codex exec PROMPT</c> with a throw-away CODEX_HOME whose config names the Gateway as the provider.</summary>
    private static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(GatewayCluster cluster, string prompt)
    {
        var codex = NodeClients.Require("@openai/codex/bin/codex.js");
        var home = Directory.CreateTempSubdirectory("flowith2api-codex-home-").FullName;
        try
        {
            var codexHome = Directory.CreateDirectory(Path.Combine(home, ".codex")).FullName;
            await File.WriteAllTextAsync(Path.Combine(codexHome, "config.toml"), $"""
                model = "flowith"
                model_provider = "flowith2api"

                [model_providers.flowith2api]
                name = "Flowith2Api"
                base_url = "{cluster.GatewayUri.ToString().TrimEnd('/')}/v1"
                env_key = "FLOWITH2API_KEY"
                wire_api = "responses"
                """);
            return await NodeClients.RunNodeAsync([codex, "exec", "--skip-git-repo-check", prompt], new Dictionary<string, string>
            {
                ["HOME"] = home,
                ["CODEX_HOME"] = codexHome,
                ["FLOWITH2API_KEY"] = GatewayCluster.UserKey,
            }, home, TimeSpan.FromMinutes(2));
        }
        finally
        {
            Directory.Delete(home, recursive: true);
        }
    }
}
