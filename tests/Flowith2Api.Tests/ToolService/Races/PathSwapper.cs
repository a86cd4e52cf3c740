using System.Runtime.InteropServices;

namespace Flowith2Api.Tests.ToolService.Races;

/// <summary>
/// What an attacker running commands in the same workspace does: flips one path between a real entry and a symbolic
/// link to something outside, as fast as it can, on its own thread. For a file the link replaces the file by a rename
/// (and the other way round); for a directory the real directory and the link trade places with
/// <c>renameat2(RENAME_EXCHANGE)</c>, so the path is always one or the other. Whatever a tool removed or moved away is
/// made again before the next flip.
/// </summary>
internal sealed class PathSwapper : IDisposable
{
    private readonly string _path;
    private readonly IReadOnlyList<string> _targets;
    private readonly Action<string> _makeReal;
    private readonly bool _directory;
    private readonly Thread _thread;
    private volatile bool _stop;
    private Exception? _failure;

    private PathSwapper(string path, IReadOnlyList<string> targets, Action<string> makeReal, bool directory)
    {
        _path = path;
        _targets = targets;
        _makeReal = makeReal;
        _directory = directory;
        _thread = new Thread(Run) { IsBackground = true, Name = "path-swapper" };
        _thread.Start();
    }

    /// <summary>How many times the path has been a link so far.</summary>
    public long Flips { get; private set; }

    /// <summary>Rounds cut short because a tool changed the same names at the same moment.</summary>
    public long Hiccups { get; private set; }

    /// <summary>Flips a file: written with <paramref name="content"/>, then replaced by a link to one target after another.</summary>
    public static PathSwapper File(string path, string content, IReadOnlyList<string> targets) =>
        new(path, targets, real => System.IO.File.WriteAllText(real, content), directory: false);

    /// <summary>Flips a directory holding <paramref name="inner"/> (with <paramref name="content"/>) with a link to a directory outside.</summary>
    public static PathSwapper Directory(string path, string inner, string content, IReadOnlyList<string> targets) =>
        new(path, targets, real =>
        {
            System.IO.Directory.CreateDirectory(real);
            var file = Path.Combine(real, inner);
            if (KindOf(file) != Kind.File)
            {
                // Whole or not at all, as the workspace's own file is never seen half-written.
                var written = file + ".new";
                System.IO.File.WriteAllText(written, content);
                Rename(written, file);
            }
        }, directory: true);

    /// <summary>Stops the thread (within a timeout) and rethrows what went wrong in it.</summary>
    public void Dispose()
    {
        _stop = true;
        Assert.True(_thread.Join(TimeSpan.FromSeconds(30)), "the swapper thread did not stop");
        if (_failure is not null)
        {
            throw new InvalidOperationException("The swapper failed.", _failure);
        }
    }

    private void Run()
    {
        try
        {
            for (var i = 0; !_stop; i++)
            {
                var target = _targets[i % _targets.Count];
                try
                {
                    if (_directory)
                    {
                        FlipDirectory(target);
                    }
                    else
                    {
                        FlipFile(target, nonAtomic: i % 7 == 3);
                    }

                    Flips++;
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    // A tool changed the same names meanwhile (made, moved or removed them), as a real loop would see:
                    // the next round repairs what is missing.
                    Hiccups++;
                }
            }
        }
        catch (Exception ex)
        {
            _failure = ex;
        }
    }

    private void FlipFile(string target, bool nonAtomic)
    {
        var real = _path + ".real";
        var link = _path + ".link";
        Remove(real);
        _makeReal(real);
        Rename(real, _path);
        Remove(link);
        Symlink(target, link);
        if (nonAtomic)
        {
            Remove(_path); // a moment with nothing there, as `rm x; ln -s …` gives
        }

        Rename(link, _path);
    }

    private void FlipDirectory(string target)
    {
        // Repair: the path holds the real directory at rest, the other name a link to this round's target.
        var other = _path + ".alt";
        if (KindOf(_path) != Kind.Directory)
        {
            if (KindOf(other) == Kind.Directory)
            {
                if (KindOf(_path) == Kind.Missing)
                {
                    Rename(other, _path);
                }
                else
                {
                    Exchange(_path, other);
                }
            }
            else
            {
                Remove(_path);
            }
        }

        _makeReal(_path);
        var fresh = other + ".new";
        Remove(fresh);
        Symlink(target, fresh);
        if (KindOf(other) == Kind.Directory)
        {
            System.IO.Directory.Delete(other, recursive: true);
        }

        Rename(fresh, other);
        Exchange(_path, other); // the path is now the link
        Exchange(_path, other); // and the real directory again
    }

    internal enum Kind
    {
        Missing,
        File,
        Directory,
        Link,
    }

    internal static Kind KindOf(string path)
    {
        try
        {
            var attributes = System.IO.File.GetAttributes(path);
            return attributes.HasFlag(FileAttributes.ReparsePoint) ? Kind.Link
                : attributes.HasFlag(FileAttributes.Directory) ? Kind.Directory
                : Kind.File;
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return Kind.Missing;
        }
    }

    private static void Remove(string path)
    {
        switch (KindOf(path))
        {
            case Kind.Directory:
                System.IO.Directory.Delete(path, recursive: true);
                break;
            case Kind.File or Kind.Link:
                System.IO.File.Delete(path);
                break;
        }
    }

    private static void Symlink(string target, string path)
    {
        if (NativeMethods.Symlink(target, path) != 0)
        {
            throw new IOException($"symlink failed (errno {Marshal.GetLastPInvokeError()})");
        }
    }

    /// <summary>Renames over whatever is there; a directory a tool made there meanwhile is removed first.</summary>
    private static void Rename(string from, string to)
    {
        for (var attempt = 0; NativeMethods.Renameat2(AtFdCwd, from, AtFdCwd, to, 0) != 0; attempt++)
        {
            var errno = Marshal.GetLastPInvokeError();
            if (errno is not (EIsDir or ENotEmpty) || attempt == 100)
            {
                throw new IOException($"rename failed (errno {errno})");
            }

            Remove(to);
        }
    }

    private static void Exchange(string a, string b)
    {
        if (NativeMethods.Renameat2(AtFdCwd, a, AtFdCwd, b, RenameExchange) != 0)
        {
            throw new IOException($"renameat2(RENAME_EXCHANGE) failed (errno {Marshal.GetLastPInvokeError()})");
        }
    }

    private const int AtFdCwd = -100;
    private const int EIsDir = 21;
    private const int ENotEmpty = 39;
    private const uint RenameExchange = 2;

    private static class NativeMethods
    {
        [DllImport("libc", EntryPoint = "symlink", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        internal static extern int Symlink([MarshalAs(UnmanagedType.LPUTF8Str)] string target, [MarshalAs(UnmanagedType.LPUTF8Str)] string path);

        [DllImport("libc", EntryPoint = "renameat2", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        internal static extern int Renameat2(int fromDirectory, [MarshalAs(UnmanagedType.LPUTF8Str)] string from, int toDirectory,
            [MarshalAs(UnmanagedType.LPUTF8Str)] string to, uint flags);
    }
}
