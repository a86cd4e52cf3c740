namespace Flowith2Api.ToolService.Sandbox;

/// <summary>One entry found below a workspace directory.</summary>
public sealed record WorkspaceEntry(string FullPath, string RelativePath, FileStatus Status)
{
    public string Name => Path.GetFileName(FullPath);

    /// <summary>A regular file with a single link: safe to open (a multiply linked one may be a file from outside).</summary>
    public bool IsPlainFile => Status.Kind == FileKind.File && Status.LinkCount <= 1;
}

/// <summary>
/// Walks a workspace directory without following symbolic links (they are reported, never entered), in a stable
/// order (a directory's entries sorted ordinally, then its subdirectories in turn), lazily so callers stop when their
/// caps are reached.
/// </summary>
public static class WorkspaceWalker
{
    private static readonly EnumerationOptions OneLevel = new()
    {
        AttributesToSkip = 0,
        IgnoreInaccessible = true,
        RecurseSubdirectories = false,
        ReturnSpecialDirectories = false,
    };

    /// <param name="start">A directory resolved with <see cref="WorkspacePaths.Resolve"/>.</param>
    /// <param name="skipDirectory">Directories (by name) whose contents are not listed; the directory itself still is.</param>
    public static IEnumerable<WorkspaceEntry> Walk(WorkspacePath start, bool recursive, Func<string, bool>? skipDirectory = null)
    {
        if (start.Status.Kind != FileKind.Directory)
        {
            yield break;
        }

        var pending = new Stack<string>();
        pending.Push(start.FullPath);
        while (pending.TryPop(out var directory))
        {
            string[] names;
            try
            {
                names = [.. Directory.EnumerateFileSystemEntries(directory, "*", OneLevel)];
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                continue;
            }

            Array.Sort(names, StringComparer.Ordinal);
            var subdirectories = new List<string>();
            foreach (var full in names)
            {
                FileStatus status;
                try
                {
                    status = FileStatus.Of(full);
                }
                catch (IOException)
                {
                    continue;
                }

                if (!status.Exists)
                {
                    continue;
                }

                yield return new WorkspaceEntry(full, WorkspacePaths.ToRelative(start.Workspace, full), status);
                if (recursive && status.Kind == FileKind.Directory && !(skipDirectory?.Invoke(Path.GetFileName(full)) ?? false))
                {
                    subdirectories.Add(full);
                }
            }

            for (var i = subdirectories.Count - 1; i >= 0; i--)
            {
                pending.Push(subdirectories[i]);
            }
        }
    }
}
