using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace Flowith2Api.ToolService.Sandbox;

/// <summary>
/// The Linux calls the workspace needs that .NET does not offer: opening relative to a directory handle
/// (<c>openat2</c>, <c>openat</c>), and the <c>*at</c> family that acts on one name in a directory without following it.
/// </summary>
/// <remarks>
/// Two open flags differ by architecture: the generic layout (x86, x86-64, riscv64, loongarch64, s390x) and the one of
/// arm, arm64 and ppc64le. <see cref="WorkspaceDirectory"/> checks at first use that they behave as they must.
/// </remarks>
internal static class LinuxFileCalls
{
    public const int ENOENT = 2;
    public const int EEXIST = 17;
    public const int EXDEV = 18;
    public const int ENOTDIR = 20;
    public const int EISDIR = 21;
    public const int EINVAL = 22;
    public const int ENOSYS = 38;
    public const int ENOTEMPTY = 39;
    public const int ELOOP = 40;
    public const int EPERM = 1;
    public const int EACCES = 13;
    public const int E2BIG = 7;

    public const int ORdOnly = 0;
    public const int OWrOnly = 1;
    public const int OCreat = 0x40;
    public const int OExcl = 0x80;
    public const int ONoCtty = 0x100;
    public const int ONonBlock = 0x800;
    public const int OCloExec = 0x80000;
    public const int OPath = 0x200000;

    public static readonly int ODirectory = ArmLayout ? 0x4000 : 0x10000;
    public static readonly int ONoFollow = ArmLayout ? 0x8000 : 0x20000;

    public const int AtFdCwd = -100;
    public const int AtSymlinkNoFollow = 0x100;
    public const int AtRemoveDir = 0x200;
    public const int AtEmptyPath = 0x1000;

    public const uint RenameNoReplace = 1;

    public const ulong ResolveNoXdev = 0x01;
    public const ulong ResolveNoMagicLinks = 0x02;
    public const ulong ResolveNoSymlinks = 0x04;
    public const ulong ResolveBeneath = 0x08;

    /// <summary>Everything the workspace resolves: below the handle, no symbolic link anywhere, no other mount.</summary>
    public const ulong ResolveInWorkspace = ResolveBeneath | ResolveNoSymlinks | ResolveNoMagicLinks | ResolveNoXdev;

    /// <summary>The openat2 system call number: the same on every architecture (it came after the tables were unified).</summary>
    private const nint SysOpenat2 = 437;

    private static bool ArmLayout => RuntimeInformation.ProcessArchitecture is Architecture.Arm or Architecture.Arm64 or Architecture.Ppc64le;

    /// <summary>A NUL-terminated UTF-8 copy of a path for the native calls.</summary>
    public static byte[] Path(string path)
    {
        var bytes = new byte[Encoding.UTF8.GetByteCount(path) + 1];
        Encoding.UTF8.GetBytes(path, bytes);
        return bytes;
    }

    public static int Fd(SafeFileHandle handle) => (int)handle.DangerousGetHandle();

    public static SafeFileHandle Own(int fd) => new((IntPtr)fd, ownsHandle: true);

    public static int Errno => Marshal.GetLastPInvokeError();

    /// <summary><c>openat2(dir, path, {flags, mode, resolve})</c>: a descriptor, or -1 with errno.</summary>
    public static int Openat2(SafeFileHandle directory, string path, int flags, int mode, ulong resolve)
    {
        var how = new OpenHow { Flags = (ulong)(uint)flags, Mode = (ulong)(uint)mode, Resolve = resolve };
        return (int)NativeMethods.Syscall(SysOpenat2, Fd(directory), Path(path), ref how, (nuint)Marshal.SizeOf<OpenHow>());
    }

    public static int Openat(SafeFileHandle directory, string path, int flags, int mode) =>
        NativeMethods.Openat(Fd(directory), Path(path), flags, mode);

    public static int OpenAbsolute(string path, int flags) => NativeMethods.Openat(AtFdCwd, Path(path), flags, 0);

    public static int Mkdirat(SafeFileHandle directory, string name, int mode) => NativeMethods.Mkdirat(Fd(directory), Path(name), mode);

    public static int Unlinkat(SafeFileHandle directory, string name, int flags) => NativeMethods.Unlinkat(Fd(directory), Path(name), flags);

    public static int Renameat2(SafeFileHandle from, string fromName, SafeFileHandle to, string toName, uint flags) =>
        NativeMethods.Renameat2(Fd(from), Path(fromName), Fd(to), Path(toName), flags);

    /// <summary>Plain <c>renameat</c>, for kernels or filters without <c>renameat2</c>.</summary>
    public static int Renameat(SafeFileHandle from, string fromName, SafeFileHandle to, string toName) =>
        NativeMethods.Renameat(Fd(from), Path(fromName), Fd(to), Path(toName));

    public static int Symlinkat(string target, SafeFileHandle directory, string name) => NativeMethods.Symlinkat(Path(target), Fd(directory), Path(name));

    public static int Fchmod(SafeFileHandle file, int mode) => NativeMethods.Fchmod(Fd(file), mode);

    /// <summary><c>statx</c> of an open descriptor (<c>AT_EMPTY_PATH</c>): what was opened, not what a name points to now.</summary>
    public static int Statx(SafeFileHandle file, byte[] buffer) =>
        NativeMethods.Statx(Fd(file), [0], AtEmptyPath | AtSymlinkNoFollow, StatxBasicStats, buffer);

    /// <summary><c>statx</c> of one name in a directory, not following it.</summary>
    public static int Statx(SafeFileHandle directory, string name, byte[] buffer) =>
        NativeMethods.Statx(Fd(directory), Path(name), AtSymlinkNoFollow, StatxBasicStats, buffer);

    /// <summary>The names in an open directory (not "." and ".."), read through its own descriptor; null with errno on failure.</summary>
    public static List<string>? ReadDirectory(SafeFileHandle directory, out int errno)
    {
        // fdopendir takes the descriptor over; give it a copy opened for reading, so the caller's handle stays its own.
        var fd = NativeMethods.Openat(Fd(directory), Path("."), ORdOnly | ODirectory | OCloExec, 0);
        if (fd < 0)
        {
            errno = Errno;
            return null;
        }

        var stream = NativeMethods.Fdopendir(fd);
        if (stream == IntPtr.Zero)
        {
            errno = Errno;
            _ = NativeMethods.Close(fd);
            return null;
        }

        var names = new List<string>();
        try
        {
            while (true)
            {
                // A null entry is the end when errno is 0 (the call starts with errno cleared), else a failure.
                var entry = NativeMethods.Readdir64(stream);
                if (entry == IntPtr.Zero)
                {
                    errno = Errno;
                    return errno == 0 ? names : null;
                }

                // struct dirent64 (glibc, every architecture): u64 d_ino, s64 d_off, u16 d_reclen, u8 d_type, char d_name[] at 19.
                var name = Marshal.PtrToStringUTF8(entry + DirentNameOffset);
                if (name is not (null or "." or ".."))
                {
                    names.Add(name);
                }
            }
        }
        finally
        {
            _ = NativeMethods.Closedir(stream);
        }
    }

    private const int DirentNameOffset = 19;
    private const uint StatxBasicStats = 0x7ff;

    [StructLayout(LayoutKind.Sequential)]
    private struct OpenHow
    {
        public ulong Flags;
        public ulong Mode;
        public ulong Resolve;
    }

    private static class NativeMethods
    {
        [DllImport("libc", EntryPoint = "syscall", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        internal static extern nint Syscall(nint number, int directory, byte[] path, ref OpenHow how, nuint size);

        [DllImport("libc", EntryPoint = "openat", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        internal static extern int Openat(int directory, byte[] path, int flags, int mode);

        [DllImport("libc", EntryPoint = "mkdirat", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        internal static extern int Mkdirat(int directory, byte[] name, int mode);

        [DllImport("libc", EntryPoint = "unlinkat", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        internal static extern int Unlinkat(int directory, byte[] name, int flags);

        [DllImport("libc", EntryPoint = "renameat2", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        internal static extern int Renameat2(int fromDirectory, byte[] fromName, int toDirectory, byte[] toName, uint flags);

        [DllImport("libc", EntryPoint = "fchmod", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        internal static extern int Fchmod(int fd, int mode);

        [DllImport("libc", EntryPoint = "statx", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        internal static extern int Statx(int directory, byte[] path, int flags, uint mask, byte[] buffer);

        [DllImport("libc", EntryPoint = "fdopendir", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        internal static extern IntPtr Fdopendir(int fd);

        [DllImport("libc", EntryPoint = "readdir64", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        internal static extern IntPtr Readdir64(IntPtr stream);

        [DllImport("libc", EntryPoint = "renameat", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        internal static extern int Renameat(int fromDirectory, byte[] fromName, int toDirectory, byte[] toName);

        [DllImport("libc", EntryPoint = "symlinkat", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        internal static extern int Symlinkat(byte[] target, int directory, byte[] name);

        [DllImport("libc", EntryPoint = "closedir", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        internal static extern int Closedir(IntPtr stream);

        [DllImport("libc", EntryPoint = "close", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        internal static extern int Close(int fd);
    }
}
