using System.Text.Json;
using Flowith2Api.ToolService.Sandbox;
using Microsoft.Extensions.Options;

namespace Flowith2Api.ToolService.Tools.Cli;

/// <summary>file_write: creates or replaces (or appends to) a text file, creating its parent directories.</summary>
public sealed class FileWriteTool(IOptions<ToolOptions> options) : WorkspaceTool
{
    private static readonly JsonElement Schema = ToolArgs.Schema("""
        {
          "type": "object",
          "properties": {
            "path": { "type": "string", "description": "File path relative to the workspace; missing parent directories are created." },
            "content": { "type": "string", "description": "The text to write (UTF-8)." },
            "append": { "type": "boolean", "description": "Append to the file instead of replacing it. Default false." }
          },
          "required": ["path", "content"],
          "additionalProperties": false
        }
        """);

    public override string Name => "file_write";

    public override string Description => "Writes a text file in the workspace, replacing it or appending to it; creates parent directories.";

    public override JsonElement InputSchema => Schema;

    protected override async Task<ToolResult> RunAsync(JsonElement arguments, ToolContext context, CancellationToken cancellationToken)
    {
        var path = WorkspacePaths.Resolve(context.Workspace, ArgumentReader.RequiredText(arguments, "path"));
        var content = ArgumentReader.RequiredText(arguments, "content", allowEmpty: true);
        var append = ArgumentReader.OptionalFlag(arguments, "append");
        FileText.RequireNotRoot(path, "file");
        if (path.Status.Kind is not (FileKind.File or FileKind.Missing))
        {
            return ToolResult.Error($"{path.Display} exists and is not a regular file.");
        }

        var cap = options.Value.MaxWriteBytes;
        var bytes = FileText.Utf8.GetBytes(content);
        var existing = append ? path.Status.Size : 0;
        if (existing + bytes.Length > cap)
        {
            return ToolResult.Error(
                $"Writing {FileText.Bytes(bytes.Length)}{(append ? $" to a file of {FileText.Bytes(existing)}" : "")} would exceed the write limit of {FileText.Bytes(cap)}.");
        }

        Directory.CreateDirectory(Path.GetDirectoryName(path.FullPath)!);
        await using (var stream = new FileStream(path.FullPath, append ? FileMode.Append : FileMode.Create, FileAccess.Write, FileShare.None, 16 * 1024, FileOptions.Asynchronous))
        {
            await stream.WriteAsync(bytes, cancellationToken);
        }

        return ToolResult.Ok(append
            ? $"Appended {FileText.Bytes(bytes.Length)} to {path.Display} (now {FileText.Bytes(existing + bytes.Length)})."
            : $"Wrote {FileText.Bytes(bytes.Length)} to {path.Display}.");
    }
}
