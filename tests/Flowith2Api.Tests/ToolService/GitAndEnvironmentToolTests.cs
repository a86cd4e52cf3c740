using Flowith2Api.ToolService.Tools.Cli;
using static Flowith2Api.Tests.ToolService.ToolHarness;

namespace Flowith2Api.Tests.ToolService;

public sealed class GitAndEnvironmentToolTests : IDisposable
{
    private readonly ToolHarness _harness = new();
    private readonly BashExecuteTool _bash;

    public GitAndEnvironmentToolTests()
    {
        _bash = new BashExecuteTool(_harness.Sandbox, _harness.Options);
    }

    public void Dispose() => _harness.Dispose();

    [Fact]
    public async Task Git_status_outside_a_repository_says_so_plainly()
    {
        var h = _harness;
        var message = await h.ErrorAsync(new GitStatusTool(h.Sandbox, h.Options), "{}");
        Assert.Contains("not inside a git repository", message, StringComparison.Ordinal);
        Assert.DoesNotContain(h.Root, message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Git_status_works_on_a_fresh_repository_and_shows_untracked_files()
    {
        var h = _harness;
        await AssertRanAsync("git init -q");
        await File.WriteAllTextAsync(Path.Combine(h.Workspace, "new.txt"), "x");

        var status = await h.OkAsync(new GitStatusTool(h.Sandbox, h.Options), "{}");
        Assert.Contains("No commits yet", status, StringComparison.Ordinal);
        Assert.Contains("new.txt", status, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Git_diff_shows_unstaged_and_staged_changes_of_a_file()
    {
        var h = _harness;
        await File.WriteAllTextAsync(Path.Combine(h.Workspace, "a.txt"), "old line\n");
        await AssertRanAsync("git init -q && git add a.txt && git -c user.email=t@example.com -c user.name=t commit -qm init");
        await File.WriteAllTextAsync(Path.Combine(h.Workspace, "a.txt"), "new line\n");

        var diff = new GitDiffTool(h.Sandbox, h.Options);
        var unstaged = await h.OkAsync(diff, Arguments(new { path = "a.txt" }));
        Assert.Contains("-old line", unstaged, StringComparison.Ordinal);
        Assert.Contains("+new line", unstaged, StringComparison.Ordinal);
        Assert.Equal("No staged changes.", await h.OkAsync(diff, Arguments(new { staged = true })));

        await AssertRanAsync("git add a.txt");
        Assert.Contains("+new line", await h.OkAsync(diff, Arguments(new { staged = true })), StringComparison.Ordinal);
        Assert.Equal("No unstaged changes.", await h.OkAsync(diff, "{}"));
    }

    [Fact]
    public async Task Environment_info_describes_the_sandbox_and_never_shows_environment_values()
    {
        var h = _harness;
        Environment.SetEnvironmentVariable("F2A_TEST_SECRET", "s3cr3t-value");
        var text = await h.OkAsync(new EnvironmentInfoTool(h.Sandbox, h.Options), "{}");
        Assert.DoesNotContain("s3cr3t-value", text, StringComparison.Ordinal);
        Assert.DoesNotContain("F2A_TEST_SECRET", text, StringComparison.Ordinal);
        Assert.DoesNotContain(h.Root, text, StringComparison.Ordinal);
        var home = Environment.GetEnvironmentVariable("HOME");
        if (!string.IsNullOrEmpty(home) && home != "/")
        {
            Assert.DoesNotContain($"\"{home}", text, StringComparison.Ordinal);
        }

        var info = Json(text);
        Assert.Equal("/workspace", info.GetProperty("workspace").GetString());
        Assert.Equal(Environment.ProcessorCount, info.GetProperty("processor_count").GetInt32());
        Assert.Equal(Environment.Version.ToString(), info.GetProperty("dotnet_version").GetString());
        Assert.True(info.GetProperty("programs").GetProperty("bash").GetBoolean());
        Assert.True(info.GetProperty("programs").GetProperty("git").GetBoolean());
        Assert.True(info.GetProperty("sandbox").GetProperty("available").GetBoolean());
        Assert.False(string.IsNullOrEmpty(info.GetProperty("architecture").GetString()));
    }

    private async Task AssertRanAsync(string command)
    {
        var result = Json(await _harness.OkAsync(_bash, Arguments(new { command })));
        Assert.True(result.GetProperty("exit_code").GetInt32() == 0, result.GetProperty("stderr").GetString());
    }
}
