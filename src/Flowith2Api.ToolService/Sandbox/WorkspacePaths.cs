namespace Flowith2Api.ToolService.Sandbox;

/// <summary>
/// A user-given path checked against a workspace; <see cref="Status"/> is what stood there when it was checked. Every
/// operation opens the path again beneath the workspace's handle and checks what it opened, so the status only shapes
/// messages: it never decides what is safe.
/// </summary>
public sealed record WorkspacePath(string RelativePath, FileStatus Status)
{
    public bool IsRoot => RelativePath == WorkspacePaths.Root;

    /// <summary>The components below the workspace (none for the root); never empty, ".", ".." or containing '/'.</summary>
    public IReadOnlyList<string> Segments => IsRoot ? [] : RelativePath.Split('/');

    /// <summary>The last component (empty for the root).</summary>
    public string Name => IsRoot ? "" : RelativePath[(RelativePath.LastIndexOf('/') + 1)..];

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
/// The lexical rules for user-given paths: relative (or starting with the sandbox's own <c>/workspace</c>), no climbing
/// out with <c>..</c>, no NUL. What the components are on disk is checked by <see cref="WorkspaceDirectory"/>, which
/// every file tool opens paths through.
/// </summary>
public static class WorkspacePaths
{
    public const string Root = ".";

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

    /// <summary>The components of <paramref name="path"/> below the workspace, or throws <see cref="WorkspacePathException"/>.</summary>
    internal static List<string> Split(string? path)
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
}
