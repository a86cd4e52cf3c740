using static Flowith2Api.ToolService.Sandbox.LinuxFileCalls;

namespace Flowith2Api.ToolService.Sandbox;

/// <summary>Reading directories: through their own descriptors, each opened beneath the workspace's handle.</summary>
public sealed partial class WorkspaceDirectory
{
    /// <summary>
    /// The entries below a directory, without following links (they are reported, never entered), in a stable order (a
    /// directory's entries sorted ordinally, then its subdirectories in turn), lazily so callers stop at their caps.
    /// </summary>
    /// <param name="skipDirectory">Directories (by name) whose contents are not listed; the directory itself still is.</param>
    public IEnumerable<WorkspaceEntry> Walk(WorkspacePath start, bool recursive, Func<string, bool>? skipDirectory = null)
    {
        var pending = new Stack<string>();
        pending.Push(start.IsRoot ? "" : start.RelativePath);
        while (pending.TryPop(out var relative))
        {
            var subdirectories = new List<string>();
            foreach (var entry in ListDirectory(relative))
            {
                yield return entry;
                if (recursive && entry.Status.Kind == FileKind.Directory && !(skipDirectory?.Invoke(entry.Name) ?? false))
                {
                    subdirectories.Add(entry.RelativePath);
                }
            }

            for (var i = subdirectories.Count - 1; i >= 0; i--)
            {
                pending.Push(subdirectories[i]);
            }
        }
    }

    private List<WorkspaceEntry> ListDirectory(string relative)
    {
        var segments = relative.Length == 0 ? [] : relative.Split('/');
        using var directory = Open(segments, OPath | ODirectory, out _);
        var names = directory is null ? null : ReadDirectory(directory, out _);
        if (names is null)
        {
            return [];
        }

        names.Sort(StringComparer.Ordinal);
        var entries = new List<WorkspaceEntry>(names.Count);
        foreach (var name in names)
        {
            FileStatus status;
            try
            {
                status = FileStatus.Of(directory!, name);
            }
            catch (IOException)
            {
                continue;
            }

            if (status.Exists)
            {
                entries.Add(new WorkspaceEntry(relative.Length == 0 ? name : $"{relative}/{name}", status));
            }
        }

        return entries;
    }
}
