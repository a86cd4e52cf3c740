using Microsoft.Win32.SafeHandles;
using static Flowith2Api.ToolService.Sandbox.LinuxFileCalls;

namespace Flowith2Api.ToolService.Sandbox;

/// <summary>
/// A key's workspace opened as a directory handle, and every file operation of the file tools made through it: a path
/// is opened beneath the handle with no symbolic link, magic link or mount crossing in any component, what was opened is
/// checked on its own descriptor (type, link count, size), and creating, replacing, moving and removing act on one name
/// in a directory that was itself opened that way. Whatever runs beside it in the workspace (a sandboxed command swapping
/// a file or a directory for a link) cannot make an operation leave the workspace: there is no check-then-use by name.
/// </summary>
/// <remarks>
/// Why the host opens through a handle rather than running each file operation in the bubblewrap sandbox, measured
/// here: a file_read this way takes about 30 µs (a few system calls), while starting bubblewrap with the sandbox's
/// arguments to read the same file takes about 6 ms, two hundred times as long, and needs bubblewrap to be available at
/// all (docs/reliability.md, "The file tools raced out of the workspace"). Where the kernel has no
/// <c>openat2</c> (before Linux 5.6, or a seccomp filter refusing it) the same guarantees come from walking one
/// component at a time with <c>O_NOFOLLOW</c> and comparing each directory's device with the workspace's.
/// </remarks>
public sealed partial class WorkspaceDirectory : IDisposable
{
    /// <summary>Directory levels a recursive delete descends, at most (each level holds one descriptor).</summary>
    public const int MaxDepth = 256;

    private const int NewFileMode = 0x1B6; // 0666, less the umask
    private const int NewDirectoryMode = 0x1FF; // 0777, less the umask
    private const int PermissionBits = 0x1FF; // rwx for user, group, others: set-id bits are never carried over

    private static readonly Lazy<bool> KernelHasOpenat2 = new(ProbeOpenat2);
    private static readonly Lazy<bool> FlagsBehave = new(SelfTest);

    private readonly SafeFileHandle _root;
    private readonly ulong _device;

    private WorkspaceDirectory(SafeFileHandle root, ulong device, bool useOpenat2)
    {
        _root = root;
        _device = device;
        UsesOpenat2 = useOpenat2;
    }

    /// <summary>True when paths are resolved by <c>openat2</c>; false when walked component by component.</summary>
    public bool UsesOpenat2 { get; }

    /// <summary>
    /// Opens a workspace directory (its last component may not be a link). <paramref name="useOpenat2"/> null uses
    /// <c>openat2</c> where the kernel has it; false forces the component walk (for its tests).
    /// </summary>
    public static WorkspaceDirectory Open(string workspace, bool? useOpenat2 = null)
    {
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("The workspace needs Linux.");
        }

        if (!FlagsBehave.Value)
        {
            throw new WorkspacePathException(
                "The file tools are off on this host: opening a path without following links could not be verified here (an unknown architecture or kernel).");
        }

        var root = WorkspacePaths.NormalizeRoot(workspace);
        var fd = OpenAbsolute(root, OPath | ODirectory | ONoFollow | OCloExec);
        if (fd < 0)
        {
            throw new WorkspacePathException("The workspace is not available (it is missing or is not a plain directory).");
        }

        var handle = Own(fd);
        try
        {
            return new WorkspaceDirectory(handle, FileStatus.Of(handle).Device, (useOpenat2 ?? true) && KernelHasOpenat2.Value);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>Opens the workspace a tool runs in.</summary>
    public static WorkspaceDirectory Open(Tools.ToolContext context) => Open(context.Workspace, context.UseOpenat2);

    /// <summary>
    /// Checks <paramref name="path"/> (null or empty is the workspace root): no component may be a link, and the final
    /// entry may not be a link or a regular file with other hard links (it could be a file from outside) unless
    /// <paramref name="allowLinkedLeaf"/> (for removing it: removing a link never touches what it points to).
    /// </summary>
    public WorkspacePath Resolve(string? path, bool allowLinkedLeaf = false)
    {
        var segments = WorkspacePaths.Split(path);
        if (segments.Count == 0)
        {
            return new WorkspacePath(WorkspacePaths.Root, FileStatus.Of(_root));
        }

        var relative = string.Join('/', segments);
        using var parent = OpenDirectory(segments, segments.Count - 1, out var errno);
        if (parent is null)
        {
            return errno == ENOENT ? new WorkspacePath(relative, FileStatus.Missing) : throw Refusal(segments, errno);
        }

        var status = FileStatus.Of(parent, segments[^1]);
        var resolved = new WorkspacePath(relative, status);
        if (status.Kind == FileKind.SymbolicLink && !allowLinkedLeaf)
        {
            throw new WorkspacePathException($"{resolved.Display} is a symbolic link; links are not followed by the file tools.");
        }

        if (status.Kind == FileKind.File && status.LinkCount > 1 && !allowLinkedLeaf)
        {
            throw HardLinked(resolved);
        }

        return resolved;
    }

    /// <summary>Opens a regular file for reading, checked on the opened descriptor: a plain file with a single link.</summary>
    public WorkspaceFile OpenFile(WorkspacePath path)
    {
        var file = Open(path.Segments, ORdOnly | ONonBlock | ONoCtty, out var errno)
            ?? throw (errno == ENOENT ? new WorkspacePathException($"{path.Display} does not exist.") : Refusal(path.Segments, errno));
        var status = StatusOrDispose(file);
        if (status.Kind != FileKind.File || status.LinkCount > 1)
        {
            file.Dispose();
            throw status.Kind switch
            {
                FileKind.Directory => new WorkspacePathException($"{path.Display} is a directory, not a file."),
                FileKind.File => HardLinked(path),
                _ => new WorkspacePathException($"{path.Display} is not a regular file."),
            };
        }

        return new WorkspaceFile(file, status);
    }

    /// <summary>Opens a file found by a walk for reading, or null when it is no longer a plain file of at most <paramref name="maxSize"/> bytes.</summary>
    public WorkspaceFile? TryOpenPlainFile(string relativePath, long maxSize)
    {
        var file = Open(relativePath.Split('/'), ORdOnly | ONonBlock | ONoCtty, out _);
        if (file is null)
        {
            return null;
        }

        var status = StatusOrDispose(file);
        if (status.Kind != FileKind.File || status.LinkCount > 1 || status.Size > maxSize)
        {
            file.Dispose();
            return null;
        }

        return new WorkspaceFile(file, status);
    }

    public void Dispose() => _root.Dispose();

    /// <summary>Opens <paramref name="count"/> leading components as a directory (the root for none), or null with errno.</summary>
    private SafeFileHandle? OpenDirectory(IReadOnlyList<string> segments, int count, out int errno)
    {
        return Open(segments.Take(count).ToArray(), OPath | ODirectory, out errno);
    }

    /// <summary>Opens a path beneath the workspace with <paramref name="flags"/>, or null with errno (ELOOP, ENOTDIR, EXDEV: refused).</summary>
    private SafeFileHandle? Open(IReadOnlyList<string> segments, int flags, out int errno)
    {
        if (segments.Count == 0)
        {
            return OpenChild(_root, ".", flags, out errno);
        }

        if (UsesOpenat2)
        {
            var fd = Openat2(_root, string.Join('/', segments), flags | ONoFollow | OCloExec, 0, ResolveInWorkspace);
            errno = fd < 0 ? Errno : 0;
            return fd < 0 ? null : Own(fd);
        }

        SafeFileHandle? current = null;
        try
        {
            for (var i = 0; i < segments.Count - 1; i++)
            {
                var next = OpenChild(current ?? _root, segments[i], OPath | ODirectory, out errno);
                current?.Dispose();
                current = next;
                if (current is null)
                {
                    return null;
                }
            }

            return OpenChild(current ?? _root, segments[^1], flags, out errno);
        }
        finally
        {
            current?.Dispose();
        }
    }

    /// <summary>Opens one name in an open directory without following it or leaving the workspace's file system.</summary>
    private SafeFileHandle? OpenChild(SafeFileHandle directory, string name, int flags, out int errno)
    {
        if (UsesOpenat2)
        {
            var fd = Openat2(directory, name, flags | ONoFollow | OCloExec, 0, ResolveInWorkspace);
            errno = fd < 0 ? Errno : 0;
            return fd < 0 ? null : Own(fd);
        }

        // O_NOFOLLOW on the last (only) component: a link fails with ELOOP, or ENOTDIR with O_DIRECTORY.
        var child = Openat(directory, name, flags | ONoFollow | OCloExec, 0);
        if (child < 0)
        {
            errno = Errno;
            return null;
        }

        var handle = Own(child);
        if (StatusOrDispose(handle).Device != _device)
        {
            handle.Dispose();
            errno = EXDEV;
            return null;
        }

        errno = 0;
        return handle;
    }

    /// <summary>Why a path could not be opened, naming the component at fault when it can still be seen.</summary>
    private WorkspacePathException Refusal(IReadOnlyList<string> segments, int errno, WorkspacePath? shown = null)
    {
        if (errno == ENOENT)
        {
            return new WorkspacePathException($"{shown?.Display ?? $"'{string.Join('/', segments)}'"} does not exist.");
        }

        if (errno is EACCES or EPERM)
        {
            return new WorkspacePathException("Permission denied.");
        }

        // Diagnosis only: the kernel already refused. Look at each component as it is now to say which one it was.
        SafeFileHandle? current = null;
        try
        {
            for (var i = 0; i < segments.Count; i++)
            {
                var prefix = $"'{string.Join('/', segments.Take(i + 1))}'";
                var status = FileStatus.Of(current ?? _root, segments[i]);
                if (status.Kind == FileKind.SymbolicLink)
                {
                    return new WorkspacePathException($"{prefix} is a symbolic link; links are not followed by the file tools.");
                }

                if (status.Exists && status.Device != _device)
                {
                    return new WorkspacePathException($"{prefix} is on another file system; the file tools stay on the workspace's own.");
                }

                if (i < segments.Count - 1)
                {
                    if (status.Kind != FileKind.Directory)
                    {
                        return new WorkspacePathException(status.Exists ? $"{prefix} is not a directory." : $"{prefix} does not exist.");
                    }

                    var next = OpenChild(current ?? _root, segments[i], OPath | ODirectory, out _);
                    current?.Dispose();
                    current = next;
                    if (current is null)
                    {
                        break;
                    }
                }
            }
        }
        catch (IOException)
        {
        }
        finally
        {
            current?.Dispose();
        }

        var path = $"'{string.Join('/', segments)}'";
        return errno switch
        {
            ELOOP => new WorkspacePathException($"{path} leads through a symbolic link; links are not followed by the file tools."),
            EXDEV => new WorkspacePathException($"{path} leads onto another file system; the file tools stay on the workspace's own."),
            ENOTDIR => new WorkspacePathException($"A component of {path} is not a directory."),
            _ => new WorkspacePathException($"{path} cannot be opened ({Describe(errno)})."),
        };
    }

    private static WorkspacePathException HardLinked(WorkspacePath path) =>
        new($"{path.Display} has other hard links (it may be a file from outside the workspace), so the file tools do not open it.");

    private static WorkspacePathException NotRemovable(WorkspacePath path, int errno) => errno switch
    {
        ENOENT => new WorkspacePathException($"{path.Display} does not exist."),
        ENOTEMPTY or EEXIST => new WorkspacePathException($"{path.Display} is not empty; set recursive to true to delete it with its contents."),
        ENOTDIR => new WorkspacePathException($"{path.Display} is not a directory."),
        _ => new WorkspacePathException($"{path.Display} cannot be deleted ({Describe(errno)})."),
    };

    private static IOException Failure(string what, int errno) => new($"{what} failed: {Describe(errno)}.");

    private static string Describe(int errno) => System.Runtime.InteropServices.Marshal.GetPInvokeErrorMessage(errno);

    /// <summary>What an opened descriptor is; the descriptor is closed when that cannot be read.</summary>
    private static FileStatus StatusOrDispose(SafeFileHandle handle)
    {
        try
        {
            return FileStatus.Of(handle);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Checks once, on a link made for it, that the open flags mean here what this class relies on: a link is not
    /// followed, as a directory or as a file, by the component walk or by <c>openat2</c>.
    /// </summary>
    private static bool SelfTest()
    {
        DirectoryInfo? scratch = null;
        try
        {
            scratch = Directory.CreateTempSubdirectory("f2a-workspace-check-");
            Directory.CreateDirectory(System.IO.Path.Combine(scratch.FullName, "directory"));
            File.CreateSymbolicLink(System.IO.Path.Combine(scratch.FullName, "link"), "directory");
            var fd = OpenAbsolute(scratch.FullName, OPath | ODirectory | ONoFollow | OCloExec);
            if (fd < 0)
            {
                return false;
            }

            using var directory = Own(fd);
            bool Opens(string name, int flags)
            {
                var opened = Openat(directory, name, flags | OCloExec, 0);
                if (opened >= 0)
                {
                    Own(opened).Dispose();
                }

                return opened >= 0;
            }

            var walkSafe = Opens("directory", OPath | ODirectory | ONoFollow)
                && !Opens("link", OPath | ODirectory | ONoFollow)
                && !Opens("link", ORdOnly | ONoFollow);
            if (!walkSafe || !KernelHasOpenat2.Value)
            {
                return walkSafe;
            }

            var beneath = Openat2(directory, "link", ORdOnly | ODirectory | OCloExec, 0, ResolveInWorkspace);
            if (beneath >= 0)
            {
                Own(beneath).Dispose();
                return false;
            }

            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
        finally
        {
            try
            {
                scratch?.Delete(recursive: true);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
            }
        }
    }

    private static bool ProbeOpenat2()
    {
        var root = OpenAbsolute("/", OPath | ODirectory | OCloExec);
        if (root < 0)
        {
            return false;
        }

        using var handle = Own(root);
        var fd = Openat2(handle, ".", OPath | ODirectory | OCloExec, 0, ResolveInWorkspace);
        if (fd < 0)
        {
            return false; // ENOSYS (before 5.6) or EPERM/EINVAL from a filter: the component walk it is
        }

        Own(fd).Dispose();
        return true;
    }
}
