using System.Diagnostics;
using System.Text.Json;
using Flowith2Api.ToolService.Tools;
using Flowith2Api.ToolService.Tools.Cli;
using static Flowith2Api.Tests.ToolService.ToolHarness;

namespace Flowith2Api.Tests.ToolService.Races;

/// <summary>
/// Every file tool, run in a loop while another thread keeps swapping a path component for a symbolic link that leads
/// out of the workspace: the leaf (<c>x</c>) and a directory in the middle (<c>d/…</c>). Read-only tools are aimed at
/// the real prizes (another key's workspace, <c>/etc/passwd</c>, the process's own <c>/proc/self/environ</c>); tools
/// that change things at decoys made for the test (a directory outside every workspace, another key's workspace), so a
/// regression damages nothing of the machine's. An escape is a result showing anything from outside, or an outside
/// target written, moved or deleted.
/// </summary>
public sealed class FileToolRaceTests : IDisposable
{
    /// <summary>Tool calls per tool and per shape (the leaf, the middle directory).</summary>
    public const int Attempts = 10_000;

    /// <summary>Flips of the raced path each run waits for, at least.</summary>
    private const int MinFlips = 500;

    private const string Inside = "inside-content-of-the-workspace";
    private const string OutsideSecret = "outside-secret-4b1f";
    private const string OtherKeySecret = "other-key-secret-9c2e";
    private static readonly TimeSpan LoopTimeout = TimeSpan.FromMinutes(3);

    private readonly ToolHarness _harness = new();
    private readonly string _outsideFile;
    private readonly string _otherWorkspace;
    private readonly string _otherFile;
    private readonly string _environMarker;

    public FileToolRaceTests()
    {
        _outsideFile = Path.Combine(_harness.Outside, "secret.txt");
        File.WriteAllText(_outsideFile, OutsideSecret);
        _otherWorkspace = _harness.Workspaces.ContextFor("key-b").Workspace;
        _otherFile = Path.Combine(_otherWorkspace, "secret.txt");
        File.WriteAllText(_otherFile, OtherKeySecret);
        // Something every process's initial environment holds, and no workspace file does.
        _environMarker = "PATH=";
    }

    public void Dispose() => _harness.Dispose();

    private static readonly string[] ChangingToolNames = ["file_write", "file_edit", "file_delete", "file_move", "directory_create", "directory_delete"];

    public static readonly TheoryData<string, bool> ReadOnlyTools = WithBothResolutions("file_read", "file_list", "file_search", "search_files");

    public static readonly TheoryData<string, bool> ChangingTools = WithBothResolutions(ChangingToolNames);

    /// <summary>Each tool with openat2 and with the component walk that stands in for it where the kernel lacks it.</summary>
    private static TheoryData<string, bool> WithBothResolutions(params string[] tools)
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
    [MemberData(nameof(ReadOnlyTools))]
    public async Task A_read_only_tool_never_shows_what_a_swapped_in_link_leads_to(string tool, bool openat2)
    {
        var context = _harness.Context with { UseOpenat2 = openat2 };
        var leafTargets = new[] { _outsideFile, _otherFile, "/etc/passwd", "/proc/self/environ" };
        var leaf = await RaceAsync(tool, context, PathSwapper.File(Path.Combine(_harness.Workspace, "x"), Inside, leafTargets), "x");

        // A directory in the middle: each target directory holds a file of the same name as the real one.
        var middle = new RaceOutcome();
        foreach (var (directory, name) in new[] { (_harness.Outside, "secret.txt"), (_otherWorkspace, "secret.txt"), ("/etc", "passwd"), ("/proc/self", "environ") })
        {
            var d = Path.Combine(_harness.Workspace, "d-" + Path.GetFileName(directory));
            middle.Add(await RaceAsync(tool, context, PathSwapper.Directory(d, name, Inside, [directory]), $"{Path.GetFileName(d)}/{name}",
                Attempts / 4, Path.GetFileName(d)));
        }

        AssertNoEscape(tool, leaf, middle);
        AssertOutsideUntouched();
    }

    [Theory]
    [MemberData(nameof(ChangingTools))]
    public async Task A_changing_tool_never_writes_moves_or_deletes_what_a_swapped_in_link_leads_to(string tool, bool openat2)
    {
        var context = _harness.Context with { UseOpenat2 = openat2 };
        var leaf = await RaceAsync(tool, context, PathSwapper.File(Path.Combine(_harness.Workspace, "x"), Inside, [_outsideFile, _otherFile]), "x");
        AssertOutsideUntouched();

        var middle = new RaceOutcome();
        foreach (var directory in new[] { _harness.Outside, _otherWorkspace })
        {
            var d = Path.Combine(_harness.Workspace, "d-" + Path.GetFileName(directory));
            middle.Add(await RaceAsync(tool, context, PathSwapper.Directory(d, "secret.txt", Inside, [directory]), $"{Path.GetFileName(d)}/secret.txt",
                Attempts / 2, Path.GetFileName(d)));
            AssertOutsideUntouched();
        }

        AssertNoEscape(tool, leaf, middle);
    }

    /// <summary>Runs one tool <paramref name="attempts"/> times against a path while <paramref name="swapper"/> flips it.</summary>
    private async Task<RaceOutcome> RaceAsync(string toolName, ToolContext context, PathSwapper swapper, string path, int attempts = Attempts,
        string? directory = null)
    {
        var changes = ChangingToolNames.Contains(toolName);
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
                    var result = await RunAsync(tool, ArgumentsFor(toolName, path, directory, i), context);
                    outcome.Record(result, Escaped(toolName, result, directory) ?? (changes ? DamageOutside(toolName) : null));
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

    /// <param name="path">The raced file: <c>x</c>, or a file in the raced directory.</param>
    /// <param name="directory">The raced directory (null when the leaf is raced).</param>
    private static string ArgumentsFor(string tool, string path, string? directory, int attempt) => tool switch
    {
        "file_read" => Arguments(new { path }),
        "file_list" => Arguments(new { path = directory ?? ".", recursive = true }),
        "file_search" => Arguments(new { pattern = "*", path = directory ?? "." }),
        "search_files" => Arguments(new { query = ".", regex = true, path = directory ?? path }),
        "file_write" => Arguments(new { path, content = "written-by-the-tool", append = attempt % 2 == 1 }),
        "file_edit" => Arguments(new { path, old_string = "inside", new_string = "edited" }),
        "file_delete" => Arguments(new { path }),
        "file_move" => Arguments(new { source = path, destination = $"{directory ?? "moved"}/moved-{attempt}" }),
        "directory_create" => Arguments(new { path = $"{directory ?? "x"}/sub-{attempt % 3}" }),
        "directory_delete" => Arguments(new { path = attempt % 2 == 0 || directory is null ? directory ?? "x" : $"{directory}/sub", recursive = true }),
        _ => throw new ArgumentOutOfRangeException(nameof(tool)),
    };

    /// <summary>What in a result would show something from outside the workspace.</summary>
    private string? Escaped(string tool, ToolResult result, string? directory)
    {
        foreach (var marker in new[] { OutsideSecret, OtherKeySecret, "root:x:0:0", _environMarker, _harness.Root, _harness.Outside })
        {
            if (result.Text.Contains(marker, StringComparison.Ordinal))
            {
                return $"{tool} showed '{marker}': {Shorten(result.Text)}";
            }
        }

        if (result.IsError)
        {
            return null;
        }

        switch (tool)
        {
            case "file_read" when result.Text != Inside:
                return $"file_read answered something else than the workspace's file: {Shorten(result.Text)}";
            case "file_list" or "file_search":
                // Only the raced directory's own entries may appear; a link's target directory would add others.
                using (var document = JsonDocument.Parse(result.Text))
                {
                    var list = document.RootElement.TryGetProperty("entries", out var entries) ? entries : document.RootElement.GetProperty("matches");
                    foreach (var entry in list.EnumerateArray())
                    {
                        var shown = entry.ValueKind == JsonValueKind.String ? entry.GetString()! : entry.GetProperty("path").GetString()!;
                        var name = shown[(shown.LastIndexOf('/') + 1)..];
                        if (directory is not null && shown.StartsWith(directory + "/", StringComparison.Ordinal)
                            && name is not ("secret.txt" or "passwd" or "environ") && !name.StartsWith("sub", StringComparison.Ordinal)
                            && !name.EndsWith(".new", StringComparison.Ordinal)) // the swapper's own file, renamed into place
                        {
                            return $"{tool} listed '{shown}', which is not in the workspace's directory";
                        }
                    }
                }

                return null;
            default:
                return null;
        }
    }

    /// <summary>What a changing tool did outside the workspace (null: nothing); the decoys are put back for the next attempt.</summary>
    private string? DamageOutside(string tool)
    {
        string? damage = null;
        foreach (var (directory, file, secret) in new[] { (_harness.Outside, _outsideFile, OutsideSecret), (_otherWorkspace, _otherFile, OtherKeySecret) })
        {
            var entries = Directory.GetFileSystemEntries(directory);
            if (entries.Length != 1 || !File.Exists(file) || File.ReadAllText(file) != secret)
            {
                damage ??= $"{tool} changed {directory}: it now holds {string.Join(", ", entries.Select(Path.GetFileName))}"
                    + (File.Exists(file) ? $" and the secret file reads '{Shorten(File.ReadAllText(file))}'" : " and the secret file is gone");
                foreach (var entry in entries.Where(e => e != file))
                {
                    if (Directory.Exists(entry))
                    {
                        Directory.Delete(entry, recursive: true);
                    }
                    else
                    {
                        File.Delete(entry);
                    }
                }

                File.WriteAllText(file, secret);
            }
        }

        return damage;
    }

    private void AssertOutsideUntouched()
    {
        Assert.Equal(OutsideSecret, File.ReadAllText(_outsideFile));
        Assert.Equal(["secret.txt"], Directory.EnumerateFileSystemEntries(_harness.Outside).Select(Path.GetFileName));
        Assert.Equal(OtherKeySecret, File.ReadAllText(_otherFile));
        Assert.Equal(["secret.txt"], Directory.EnumerateFileSystemEntries(_otherWorkspace).Select(Path.GetFileName));
        Assert.Equal(FileAttributes.Normal, File.GetAttributes(_outsideFile) & ~FileAttributes.Archive);
    }

    private static void AssertNoEscape(string tool, RaceOutcome leaf, RaceOutcome middle)
    {
        foreach (var (shape, outcome) in new[] { ("leaf", leaf), ("middle directory", middle) })
        {
            Assert.True(outcome.Escapes == 0,
                $"{tool} ({shape}): {outcome.Escapes} escapes in {outcome.Attempts} attempts, for example: {outcome.FirstEscape}");
            Assert.True(outcome.Flips >= MinFlips, $"{tool} ({shape}): the path flipped only {outcome.Flips} times");
        }

        // The race was really run: the tool both succeeded (on the real entry) and was refused (on the link).
        Assert.True(leaf.Succeeded + middle.Succeeded > 0 && leaf.Refused + middle.Refused > 0,
            $"{tool}: {leaf.Succeeded + middle.Succeeded} succeeded and {leaf.Refused + middle.Refused} were refused; a race needs both "
            + $"(refused for example with: {leaf.FirstRefusal} / {middle.FirstRefusal})");
    }

    private static string Shorten(string text) => text.Length > 300 ? text[..300] + "…" : text;

    private sealed class RaceOutcome
    {
        public int Attempts { get; private set; }
        public int Succeeded { get; private set; }
        public int Refused { get; private set; }
        public int Escapes { get; private set; }
        public string? FirstEscape { get; private set; }
        public string? FirstRefusal { get; private set; }
        public long Flips { get; set; }
        public TimeSpan Elapsed { get; set; }

        public void Record(ToolResult result, string? escape)
        {
            Attempts++;
            if (result.IsError)
            {
                Refused++;
                FirstRefusal ??= result.Text;
            }
            else
            {
                Succeeded++;
            }

            if (escape is not null)
            {
                Escapes++;
                FirstEscape ??= escape;
            }
        }

        public void Add(RaceOutcome other)
        {
            Attempts += other.Attempts;
            Succeeded += other.Succeeded;
            Refused += other.Refused;
            Escapes += other.Escapes;
            FirstEscape ??= other.FirstEscape;
            FirstRefusal ??= other.FirstRefusal;
            Flips += other.Flips;
            Elapsed += other.Elapsed;
        }
    }
}
