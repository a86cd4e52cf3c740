using System.Diagnostics.CodeAnalysis;

namespace Flowith2Api.ToolService.Sandbox;

/// <summary>A user-given path resolved inside a workspace and checked; <see cref="Status"/> is what was found there.</summary>
public sealed record WorkspacePath(string Workspace, string FullPath, string RelativePath, FileStatus Status)
{
    public bool IsRoot => RelativePath == WorkspacePaths.Root;

    /// <summary>The same place as a sandboxed command sees it.</summary>
    public string SandboxPath => IsRoot ? BubblewrapSandbox.SandboxWorkspace : $"{BubblewrapSandbox.SandboxWorkspace}/{RelativePath}";

    /// <summary>Shown to the model: the relative path, or "the workspace root".</summary>
    public string Display => IsRoot ? "the workspace root" : $"'{RelativePath}'";
}

/// <summary>A path that was refused; the message is safe to show (it never names host paths).</summary>
public sealed class WorkspacePathException : Exception
{
    public WorkspacePathException()
    {
    }

    public WorkspacePathException(string message)
        : base(message)
    {
    }

    public WorkspacePathException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// Confines user-given paths to a workspace. A path must be relative (or start with the sandbox's own
/// <c>/workspace</c>), may not climb out with <c>..</c>, and no existing component may be a symbolic link; the final
/// entry may not be a regular file with other hard links (it could be a file from outside the workspace). Every file
/// tool goes through here before touching the disk.
/// </summary>
public static class WorkspacePaths
{
    public const string Root = ".";

    /// <summary>Resolves <paramref name="path"/> (null or empty is the workspace root) or throws <see cref="WorkspacePathException"/>.</summary>
    /// <param name="allowLinkedLeaf">
    /// Lets the final entry be a symbolic link or a multiply linked file, for removing it (removing a link never
    /// touches what it points to).
    /// </param>
    public static WorkspacePath Resolve(string workspace, string? path, bool allowLinkedLeaf = false)
    {
        var root = NormalizeRoot(workspace);
        var segments = Split(path);
        var relative = segments.Count == 0 ? Root : string.Join('/', segments);
        var current = root;
        var status = StatusOf(root, "the workspace");
        if (status.Kind != FileKind.Directory)
        {
            throw new WorkspacePathException("The workspace is not available (it is missing or is not a plain directory).");
        }

        for (var i = 0; i < segments.Count; i++)
        {
            current = $"{current}/{segments[i]}";
            var isLast = i == segments.Count - 1;
            var shown = string.Join('/', segments.Take(i + 1));
            status = StatusOf(current, shown);
            if (!status.Exists)
            {
                // Nothing below a missing entry exists either.
                status = FileStatus.Missing;
                break;
            }

            if (status.Kind == FileKind.SymbolicLink && !(isLast && allowLinkedLeaf))
            {
                throw new WorkspacePathException($"'{shown}' is a symbolic link; links are not followed by the file tools.");
            }

            if (!isLast && status.Kind != FileKind.Directory)
            {
                throw new WorkspacePathException($"'{shown}' is not a directory.");
            }

            if (isLast && status.Kind == FileKind.File && status.LinkCount > 1 && !allowLinkedLeaf)
            {
                throw new WorkspacePathException(
                    $"'{shown}' has other hard links (it may be a file from outside the workspace), so the file tools do not open it.");
            }
        }

        var full = segments.Count == 0 ? root : $"{root}/{relative}";
        return new WorkspacePath(root, full, relative, status);
    }

    public static bool TryResolve(
        string workspace,
        string? path,
        [NotNullWhen(true)] out WorkspacePath? resolved,
        [NotNullWhen(false)] out string? error,
        bool allowLinkedLeaf = false)
    {
        try
        {
            resolved = Resolve(workspace, path, allowLinkedLeaf);
            error = null;
            return true;
        }
        catch (WorkspacePathException ex)
        {
            resolved = null;
            error = ex.Message;
            return false;
        }
    }

    /// <summary>The workspace-relative form of a full path below the workspace, with '/' separators.</summary>
    public static string ToRelative(string workspace, string fullPath)
    {
        var root = NormalizeRoot(workspace);
        if (fullPath == root)
        {
            return Root;
        }

        return fullPath.StartsWith(root + "/", StringComparison.Ordinal)
            ? fullPath[(root.Length + 1)..]
            : throw new ArgumentException("The path is not inside the workspace.", nameof(fullPath));
    }

    /// <summary>Replaces the workspace's host path in a message by <c>/workspace</c>, so errors never show host paths.</summary>
    public static string Scrub(string workspace, string message)
    {
        var root = NormalizeRoot(workspace);
        return message.Replace(root, BubblewrapSandbox.SandboxWorkspace, StringComparison.Ordinal);
    }

    internal static string NormalizeRoot(string workspace)
    {
        if (string.IsNullOrEmpty(workspace) || !Path.IsPathFullyQualified(workspace))
        {
            throw new WorkspacePathException("The workspace is not configured.");
        }

        var full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(workspace));
        return full.Length == 0 ? "/" : full;
    }

    private static List<string> Split(string? path)
    {
        var segments = new List<string>();
        if (string.IsNullOrEmpty(path))
        {
            return segments;
        }

        if (path.Contains('\0', StringComparison.Ordinal))
        {
            throw new WorkspacePathException("The path contains a NUL character.");
        }

        // The sandbox shows the workspace as /workspace; accept that spelling of a workspace path.
        var sandboxRoot = BubblewrapSandbox.SandboxWorkspace;
        if (path == sandboxRoot)
        {
            return segments;
        }

        if (path.StartsWith(sandboxRoot + "/", StringComparison.Ordinal))
        {
            path = path[(sandboxRoot.Length + 1)..];
        }
        else if (Path.IsPathRooted(path) || path == "~" || path.StartsWith("~/", StringComparison.Ordinal))
        {
            throw new WorkspacePathException(
                "Absolute paths are not allowed; give a path relative to the workspace, for example 'src/main.py'.");
        }

        foreach (var segment in path.Split('/'))
        {
            switch (segment)
            {
                case "" or ".":
                    continue;
                case "..":
                    if (segments.Count == 0)
                    {
                        throw new WorkspacePathException("The path leaves the workspace through '..'; only paths inside the workspace are allowed.");
                    }

                    segments.RemoveAt(segments.Count - 1);
                    break;
                default:
                    segments.Add(segment);
                    break;
            }
        }

        return segments;
    }

    private static FileStatus StatusOf(string fullPath, string shown)
    {
        try
        {
            return FileStatus.Of(fullPath);
        }
        catch (IOException ex)
        {
            throw new WorkspacePathException($"'{shown}' cannot be inspected.", ex);
        }
    }
}
