using System.Text;
using Flowith2Api.ToolService.Sandbox;

namespace Flowith2Api.ToolService.Tools.Cli;

/// <summary>Shared checks and text handling of the file tools.</summary>
internal static class FileText
{
    public static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false);

    private const int SniffBytes = 8 * 1024;

    /// <summary>The resolved entry must be an existing regular file.</summary>
    public static void RequireFile(WorkspacePath path)
    {
        switch (path.Status.Kind)
        {
            case FileKind.File:
                return;
            case FileKind.Missing:
                throw new ToolArgumentException($"{path.Display} does not exist.");
            case FileKind.Directory:
                throw new ToolArgumentException($"{path.Display} is a directory, not a file.");
            default:
                throw new ToolArgumentException($"{path.Display} is not a regular file.");
        }
    }

    public static void RequireDirectory(WorkspacePath path)
    {
        switch (path.Status.Kind)
        {
            case FileKind.Directory:
                return;
            case FileKind.Missing:
                throw new ToolArgumentException($"{path.Display} does not exist.");
            default:
                throw new ToolArgumentException($"{path.Display} is not a directory.");
        }
    }

    public static void RequireNotRoot(WorkspacePath path, string what)
    {
        if (path.IsRoot)
        {
            throw new ToolArgumentException($"A {what} path inside the workspace is required.");
        }
    }

    /// <summary>True when the first bytes hold a NUL, the usual sign of a binary file.</summary>
    public static bool LooksBinary(ReadOnlySpan<byte> bytes) => bytes[..Math.Min(bytes.Length, SniffBytes)].Contains((byte)0);

    /// <summary>True when the opened file's first bytes hold a NUL.</summary>
    public static bool LooksBinary(WorkspaceFile file)
    {
        Span<byte> buffer = stackalloc byte[SniffBytes];
        var read = 0;
        while (read < buffer.Length && file.Read(buffer[read..], read) is var count and > 0)
        {
            read += count;
        }

        return LooksBinary(buffer[..read]);
    }

    /// <summary>Splits a UTF-8 byte order mark from the text.</summary>
    public static (bool Bom, string Text) Decode(byte[] bytes)
    {
        var bom = bytes.Length >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF;
        return (bom, Utf8.GetString(bytes, bom ? 3 : 0, bytes.Length - (bom ? 3 : 0)));
    }

    public static byte[] Encode(bool bom, string text)
    {
        var body = Utf8.GetBytes(text);
        if (!bom)
        {
            return body;
        }

        var bytes = new byte[body.Length + 3];
        bytes[0] = 0xEF;
        bytes[1] = 0xBB;
        bytes[2] = 0xBF;
        body.CopyTo(bytes, 3);
        return bytes;
    }

    public static string Bytes(long count) => count == 1 ? "1 byte" : $"{count} bytes";
}
