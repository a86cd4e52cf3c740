using Flowith2Api.ToolService.Sandbox;
using Flowith2Api.ToolService.Tools.Builtin;
using Flowith2Api.ToolService.Tools.Cli;
using static Flowith2Api.Tests.ToolService.ToolHarness;

namespace Flowith2Api.Tests.ToolService;

public sealed class SandboxUnavailableTests : IDisposable
{
    private readonly ToolHarness _harness = new();
    private readonly BubblewrapSandbox _missing = new(bwrapPath: "/nonexistent/bin/bwrap");

    public void Dispose() => _harness.Dispose();

    [Fact]
    public void A_sandbox_without_bubblewrap_reports_itself_unavailable_with_a_reason()
    {
        Assert.False(_missing.IsAvailable);
        Assert.Contains("bubblewrap", _missing.UnavailableReason, StringComparison.Ordinal);
        Assert.DoesNotContain("/nonexistent", _missing.UnavailableReason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Command_tools_refuse_to_run_without_the_sandbox()
    {
        var h = _harness;
        var marker = Path.Combine(h.Workspace, "ran.txt");
        var bash = await h.ErrorAsync(new BashExecuteTool(_missing, h.Options), Arguments(new { command = "touch ran.txt" }));
        Assert.Equal(_missing.UnavailableReason, bash);
        Assert.Contains("never run without the sandbox", bash, StringComparison.Ordinal);
        Assert.False(File.Exists(marker));

        Assert.Equal(_missing.UnavailableReason, await h.ErrorAsync(new GitStatusTool(_missing, h.Options), "{}"));
        Assert.Equal(_missing.UnavailableReason, await h.ErrorAsync(new GitDiffTool(_missing, h.Options), "{}"));
        Assert.Equal(_missing.UnavailableReason, await h.ErrorAsync(
            new CodeInterpreterTool(_missing, h.Options),
            Arguments(new { language = "python", code = "open('ran.txt','w')" })));
        Assert.False(File.Exists(marker));
    }

    [Fact]
    public async Task Running_on_an_unavailable_sandbox_throws_instead_of_running_unsandboxed()
    {
        var h = _harness;
        await Assert.ThrowsAsync<InvalidOperationException>(() => _missing.RunAsync(
            new SandboxCommand { Program = "touch", Arguments = ["ran.txt"], Workspace = h.Workspace },
            CancellationToken.None));
        Assert.False(File.Exists(Path.Combine(h.Workspace, "ran.txt")));
    }

    [Fact]
    public async Task File_tools_keep_working_without_the_sandbox()
    {
        var h = _harness;
        await h.OkAsync(new FileWriteTool(h.Options), Arguments(new { path = "a.txt", content = "fine" }));
        Assert.Equal("fine", await h.OkAsync(new FileReadTool(h.Options), Arguments(new { path = "a.txt" })));
        Assert.Contains("\"available\":false", await h.OkAsync(new EnvironmentInfoTool(_missing, h.Options), "{}"), StringComparison.Ordinal);
    }
}
