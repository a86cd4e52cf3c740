using Flowith2Api.ToolService.Sandbox;
using Flowith2Api.ToolService.Tools.Cli;
using static Flowith2Api.Tests.ToolService.ToolHarness;

namespace Flowith2Api.Tests.ToolService;

public sealed class WorkspaceConfinementTests : IDisposable
{
    private const string OutsideSecret = "outside-secret-7f3a";
    private readonly ToolHarness _harness = new();

    public WorkspaceConfinementTests()
    {
        File.WriteAllText(Path.Combine(_harness.Outside, "secret.txt"), OutsideSecret);
    }

    public void Dispose() => _harness.Dispose();

    [Theory]
    [InlineData("../secret.txt")]
    [InlineData("..")]
    [InlineData("a/../../secret.txt")]
    [InlineData("./../key-b/x.txt")]
    public async Task Paths_that_climb_out_with_dot_dot_are_refused(string path)
    {
        var h = _harness;
        var message = await h.ErrorAsync(new FileReadTool(h.Options), Arguments(new { path }));
        Assert.Contains("'..'", message, StringComparison.Ordinal);
        Assert.DoesNotContain(h.Root, message, StringComparison.Ordinal);
        await h.ErrorAsync(new FileWriteTool(h.Options), Arguments(new { path, content = "x" }));
        Assert.False(File.Exists(Path.Combine(h.Root, "secret.txt")));
    }

    [Theory]
    [InlineData("/etc/passwd")]
    [InlineData("/tmp")]
    [InlineData("~/x")]
    public async Task Absolute_paths_are_refused(string path)
    {
        var h = _harness;
        var message = await h.ErrorAsync(new FileReadTool(h.Options), Arguments(new { path }));
        Assert.Contains("Absolute paths are not allowed", message, StringComparison.Ordinal);
        Assert.Contains("Absolute paths are not allowed", await h.ErrorAsync(new FileListTool(), Arguments(new { path })), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_symlink_to_a_directory_outside_the_workspace_is_not_followed_by_any_file_tool()
    {
        var h = _harness;
        File.CreateSymbolicLink(Path.Combine(h.Workspace, "escape"), h.Outside);

        var message = await h.ErrorAsync(new FileReadTool(h.Options), Arguments(new { path = "escape/secret.txt" }));
        Assert.Contains("symbolic link", message, StringComparison.Ordinal);
        Assert.DoesNotContain(h.Outside, message, StringComparison.Ordinal);
        await h.ErrorAsync(new FileWriteTool(h.Options), Arguments(new { path = "escape/new.txt", content = "x" }));
        await h.ErrorAsync(new FileEditTool(h.Options), Arguments(new { path = "escape/secret.txt", old_string = "outside", new_string = "pwned" }));
        await h.ErrorAsync(new FileListTool(), Arguments(new { path = "escape" }));
        await h.ErrorAsync(new DirectoryCreateTool(), Arguments(new { path = "escape/sub" }));
        await h.ErrorAsync(new FileMoveTool(), Arguments(new { source = "escape/secret.txt", destination = "mine.txt" }));
        await h.ErrorAsync(new DirectoryDeleteTool(), Arguments(new { path = "escape", recursive = true }));
        Assert.False(File.Exists(Path.Combine(h.Outside, "new.txt")));
        Assert.False(Directory.Exists(Path.Combine(h.Outside, "sub")));
        Assert.Equal(OutsideSecret, await File.ReadAllTextAsync(Path.Combine(h.Outside, "secret.txt")));

        // Listing and searching show the link as a link and never look behind it.
        var list = await h.OkAsync(new FileListTool(), Arguments(new { recursive = true }));
        Assert.Contains("\"type\":\"symlink\"", list, StringComparison.Ordinal);
        Assert.DoesNotContain("secret.txt", list, StringComparison.Ordinal);
        Assert.DoesNotContain(h.Outside, list, StringComparison.Ordinal);
        Assert.Contains("No matches", await h.OkAsync(new SearchFilesTool(h.Options), Arguments(new { query = OutsideSecret })), StringComparison.Ordinal);
        var found = await h.OkAsync(new FileSearchTool(), Arguments(new { pattern = "*.txt" }));
        Assert.DoesNotContain("secret.txt", found, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_symlink_to_a_file_outside_is_refused_but_can_itself_be_deleted()
    {
        var h = _harness;
        var outsideFile = Path.Combine(h.Outside, "secret.txt");
        File.CreateSymbolicLink(Path.Combine(h.Workspace, "link.txt"), outsideFile);

        Assert.Contains("symbolic link", await h.ErrorAsync(new FileReadTool(h.Options), Arguments(new { path = "link.txt" })), StringComparison.Ordinal);
        await h.ErrorAsync(new FileWriteTool(h.Options), Arguments(new { path = "link.txt", content = "overwritten" }));
        Assert.Equal(OutsideSecret, await File.ReadAllTextAsync(outsideFile));

        await h.OkAsync(new FileDeleteTool(), Arguments(new { path = "link.txt" }));
        Assert.False(File.Exists(Path.Combine(h.Workspace, "link.txt")));
        Assert.Equal(OutsideSecret, await File.ReadAllTextAsync(outsideFile));
    }

    [Fact]
    public async Task Deleting_a_directory_recursively_removes_links_inside_without_touching_their_targets()
    {
        var h = _harness;
        Directory.CreateDirectory(Path.Combine(h.Workspace, "dir"));
        File.CreateSymbolicLink(Path.Combine(h.Workspace, "dir", "out"), h.Outside);

        await h.OkAsync(new DirectoryDeleteTool(), Arguments(new { path = "dir", recursive = true }));
        Assert.False(Directory.Exists(Path.Combine(h.Workspace, "dir")));
        Assert.Equal(OutsideSecret, await File.ReadAllTextAsync(Path.Combine(h.Outside, "secret.txt")));
    }

    [Fact]
    public async Task A_hard_link_to_a_file_outside_the_workspace_is_refused()
    {
        var h = _harness;
        var outsideFile = Path.Combine(h.Outside, "secret.txt");
        HardLink(outsideFile, Path.Combine(h.Workspace, "hard.txt"));

        var message = await h.ErrorAsync(new FileReadTool(h.Options), Arguments(new { path = "hard.txt" }));
        Assert.Contains("hard links", message, StringComparison.Ordinal);
        Assert.DoesNotContain(OutsideSecret, message, StringComparison.Ordinal);
        await h.ErrorAsync(new FileWriteTool(h.Options), Arguments(new { path = "hard.txt", content = "overwritten" }));
        await h.ErrorAsync(new FileWriteTool(h.Options), Arguments(new { path = "hard.txt", content = "more", append = true }));
        await h.ErrorAsync(new FileEditTool(h.Options), Arguments(new { path = "hard.txt", old_string = "outside", new_string = "pwned" }));
        Assert.Contains("No matches", await h.OkAsync(new SearchFilesTool(h.Options), Arguments(new { query = OutsideSecret })), StringComparison.Ordinal);
        Assert.Equal(OutsideSecret, await File.ReadAllTextAsync(outsideFile));
    }

    [Fact]
    public async Task Another_keys_workspace_is_out_of_reach_of_the_file_tools()
    {
        var h = _harness;
        var other = h.Workspaces.ContextFor("key-b");
        await File.WriteAllTextAsync(Path.Combine(other.Workspace, "theirs.txt"), "key-b data");

        await h.ErrorAsync(new FileReadTool(h.Options), Arguments(new { path = "../key-b/theirs.txt" }));
        Assert.Equal("key-b data", (await RunAsync(new FileReadTool(h.Options), Arguments(new { path = "theirs.txt" }), other)).Text);
        Assert.Contains("does not exist", await h.ErrorAsync(new FileReadTool(h.Options), Arguments(new { path = "theirs.txt" })), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void The_path_resolver_normalizes_inside_paths_and_names_no_host_path(bool openat2)
    {
        var h = _harness;
        using var workspace = WorkspaceDirectory.Open(h.Workspace, openat2);
        var resolved = workspace.Resolve("a/./b/../c.txt");
        Assert.Equal("a/c.txt", resolved.RelativePath);
        Assert.Equal(["a", "c.txt"], resolved.Segments);
        Assert.Equal("/workspace/a/c.txt", resolved.SandboxPath);
        Assert.Equal(FileKind.Missing, resolved.Status.Kind);
        Assert.True(workspace.Resolve(null).IsRoot);
        Assert.True(workspace.Resolve("/workspace").IsRoot);

        Assert.Contains("NUL", Assert.Throws<WorkspacePathException>(() => workspace.Resolve("x\0y")).Message, StringComparison.Ordinal);

        File.WriteAllText(Path.Combine(h.Workspace, "file"), "x");
        Assert.Equal("'file' is not a directory.", Assert.Throws<WorkspacePathException>(() => workspace.Resolve("file/below")).Message);
        File.CreateSymbolicLink(Path.Combine(h.Workspace, "link"), h.Outside);
        Assert.Equal("'link' is a symbolic link; links are not followed by the file tools.",
            Assert.Throws<WorkspacePathException>(() => workspace.Resolve("link/secret.txt")).Message);
        Assert.True(openat2 || !workspace.UsesOpenat2, "the component walk was asked for");
    }
}
