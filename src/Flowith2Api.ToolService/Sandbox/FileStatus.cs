using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

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

/// <summary>What the workspace checks need of an entry: kind, hard-link count, size, modification time, permissions, device.</summary>
public readonly record struct FileStatus(FileKind Kind, long LinkCount, long Size, DateTimeOffset LastWriteUtc)
{
    public static readonly FileStatus Missing = new(FileKind.Missing, 0, 0, default);

    public bool Exists => Kind != FileKind.Missing;

    /// <summary>What an open descriptor refers to (<c>statx</c> with <c>AT_EMPTY_PATH</c>): the thing opened, not a name.</summary>
    public static FileStatus Of(SafeFileHandle file)
    {
        var buffer = new byte[StatxSize];
        return LinuxFileCalls.Statx(file, buffer) == 0
            ? Parse(buffer)
            : throw new IOException($"The entry's status could not be read (errno {LinuxFileCalls.Errno}).");
    }

    /// <summary>
    /// One name in an open directory, not following it (<c>statx</c> with <c>AT_SYMLINK_NOFOLLOW</c>). A missing entry
    /// is <see cref="Missing"/>; any other failure throws.
    /// </summary>
    public static FileStatus Of(SafeFileHandle directory, string name)
    {
        var buffer = new byte[StatxSize];
        if (LinuxFileCalls.Statx(directory, name, buffer) != 0)
        {
            var errno = LinuxFileCalls.Errno;
            return errno is LinuxFileCalls.ENOENT or LinuxFileCalls.ENOTDIR
                ? Missing
                : throw new IOException($"The entry's status could not be read (errno {errno}).");
        }

        return Parse(buffer);
    }

    /// <summary>The mode's permission bits (rwx for user, group and others, with setuid/setgid/sticky).</summary>
    public int Permissions { get; init; }

    /// <summary>The device the entry lives on (major and minor together): a different one means another mount.</summary>
    public ulong Device { get; init; }

    private static FileStatus Parse(byte[] buffer)
    {
        var mode = MemoryMarshal.Read<ushort>(buffer.AsSpan(ModeOffset));
        var kind = (mode & FileTypeMask) switch
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
        var device = ((ulong)Read32(buffer, DevMajorOffset) << 32) | Read32(buffer, DevMinorOffset);
        return new FileStatus(kind, linkCount, size, lastWrite) { Permissions = mode & 0xFFF, Device = device };
    }

    private static uint Read32(byte[] buffer, int offset) => MemoryMarshal.Read<uint>(buffer.AsSpan(offset));

    private static ulong Read64(byte[] buffer, int offset) => MemoryMarshal.Read<ulong>(buffer.AsSpan(offset));

    // struct statx (linux/stat.h): u32 mask @0, u32 blksize @4, u64 attributes @8, u32 nlink @16, u32 uid @20,
    // u32 gid @24, u16 mode @28, u64 ino @32, u64 size @40, ..., timestamps of 16 bytes from @64 (atime, btime,
    // ctime, mtime @112), ..., u32 dev_major @136, u32 dev_minor @140; 256 bytes in all.
    private const int StatxSize = 256;
    private const int NlinkOffset = 16;
    private const int ModeOffset = 28;
    private const int SizeOffset = 40;
    private const int MtimeOffset = 112;
    private const int DevMajorOffset = 136;
    private const int DevMinorOffset = 140;
    private const int FileTypeMask = 0xF000;
    private const int RegularFile = 0x8000;
    private const int DirectoryType = 0x4000;
    private const int SymbolicLinkType = 0xA000;
}
