using Flowith2Api.FakeFlowith;
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

    /// <summary>
    /// The model (the fake) asks for Codex's exec_command; Codex runs the command in its workspace and sends the output back
    /// as a function_call_output (echoing its function_call item); the answer to that is what it prints.
    /// </summary>
    [Fact]
    public async Task Codex_runs_a_command_the_model_calls_and_sends_back_its_output()
    {
        const string Token = "flo_codex_tools_credential";
        await using var cluster = await GatewayCluster.StartAsync(new GatewayClusterOptions { FlowithTokens = Token });
        cluster.Fake.Scenarios.Enqueue(Token,
            new FakeScenario { Text = "Let me look. <tool_call name=\"exec_command\">{\"cmd\": \"cat note.txt\"}</tool_call>", ChunkSize = 7 },
            new FakeScenario { Text = "The note says the launch code is tangerine-42.", ChunkSize = 7 });
        var (exitCode, stdout, stderr) = await RunAsync(cluster, "What does note.txt say?",
            home => File.WriteAllText(Path.Combine(home, "note.txt"), "The launch code is tangerine-42."), "--dangerously-bypass-approvals-and-sandbox");

        Assert.True(exitCode == 0, $"codex exited with {exitCode}:\n{stdout}\n{stderr}");
        Assert.Contains("The note says the launch code is tangerine-42.", stdout, StringComparison.Ordinal);
        var seek = cluster.Fake.Requests.All.Where(r => r.Path.EndsWith("/seek", StringComparison.Ordinal)).ToList();
        Assert.Contains(seek, r => r.Body.Contains("tangerine-42", StringComparison.Ordinal) && r.Body.Contains("tool_result", StringComparison.Ordinal));
    }

    /// <summary>Runs <c>codex exec PROMPT</c> with a throw-away CODEX_HOME whose config names the Gateway as the provider.</summary>
    private static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(GatewayCluster cluster, string prompt, Action<string>? prepare = null,
        params string[] extraArguments)
    {
        var codex = NodeClients.Require("@openai/codex/bin/codex.js");
        var home = Directory.CreateTempSubdirectory("flowith2api-codex-home-").FullName;
        try
        {
            prepare?.Invoke(home);
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
            return await NodeClients.RunNodeAsync([codex, "exec", "--skip-git-repo-check", .. extraArguments, prompt], new Dictionary<string, string>
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
