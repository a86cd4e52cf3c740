using System.Text.Json;

namespace Flowith2Api.Tests.ToolService.Races;

/// <summary>
/// The decoys and the rules of the race tests, for the tools called directly and through <c>/mcp</c>: what the raced
/// paths hold, what each tool is asked, and what in an answer or on disk counts as an escape.
/// </summary>
internal sealed class RaceJudge(string workspaceRoot, string outsideDirectory, string otherWorkspace)
{
    /// <summary>What the workspace's own raced file holds.</summary>
    public const string Inside = "inside-content-of-the-workspace";
    public const string OutsideSecret = "outside-secret-4b1f";
    public const string OtherKeySecret = "other-key-secret-9c2e";

    /// <summary>The name of the decoy file in the outside directory and in the other key's workspace.</summary>
    public const string SecretName = "secret.txt";

    public static readonly string[] ReadOnlyTools = ["file_read", "file_list", "file_search", "search_files"];

    public static readonly string[] ChangingTools = ["file_write", "file_edit", "file_delete", "file_move", "directory_create", "directory_delete"];

    public string OutsideFile { get; } = Path.Combine(outsideDirectory, SecretName);

    public string OtherFile { get; } = Path.Combine(otherWorkspace, SecretName);

    public string OutsideDirectory => outsideDirectory;

    public string OtherWorkspace => otherWorkspace;

    /// <summary>Writes the decoys.</summary>
    public void Plant()
    {
        File.WriteAllText(OutsideFile, OutsideSecret);
        File.WriteAllText(OtherFile, OtherKeySecret);
    }

    /// <summary>The arguments of one attempt.</summary>
    /// <param name="path">The raced file: <c>x</c>, or a file in the raced directory.</param>
    /// <param name="directory">The raced directory (null when the leaf is raced).</param>
    public static Dictionary<string, object?> ArgumentsFor(string tool, string path, string? directory, int attempt) => tool switch
    {
        "file_read" => new() { ["path"] = path },
        "file_list" => new() { ["path"] = directory ?? ".", ["recursive"] = true },
        "file_search" => new() { ["pattern"] = "*", ["path"] = directory ?? "." },
        "search_files" => new() { ["query"] = ".", ["regex"] = true, ["path"] = directory ?? path },
        "file_write" => new() { ["path"] = path, ["content"] = "written-by-the-tool", ["append"] = attempt % 2 == 1 },
        "file_edit" => new() { ["path"] = path, ["old_string"] = "inside", ["new_string"] = "edited" },
        "file_delete" => new() { ["path"] = path },
        "file_move" => new() { ["source"] = path, ["destination"] = $"{directory ?? "moved"}/moved-{attempt}" },
        "directory_create" => new() { ["path"] = $"{directory ?? "x"}/sub-{attempt % 3}" },
        "directory_delete" => new() { ["path"] = attempt % 2 == 0 || directory is null ? directory ?? "x" : $"{directory}/sub", ["recursive"] = true },
        _ => throw new ArgumentOutOfRangeException(nameof(tool)),
    };

    /// <summary>What in an answer shows something from outside the workspace (null: nothing).</summary>
    public string? Escaped(string tool, bool isError, string text, string? directory)
    {
        // "PATH=" is in every process's initial environment (/proc/self/environ) and in no workspace file.
        foreach (var marker in new[] { OutsideSecret, OtherKeySecret, "root:x:0:0", "PATH=", workspaceRoot, outsideDirectory })
        {
            if (text.Contains(marker, StringComparison.Ordinal))
            {
                return $"{tool} showed '{marker}': {Shorten(text)}";
            }
        }

        if (isError)
        {
            return null;
        }

        switch (tool)
        {
            case "file_read" when text != Inside:
                return $"file_read answered something else than the workspace's file: {Shorten(text)}";
            case "file_list" or "file_search" when directory is not null:
                // Only the raced directory's own entries may appear; a link's target directory would add others.
                using (var document = JsonDocument.Parse(text))
                {
                    var list = document.RootElement.TryGetProperty("entries", out var entries) ? entries : document.RootElement.GetProperty("matches");
                    foreach (var entry in list.EnumerateArray())
                    {
                        var shown = entry.ValueKind == JsonValueKind.String ? entry.GetString()! : entry.GetProperty("path").GetString()!;
                        var name = shown[(shown.LastIndexOf('/') + 1)..];
                        if (shown.StartsWith(directory + "/", StringComparison.Ordinal)
                            && name is not (SecretName or "passwd" or "environ") && !name.StartsWith("sub", StringComparison.Ordinal)
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
    public string? DamageOutside(string tool)
    {
        string? damage = null;
        foreach (var (directory, file, secret) in new[] { (outsideDirectory, OutsideFile, OutsideSecret), (otherWorkspace, OtherFile, OtherKeySecret) })
        {
            var entries = Directory.GetFileSystemEntries(directory);
            var content = Read(file);
            if (entries.Length != 1 || content != secret)
            {
                damage ??= $"{tool} changed {directory}: it now holds {string.Join(", ", entries.Select(Path.GetFileName))}"
                    + (content is null ? " and the secret file is gone" : $" and the secret file reads '{Shorten(content)}'");
                try
                {
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
                catch (IOException)
                {
                    // Still held by the tool that got out: put back after a later attempt.
                }
            }
        }

        return damage;
    }

    /// <summary>A decoy's text; null when it is gone. A writer holding it open (a .NET writer locks it) counts as a change.</summary>
    private static string? Read(string file)
    {
        try
        {
            return File.Exists(file) ? File.ReadAllText(file) : null;
        }
        catch (IOException ex)
        {
            return $"(held open by a writer: {ex.Message})";
        }
    }

    public void AssertOutsideUntouched()
    {
        Assert.Equal(OutsideSecret, File.ReadAllText(OutsideFile));
        Assert.Equal([SecretName], Directory.EnumerateFileSystemEntries(outsideDirectory).Select(Path.GetFileName));
        Assert.Equal(OtherKeySecret, File.ReadAllText(OtherFile));
        Assert.Equal([SecretName], Directory.EnumerateFileSystemEntries(otherWorkspace).Select(Path.GetFileName));
    }

    private static string Shorten(string text) => text.Length > 300 ? text[..300] + "…" : text;
}
