using System.Diagnostics;
using System.Text.Json;
using Flowith2Api.ToolService.Tools;
using Flowith2Api.ToolService.Tools.Cli;
using static Flowith2Api.Tests.ToolService.Races.RaceJudge;

namespace Flowith2Api.Tests.ToolService.Races;

/// <summary>
/// Every file tool, run in a loop while another thread keeps swapping a path component for a symbolic link that leads
/// out of the workspace: the leaf (<c>x</c>) and a directory in the middle (<c>d/…</c>). Read-only tools are aimed at
/// the real prizes (another key's workspace, <c>/etc/passwd</c>, the process's own <c>/proc/self/environ</c>); tools
/// that change things at decoys made for the test (a directory outside every workspace, another key's workspace), so a
/// regression damages nothing of the machine's. An escape is a result showing anything from outside, or an outside
/// target written, moved or deleted. <see cref="McpRaceTests"/> runs the same attack through the Gateway.
/// </summary>
public sealed class FileToolRaceTests : IDisposable
{
    /// <summary>Tool calls per tool and per shape (the leaf, the middle directory).</summary>
    public const int Attempts = 10_000;

    /// <summary>Flips of the raced path each run waits for, at least.</summary>
    private const int MinFlips = 500;

    private static readonly TimeSpan LoopTimeout = TimeSpan.FromMinutes(3);

    private readonly ToolHarness _harness = new();
    private readonly RaceJudge _judge;

    public FileToolRaceTests()
    {
        _judge = new RaceJudge(_harness.Root, _harness.Outside, _harness.Workspaces.ContextFor("key-b").Workspace);
        _judge.Plant();
    }

    public void Dispose() => _harness.Dispose();

    public static readonly TheoryData<string, bool> ReadOnly = WithBothResolutions(ReadOnlyTools);

    public static readonly TheoryData<string, bool> Changing = WithBothResolutions(ChangingTools);

    /// <summary>Each tool with openat2 and with the component walk that stands in for it where the kernel lacks it.</summary>
    private static TheoryData<string, bool> WithBothResolutions(string[] tools)
    {
        var data = new TheoryData<string, bool>();
        foreach (var tool in tools)
        {
            data.Add(tool, true);
            data.Add(tool, false);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(ReadOnly))]
    public async Task A_read_only_tool_never_shows_what_a_swapped_in_link_leads_to(string tool, bool openat2)
    {
        var context = _harness.Context with { UseOpenat2 = openat2 };
        var leafTargets = new[] { _judge.OutsideFile, _judge.OtherFile, "/etc/passwd", "/proc/self/environ" };
        var leaf = await RaceAsync(tool, context, PathSwapper.File(Path.Combine(_harness.Workspace, "x"), Inside, leafTargets), "x");

        // A directory in the middle: each target directory holds a file of the same name as the real one.
        var middle = new RaceOutcome();
        foreach (var (directory, name) in new[] { (_judge.OutsideDirectory, SecretName), (_judge.OtherWorkspace, SecretName), ("/etc", "passwd"), ("/proc/self", "environ") })
        {
            var d = "d-" + Path.GetFileName(directory);
            middle.Add(await RaceAsync(tool, context, PathSwapper.Directory(Path.Combine(_harness.Workspace, d), name, Inside, [directory]), $"{d}/{name}",
                Attempts / 4, d));
        }

        RaceOutcome.AssertNoEscape(tool, leaf, middle, MinFlips);
        _judge.AssertOutsideUntouched();
    }

    [Theory]
    [MemberData(nameof(Changing))]
    public async Task A_changing_tool_never_writes_moves_or_deletes_what_a_swapped_in_link_leads_to(string tool, bool openat2)
    {
        var context = _harness.Context with { UseOpenat2 = openat2 };
        var leaf = await RaceAsync(tool, context, PathSwapper.File(Path.Combine(_harness.Workspace, "x"), Inside, [_judge.OutsideFile, _judge.OtherFile]), "x");
        _judge.AssertOutsideUntouched();

        var middle = new RaceOutcome();
        foreach (var directory in new[] { _judge.OutsideDirectory, _judge.OtherWorkspace })
        {
            var d = "d-" + Path.GetFileName(directory);
            middle.Add(await RaceAsync(tool, context, PathSwapper.Directory(Path.Combine(_harness.Workspace, d), SecretName, Inside, [directory]),
                $"{d}/{SecretName}", Attempts / 2, d));
            _judge.AssertOutsideUntouched();
        }

        RaceOutcome.AssertNoEscape(tool, leaf, middle, MinFlips);
    }

    /// <summary>Runs one tool <paramref name="attempts"/> times against a path while <paramref name="swapper"/> flips it.</summary>
    private async Task<RaceOutcome> RaceAsync(string toolName, ToolContext context, PathSwapper swapper, string path, int attempts = Attempts,
        string? directory = null)
    {
        var changes = ChangingTools.Contains(toolName);
        var tool = CreateTool(toolName);
        var outcome = new RaceOutcome();
        using (swapper)
        {
            var clock = Stopwatch.StartNew();
            await Task.Run(async () =>
            {
                // At least the attempts asked for, and on until the path has flipped often enough to have raced them.
                for (var i = 0; i < attempts || swapper.Flips < MinFlips; i++)
                {
                    var result = await ToolHarness.RunAsync(tool, JsonSerializer.Serialize(ArgumentsFor(toolName, path, directory, i)), context);
                    var escape = _judge.Escaped(toolName, result.IsError, result.Text, directory) ?? (changes ? _judge.DamageOutside(toolName) : null);
                    outcome.Record(result.IsError, result.Text, escape);
                }
            }).WaitAsync(LoopTimeout);
            outcome.Elapsed = clock.Elapsed;
            outcome.Flips = swapper.Flips;
        }

        return outcome;
    }

    private static ITool CreateTool(string name)
    {
        var options = Microsoft.Extensions.Options.Options.Create(new Flowith2Api.ToolService.ToolOptions());
        return name switch
        {
            "file_read" => new FileReadTool(options),
            "file_list" => new FileListTool(),
            "file_search" => new FileSearchTool(),
            "search_files" => new SearchFilesTool(options),
            "file_write" => new FileWriteTool(options),
            "file_edit" => new FileEditTool(options),
            "file_delete" => new FileDeleteTool(),
            "file_move" => new FileMoveTool(),
            "directory_create" => new DirectoryCreateTool(),
            "directory_delete" => new DirectoryDeleteTool(),
            _ => throw new ArgumentOutOfRangeException(nameof(name)),
        };
    }
}
