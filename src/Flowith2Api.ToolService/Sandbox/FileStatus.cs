using System.Runtime.InteropServices;
using System.Text;

namespace Flowith2Api.ToolService.Sandbox;

/// <summary>What a directory entry is, without following symbolic links.</summary>
public enum FileKind
{
    Missing,
    File,
    Directory,
    SymbolicLink,
    Other,
}

/// <summary>The <c>lstat</c> facts the workspace checks need: kind, hard-link count, size and modification time.</summary>
public readonly record struct FileStatus(FileKind Kind, long LinkCount, long Size, DateTimeOffset LastWriteUtc)
{
    public static readonly FileStatus Missing = new(FileKind.Missing, 0, 0, default);

    public bool Exists => Kind != FileKind.Missing;

    /// <summary>
    /// Reads an entry's status with <c>statx(AT_SYMLINK_NOFOLLOW)</c>, whose result layout is the same on every
    /// architecture. A missing entry (or a missing parent) is <see cref="Missing"/>; any other failure throws.
    /// </summary>
    public static FileStatus Of(string path)
    {
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("The workspace checks need Linux.");
        }

        var nameBytes = Encoding.UTF8.GetByteCount(path);
        var name = new byte[nameBytes + 1];
        Encoding.UTF8.GetBytes(path, name);
        var buffer = new byte[StatxSize];
        if (NativeMethods.Statx(AtFdCwd, name, AtSymlinkNoFollow, StatxBasicStats, buffer) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            if (errno is ENoEnt or ENotDir)
            {
                return Missing;
            }

            throw new IOException($"The entry's status could not be read (errno {errno}).");
        }

        var mode = MemoryMarshal.Read<ushort>(buffer.AsSpan(ModeOffset)) & FileTypeMask;
        var kind = mode switch
        {
            RegularFile => FileKind.File,
            DirectoryType => FileKind.Directory,
            SymbolicLinkType => FileKind.SymbolicLink,
            _ => FileKind.Other,
        };
        var linkCount = Read32(buffer, NlinkOffset);
        var size = (long)Read64(buffer, SizeOffset);
        var seconds = (long)Read64(buffer, MtimeOffset);
        var nanoseconds = Read32(buffer, MtimeOffset + 8);
        var lastWrite = DateTimeOffset.UnixEpoch.AddSeconds(seconds).AddTicks(nanoseconds / 100);
        return new FileStatus(kind, linkCount, size, lastWrite);
    }

    private static uint Read32(byte[] buffer, int offset) => MemoryMarshal.Read<uint>(buffer.AsSpan(offset));

    private static ulong Read64(byte[] buffer, int offset) => MemoryMarshal.Read<ulong>(buffer.AsSpan(offset));

    // struct statx (linux/stat.h): u32 mask @0, u32 blksize @4, u64 attributes @8, u32 nlink @16, u32 uid @20,
    // u32 gid @24, u16 mode @28, u64 ino @32, u64 size @40, ..., timestamps of 16 bytes from @64 (atime, btime,
    // ctime, mtime @112); 256 bytes in all.
    private const int StatxSize = 256;
    private const int NlinkOffset = 16;
    private const int ModeOffset = 28;
    private const int SizeOffset = 40;
    private const int MtimeOffset = 112;
    private const int AtFdCwd = -100;
    private const int AtSymlinkNoFollow = 0x100;
    private const uint StatxBasicStats = 0x7ff;
    private const int FileTypeMask = 0xF000;
    private const int RegularFile = 0x8000;
    private const int DirectoryType = 0x4000;
    private const int SymbolicLinkType = 0xA000;
    private const int ENoEnt = 2;
    private const int ENotDir = 20;

    private static class NativeMethods
    {
        [DllImport("libc", EntryPoint = "statx", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        internal static extern int Statx(int dirFd, byte[] path, int flags, uint mask, byte[] buffer);
    }
}
