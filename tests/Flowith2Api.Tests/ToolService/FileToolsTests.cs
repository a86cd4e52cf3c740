using System.Text.Json;
using Flowith2Api.ToolService.Tools.Cli;
using static Flowith2Api.Tests.ToolService.ToolHarness;

namespace Flowith2Api.Tests.ToolService;

public sealed class FileToolsTests : IDisposable
{
    private readonly ToolHarness _harness = new();

    public void Dispose() => _harness.Dispose();

    [Fact]
    public async Task A_file_goes_through_write_read_edit_list_search_move_and_delete()
    {
        var h = _harness;
        Assert.Contains("Wrote", await h.OkAsync(new FileWriteTool(h.Options), Arguments(new { path = "src/app.py", content = "print('hello')\nx = 1\n" })), StringComparison.Ordinal);
        Assert.Equal("print('hello')\nx = 1\n", await h.OkAsync(new FileReadTool(h.Options), Arguments(new { path = "src/app.py" })));

        await h.OkAsync(new FileEditTool(h.Options), Arguments(new { path = "src/app.py", old_string = "hello", new_string = "world" }));
        Assert.Equal("print('world')\nx = 1\n", await File.ReadAllTextAsync(Path.Combine(h.Workspace, "src/app.py")));

        await h.OkAsync(new FileWriteTool(h.Options), Arguments(new { path = "src/app.py", content = "y = 2\n", append = true }));
        Assert.Equal("print('world')\nx = 1\ny = 2\n", await File.ReadAllTextAsync(Path.Combine(h.Workspace, "src/app.py")));

        var list = Json(await h.OkAsync(new FileListTool(), Arguments(new { recursive = true })));
        var entries = list.GetProperty("entries").EnumerateArray().ToDictionary(e => e.GetProperty("path").GetString()!, e => e);
        Assert.Equal("directory", entries["src"].GetProperty("type").GetString());
        Assert.Equal("file", entries["src/app.py"].GetProperty("type").GetString());
        Assert.Equal(27, entries["src/app.py"].GetProperty("size").GetInt64());
        Assert.False(list.GetProperty("truncated").GetBoolean());

        var found = Json(await h.OkAsync(new FileSearchTool(), Arguments(new { pattern = "*.py" })));
        Assert.Equal(["src/app.py"], found.GetProperty("matches").EnumerateArray().Select(m => m.GetString()));
        var byPath = Json(await h.OkAsync(new FileSearchTool(), Arguments(new { pattern = "**/*.py" })));
        Assert.Equal(["src/app.py"], byPath.GetProperty("matches").EnumerateArray().Select(m => m.GetString()));
        var none = Json(await h.OkAsync(new FileSearchTool(), Arguments(new { pattern = "*.cs" })));
        Assert.Empty(none.GetProperty("matches").EnumerateArray());

        Assert.Equal("src/app.py:3: y = 2", await h.OkAsync(new SearchFilesTool(h.Options), Arguments(new { query = "y = 2" })));
        Assert.Equal("src/app.py:1: print('world')", await h.OkAsync(new SearchFilesTool(h.Options), Arguments(new { query = @"print\(.w", regex = true })));
        Assert.Contains("No matches", await h.OkAsync(new SearchFilesTool(h.Options), Arguments(new { query = "absent" })), StringComparison.Ordinal);

        await h.OkAsync(new FileMoveTool(), Arguments(new { source = "src/app.py", destination = "lib/main.py" }));
        Assert.False(File.Exists(Path.Combine(h.Workspace, "src/app.py")));
        Assert.True(File.Exists(Path.Combine(h.Workspace, "lib/main.py")));

        await h.OkAsync(new FileDeleteTool(), Arguments(new { path = "lib/main.py" }));
        Assert.False(File.Exists(Path.Combine(h.Workspace, "lib/main.py")));
        Assert.Contains("does not exist", await h.ErrorAsync(new FileReadTool(h.Options), Arguments(new { path = "lib/main.py" })), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Directories_are_created_and_deleted_and_a_non_empty_one_needs_recursive()
    {
        var h = _harness;
        await h.OkAsync(new DirectoryCreateTool(), Arguments(new { path = "a/b/c" }));
        Assert.True(Directory.Exists(Path.Combine(h.Workspace, "a/b/c")));
        Assert.Contains("already exists", await h.OkAsync(new DirectoryCreateTool(), Arguments(new { path = "a/b/c" })), StringComparison.Ordinal);
        await h.OkAsync(new FileWriteTool(h.Options), Arguments(new { path = "a/b/c/file.txt", content = "x" }));

        Assert.Contains("not empty", await h.ErrorAsync(new DirectoryDeleteTool(), Arguments(new { path = "a" })), StringComparison.Ordinal);
        Assert.Contains("directory_delete", await h.ErrorAsync(new FileDeleteTool(), Arguments(new { path = "a" })), StringComparison.Ordinal);
        await h.OkAsync(new DirectoryDeleteTool(), Arguments(new { path = "a", recursive = true }));
        Assert.False(Directory.Exists(Path.Combine(h.Workspace, "a")));

        await h.OkAsync(new DirectoryCreateTool(), Arguments(new { path = "empty" }));
        await h.OkAsync(new DirectoryDeleteTool(), Arguments(new { path = "empty" }));
        Assert.False(Directory.Exists(Path.Combine(h.Workspace, "empty")));
        Assert.Contains("root", await h.ErrorAsync(new DirectoryDeleteTool(), Arguments(new { path = ".", recursive = true })), StringComparison.Ordinal);
        Assert.True(Directory.Exists(h.Workspace));
    }

    [Fact]
    public async Task Edits_must_match_exactly_and_uniquely_unless_replace_all_is_set()
    {
        var h = _harness;
        await h.OkAsync(new FileWriteTool(h.Options), Arguments(new { path = "n.txt", content = "one two one\n" }));
        var edit = new FileEditTool(h.Options);
        Assert.Contains("not found", await h.ErrorAsync(edit, Arguments(new { path = "n.txt", old_string = "three", new_string = "3" })), StringComparison.Ordinal);
        Assert.Contains("occurs 2 times", await h.ErrorAsync(edit, Arguments(new { path = "n.txt", old_string = "one", new_string = "1" })), StringComparison.Ordinal);
        Assert.Contains("2 occurrences", await h.OkAsync(edit, Arguments(new { path = "n.txt", old_string = "one", new_string = "1", replace_all = true })), StringComparison.Ordinal);
        Assert.Equal("1 two 1\n", await File.ReadAllTextAsync(Path.Combine(h.Workspace, "n.txt")));
    }

    [Fact]
    public async Task A_move_never_overwrites_an_existing_destination()
    {
        var h = _harness;
        await h.OkAsync(new FileWriteTool(h.Options), Arguments(new { path = "a.txt", content = "a" }));
        await h.OkAsync(new FileWriteTool(h.Options), Arguments(new { path = "b.txt", content = "b" }));
        Assert.Contains("already exists", await h.ErrorAsync(new FileMoveTool(), Arguments(new { source = "a.txt", destination = "b.txt" })), StringComparison.Ordinal);
        Assert.Equal("b", await File.ReadAllTextAsync(Path.Combine(h.Workspace, "b.txt")));
    }

    [Fact]
    public async Task Reads_over_the_cap_are_refused_but_line_ranges_still_work()
    {
        using var h = new ToolHarness(o => o.MaxReadBytes = 100);
        var lines = string.Concat(Enumerable.Range(1, 50).Select(i => $"line {i}\n"));
        await File.WriteAllTextAsync(Path.Combine(h.Workspace, "big.txt"), lines);

        var read = new FileReadTool(h.Options);
        Assert.Contains("over the read limit of 100 bytes", await h.ErrorAsync(read, Arguments(new { path = "big.txt" })), StringComparison.Ordinal);

        var part = await h.OkAsync(read, Arguments(new { path = "big.txt", offset = 10, limit = 2 }));
        Assert.StartsWith("line 10\nline 11\n", part, StringComparison.Ordinal);
        Assert.Contains("offset=12", part, StringComparison.Ordinal);

        var capped = await h.OkAsync(read, Arguments(new { path = "big.txt", offset = 1 }));
        Assert.True(capped.IndexOf('[', StringComparison.Ordinal) <= 100, "no more than the cap of file text comes back");
        Assert.Contains("read limit", capped, StringComparison.Ordinal);

        Assert.Contains("past the end", await h.ErrorAsync(read, Arguments(new { path = "big.txt", offset = 51 })), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Writes_over_the_cap_are_refused_and_leave_nothing_behind()
    {
        using var h = new ToolHarness(o => o.MaxWriteBytes = 100);
        var write = new FileWriteTool(h.Options);
        Assert.Contains("write limit of 100 bytes", await h.ErrorAsync(write, Arguments(new { path = "big.txt", content = new string('x', 101) })), StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(h.Workspace, "big.txt")));

        await h.OkAsync(write, Arguments(new { path = "small.txt", content = new string('x', 60) }));
        Assert.Contains("write limit", await h.ErrorAsync(write, Arguments(new { path = "small.txt", content = new string('y', 60), append = true })), StringComparison.Ordinal);
        Assert.Equal(60, new FileInfo(Path.Combine(h.Workspace, "small.txt")).Length);
    }

    [Fact]
    public async Task Listings_are_capped_and_say_so()
    {
        var h = _harness;
        for (var i = 0; i < FileListTool.MaxEntries + 5; i++)
        {
            await File.WriteAllTextAsync(Path.Combine(h.Workspace, $"f{i:D5}.txt"), "");
        }

        var list = Json(await h.OkAsync(new FileListTool(), "{}"));
        Assert.Equal(FileListTool.MaxEntries, list.GetProperty("entries").GetArrayLength());
        Assert.True(list.GetProperty("truncated").GetBoolean());
    }

    [Fact]
    public async Task Binary_files_are_not_shown_as_text()
    {
        var h = _harness;
        await File.WriteAllBytesAsync(Path.Combine(h.Workspace, "blob.bin"), [1, 2, 0, 3]);
        Assert.Contains("binary", await h.ErrorAsync(new FileReadTool(h.Options), Arguments(new { path = "blob.bin" })), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Missing_or_mistyped_arguments_are_clear_errors()
    {
        var h = _harness;
        Assert.Contains("'path' is required", await h.ErrorAsync(new FileReadTool(h.Options), "{}"), StringComparison.Ordinal);
        Assert.Contains("'offset' must be a whole number", await h.ErrorAsync(new FileReadTool(h.Options), Arguments(new { path = "x", offset = "ten" })), StringComparison.Ordinal);
        Assert.Contains("'content' is required", await h.ErrorAsync(new FileWriteTool(h.Options), Arguments(new { path = "x" })), StringComparison.Ordinal);
        Assert.Contains("JSON object", await h.ErrorAsync(new FileListTool(), "[1]"), StringComparison.Ordinal);
        Assert.Contains("valid regular expression", await h.ErrorAsync(new SearchFilesTool(h.Options), Arguments(new { query = "(", regex = true })), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Paths_written_as_the_sandbox_sees_them_are_accepted()
    {
        var h = _harness;
        await h.OkAsync(new FileWriteTool(h.Options), Arguments(new { path = "/workspace/notes/a.txt", content = "hi" }));
        Assert.Equal("hi", await h.OkAsync(new FileReadTool(h.Options), Arguments(new { path = "notes/a.txt" })));
    }

    [Fact]
    public void Every_cli_tool_has_an_object_schema_and_a_unique_name()
    {
        var h = _harness;
        Flowith2Api.ToolService.Tools.ITool[] tools =
        [
            new FileReadTool(h.Options), new FileWriteTool(h.Options), new FileEditTool(h.Options), new FileDeleteTool(),
            new FileMoveTool(), new FileListTool(), new FileSearchTool(), new DirectoryCreateTool(), new DirectoryDeleteTool(),
            new SearchFilesTool(h.Options), new BashExecuteTool(h.Sandbox, h.Options), new GitStatusTool(h.Sandbox, h.Options),
            new GitDiffTool(h.Sandbox, h.Options), new EnvironmentInfoTool(h.Sandbox, h.Options),
        ];
        Assert.Equal(tools.Length, tools.Select(t => t.Name).Distinct().Count());
        Assert.All(tools, t =>
        {
            Assert.Equal(Flowith2Api.ToolService.Tools.ToolKind.Cli, t.Kind);
            Assert.Equal(JsonValueKind.Object, t.InputSchema.ValueKind);
            Assert.Equal("object", t.InputSchema.GetProperty("type").GetString());
            Assert.False(string.IsNullOrWhiteSpace(t.Description));
        });
    }
}
