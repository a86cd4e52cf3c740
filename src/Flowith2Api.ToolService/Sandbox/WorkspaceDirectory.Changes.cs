using Microsoft.Win32.SafeHandles;
using static Flowith2Api.ToolService.Sandbox.LinuxFileCalls;

namespace Flowith2Api.ToolService.Sandbox;

/// <summary>What changes the workspace: each acts on one name in a directory opened beneath the workspace's handle.</summary>
public sealed partial class WorkspaceDirectory
{
    /// <summary>
    /// Creates or replaces a file with <paramref name="content"/>, creating missing parent directories: written to a
    /// new temporary file beside it and renamed into place, so the name ends up naming the new file whatever stood there
    /// (a link is replaced, never followed). A replaced regular file's permissions are kept.
    /// </summary>
    public void WriteFile(WorkspacePath path, ReadOnlySpan<byte> content)
    {
        var segments = path.Segments;
        using var parent = CreateDirectories(segments, segments.Count - 1);
        var existing = FileStatus.Of(parent, path.Name);
        var temporary = $".f2a-write-{Guid.NewGuid():N}";
        var renamed = false;
        try
        {
            using (var file = CreateNew(parent, temporary, path))
            {
                RandomAccess.Write(file, content, 0);
                if (existing.Kind == FileKind.File && Fchmod(file, existing.Permissions & PermissionBits) != 0)
                {
                    throw Failure("Keeping the file's permissions", Errno);
                }
            }

            if (Rename(parent, temporary, parent, path.Name, noReplace: false) is var errno and not 0)
            {
                throw errno is EISDIR or ENOTEMPTY or EEXIST
                    ? new WorkspacePathException($"{path.Display} exists and is not a regular file.")
                    : Failure("Writing the file", errno);
            }

            renamed = true;
        }
        finally
        {
            if (!renamed)
            {
                Unlinkat(parent, temporary, 0); // never left behind, whatever failed (a full disk, a quota)
            }
        }
    }

    /// <summary>Creates a file that must not exist yet (never replacing or following anything).</summary>
    public void CreateFile(WorkspacePath path, ReadOnlySpan<byte> content)
    {
        var segments = path.Segments;
        using var parent = CreateDirectories(segments, segments.Count - 1);
        using var file = CreateNew(parent, path.Name, path);
        RandomAccess.Write(file, content, 0);
    }

    /// <summary>Creates a directory and its missing parents (<c>mkdir -p</c>, one component at a time).</summary>
    public void CreateDirectory(WorkspacePath path) => CreateDirectories(path.Segments, path.Segments.Count).Dispose();

    /// <summary>Removes one non-directory entry (a link itself, never what it points to).</summary>
    public void DeleteFile(WorkspacePath path)
    {
        using var parent = OpenDirectory(path.Segments, path.Segments.Count - 1, out var errno) ?? throw Refusal(path.Segments, errno, path);
        if (Unlinkat(parent, path.Name, 0) != 0)
        {
            throw Errno switch
            {
                ENOENT => new WorkspacePathException($"{path.Display} does not exist."),
                EISDIR => new WorkspacePathException($"{path.Display} is a directory; use directory_delete to remove it."),
                var other => Failure("Deleting the file", other),
            };
        }
    }

    /// <summary>Moves an entry to a name that must not exist yet; missing parents of the destination are created.</summary>
    public void Move(WorkspacePath source, WorkspacePath destination)
    {
        using var from = OpenDirectory(source.Segments, source.Segments.Count - 1, out var errno) ?? throw Refusal(source.Segments, errno, source);
        using var to = CreateDirectories(destination.Segments, destination.Segments.Count - 1);
        errno = Rename(from, source.Name, to, destination.Name, noReplace: true);
        if (errno is EINVAL or ENOSYS)
        {
            // RENAME_NOREPLACE is not there (an old file system, or renameat2 filtered out): the destination is checked
            // first, inside the workspace, so at worst a name made at the same moment is replaced.
            errno = FileStatus.Of(to, destination.Name).Exists ? EEXIST : Rename(from, source.Name, to, destination.Name, noReplace: false);
        }

        if (errno == 0)
        {
            return;
        }

        throw errno switch
        {
            ENOENT => new WorkspacePathException($"{source.Display} does not exist."),
            EEXIST or ENOTEMPTY => new WorkspacePathException($"{destination.Display} already exists; choose another destination or delete it first."),
            EINVAL => new WorkspacePathException($"{source.Display} cannot be moved into itself."),
            EXDEV => new WorkspacePathException($"{source.Display} and {destination.Display} are on different file systems."),
            _ => Failure("Moving", errno),
        };
    }

    /// <summary>Removes an empty directory.</summary>
    public void DeleteEmptyDirectory(WorkspacePath path)
    {
        using var parent = OpenDirectory(path.Segments, path.Segments.Count - 1, out var errno) ?? throw Refusal(path.Segments, errno, path);
        if (Unlinkat(parent, path.Name, AtRemoveDir) != 0)
        {
            throw NotRemovable(path, Errno);
        }
    }

    /// <summary>
    /// Removes a directory and everything below it, bottom-up, through descriptors: each subdirectory is opened by its
    /// name in its parent without following links, links and files are unlinked, nothing they point to is touched.
    /// </summary>
    /// <returns>How many entries below the directory were removed.</returns>
    public int DeleteTree(WorkspacePath path, CancellationToken cancellationToken)
    {
        using var parent = OpenDirectory(path.Segments, path.Segments.Count - 1, out var errno) ?? throw Refusal(path.Segments, errno, path);
        using var directory = OpenChild(parent, path.Name, OPath | ODirectory, out errno)
            ?? throw (errno == ENOENT ? new WorkspacePathException($"{path.Display} does not exist.") : new WorkspacePathException($"{path.Display} is not a directory."));
        var removed = DeleteContents(directory, path, 1, cancellationToken);
        if (Unlinkat(parent, path.Name, AtRemoveDir) != 0)
        {
            throw Errno is ENOTEMPTY or EEXIST ? ChangedWhileDeleting(path) : NotRemovable(path, Errno);
        }

        return removed;
    }

    private int DeleteContents(SafeFileHandle directory, WorkspacePath top, int depth, CancellationToken cancellationToken)
    {
        if (depth > MaxDepth)
        {
            throw new WorkspacePathException($"{top.Display} is nested more than {MaxDepth} directories deep; delete its deepest parts first.");
        }

        var names = ReadDirectory(directory, out var listError) ?? throw Failure("Listing a directory", listError);
        var removed = 0;
        foreach (var name in names)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (FileStatus.Of(directory, name).Kind != FileKind.Directory)
            {
                if (Unlinkat(directory, name, 0) == 0 || Errno == ENOENT)
                {
                    removed++;
                    continue;
                }

                if (Errno != EISDIR)
                {
                    throw Failure("Deleting an entry", Errno);
                }
            }

            // A directory (or one since it was looked at): opened by its name here, never through a link.
            using var child = OpenChild(directory, name, OPath | ODirectory, out var errno);
            if (child is null)
            {
                // Swapped for something that is not a directory meanwhile: removed as what it is now.
                if (Unlinkat(directory, name, 0) != 0 && Errno != ENOENT)
                {
                    throw Failure("Deleting an entry", Errno);
                }
            }
            else
            {
                removed += DeleteContents(child, top, depth + 1, cancellationToken);
                if (Unlinkat(directory, name, AtRemoveDir) != 0 && Errno != ENOENT)
                {
                    throw Errno is ENOTEMPTY or EEXIST ? ChangedWhileDeleting(top) : Failure("Deleting a directory", Errno);
                }
            }

            removed++;
        }

        return removed;
    }

    private static SafeFileHandle CreateNew(SafeFileHandle directory, string name, WorkspacePath shown)
    {
        var fd = Openat(directory, name, OWrOnly | OCreat | OExcl | ONoFollow | OCloExec, NewFileMode);
        return fd >= 0
            ? Own(fd)
            : throw (Errno == EEXIST ? new WorkspacePathException($"{shown.Display} already exists.") : Failure("Creating the file", Errno));
    }

    /// <summary>Opens <paramref name="count"/> leading components as directories, creating the missing ones.</summary>
    private SafeFileHandle CreateDirectories(IReadOnlyList<string> segments, int count)
    {
        var current = OpenChild(_root, ".", OPath | ODirectory, out var rootErrno) ?? throw Failure("Opening the workspace", rootErrno);
        try
        {
            for (var i = 0; i < count; i++)
            {
                var next = OpenChild(current, segments[i], OPath | ODirectory, out var errno);
                if (next is null && errno == ENOENT)
                {
                    if (Mkdirat(current, segments[i], NewDirectoryMode) != 0 && Errno != EEXIST)
                    {
                        throw Failure($"Creating '{string.Join('/', segments.Take(i + 1))}'", Errno);
                    }

                    next = OpenChild(current, segments[i], OPath | ODirectory, out errno);
                }

                current.Dispose();
                current = next ?? throw Refusal([.. segments.Take(i + 1)], errno);
            }

            return current;
        }
        catch
        {
            current.Dispose();
            throw;
        }
    }

    private static WorkspacePathException ChangedWhileDeleting(WorkspacePath path) =>
        new($"Something was added below {path.Display} while it was being deleted; run directory_delete again.");

    /// <summary><c>renameat2</c> (with <c>RENAME_NOREPLACE</c> when asked), or plain <c>renameat</c> where it is filtered out; 0 or errno.</summary>
    private static int Rename(SafeFileHandle from, string fromName, SafeFileHandle to, string toName, bool noReplace)
    {
        if (Renameat2(from, fromName, to, toName, noReplace ? RenameNoReplace : 0) == 0)
        {
            return 0;
        }

        var errno = Errno;
        if (errno != ENOSYS || noReplace)
        {
            return errno;
        }

        return Renameat(from, fromName, to, toName) == 0 ? 0 : Errno;
    }
}
