using System.Text;
using System.Text.Json;
using Flowith2Api.ToolService.Sandbox;
using Microsoft.Extensions.Options;

namespace Flowith2Api.ToolService.Tools.Cli;

/// <summary>file_read: a text file of the workspace, whole or a range of lines, within the read cap.</summary>
public sealed class FileReadTool(IOptions<ToolOptions> options) : WorkspaceTool
{
    private static readonly JsonElement Schema = ToolArgs.Schema("""
        {
          "type": "object",
          "properties": {
            "path": { "type": "string", "description": "File path relative to the workspace." },
            "offset": { "type": "integer", "minimum": 1, "description": "First line to read (1-based). Default 1." },
            "limit": { "type": "integer", "minimum": 1, "description": "How many lines to read. Default: to the end." }
          },
          "required": ["path"],
          "additionalProperties": false
        }
        """);

    public override string Name => "file_read";

    public override string Description =>
        "Reads a text file from the workspace. Give offset and limit (line numbers) to read part of a large file.";

    public override JsonElement InputSchema => Schema;

    protected override async Task<ToolResult> RunAsync(JsonElement arguments, ToolContext context, CancellationToken cancellationToken)
    {
        using var workspace = WorkspaceDirectory.Open(context);
        var path = workspace.Resolve(ArgumentReader.RequiredText(arguments, "path"));
        var offset = ArgumentReader.OptionalInt(arguments, "offset", 1);
        var limit = ArgumentReader.OptionalInt(arguments, "limit", 1);
        FileText.RequireFile(path);
        var cap = options.Value.MaxReadBytes;

        // Everything below reads the descriptor that was opened and checked, never the path again.
        using var file = workspace.OpenFile(path);
        if (FileText.LooksBinary(file))
        {
            return ToolResult.Error($"{path.Display} looks like a binary file (it contains NUL bytes) and cannot be shown as text.");
        }

        if (offset is null && limit is null)
        {
            if (file.Status.Size > cap)
            {
                return ToolResult.Error(
                    $"{path.Display} is {FileText.Bytes(file.Status.Size)}, over the read limit of {FileText.Bytes(cap)}. "
                    + "Read it in parts with offset and limit (line numbers).");
            }

            var bytes = file.ReadAll(cap);
            if (bytes is null)
            {
                return ToolResult.Error($"{path.Display} grew over the read limit of {FileText.Bytes(cap)} while being read.");
            }

            return ToolResult.Ok(FileText.Decode(bytes).Text);
        }

        return await ReadLinesAsync(path, file, offset ?? 1, limit ?? int.MaxValue, cap, cancellationToken);
    }

    private static async Task<ToolResult> ReadLinesAsync(WorkspacePath path, WorkspaceFile file, int offset, int limit, long cap, CancellationToken cancellationToken)
    {
        await using var stream = file.OpenStream();
        using var reader = new StreamReader(stream, FileText.Utf8, detectEncodingFromByteOrderMarks: true);
        var lineNumber = 0;
        var text = new StringBuilder();
        long bytes = 0;
        var lastShown = offset - 1;
        var capped = false;
        while (await reader.ReadLineAsync(cancellationToken) is { } line)
        {
            lineNumber++;
            if (lineNumber < offset)
            {
                continue;
            }

            if (lineNumber >= offset + (long)limit)
            {
                return ToolResult.Ok(text + Continuation(offset, lastShown));
            }

            var size = FileText.Utf8.GetByteCount(line) + 1;
            if (bytes + size > cap)
            {
                capped = true;
                break;
            }

            bytes += size;
            text.Append(line).Append('\n');
            lastShown = lineNumber;
        }

        if (lineNumber < offset && !(lineNumber == 0 && offset == 1))
        {
            return ToolResult.Error($"offset {offset} is past the end of {path.Display}, which has {lineNumber} lines.");
        }

        if (capped)
        {
            if (lastShown < offset)
            {
                return ToolResult.Error($"Line {offset} of {path.Display} alone is over the read limit of {FileText.Bytes(cap)}.");
            }

            return ToolResult.Ok(text + Continuation(offset, lastShown, cap));
        }

        return ToolResult.Ok(text.ToString());
    }

    private static string Continuation(int offset, int lastShown, long? capBytes = null) =>
        $"[lines {offset}-{lastShown} shown{(capBytes is { } cap ? $" (read limit of {FileText.Bytes(cap)} reached)" : "")}; "
        + $"the file continues, read on with offset={lastShown + 1}]";
}
