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

    protected override Task<ToolResult> RunAsync(JsonElement arguments, ToolContext context, CancellationToken cancellationToken)
    {
        using var workspace = WorkspaceDirectory.Open(context);
        var path = workspace.Resolve(ArgumentReader.RequiredText(arguments, "path"));
        var content = ArgumentReader.RequiredText(arguments, "content", allowEmpty: true);
        var append = ArgumentReader.OptionalFlag(arguments, "append");
        FileText.RequireNotRoot(path, "file");
        if (path.Status.Kind is not (FileKind.File or FileKind.Missing))
        {
            return Task.FromResult(ToolResult.Error($"{path.Display} exists and is not a regular file."));
        }

        var cap = options.Value.MaxWriteBytes;
        var bytes = FileText.Utf8.GetBytes(content);
        byte[] existing = [];
        if (append && path.Status.Exists)
        {
            // What is appended to is the file opened and checked here; the result replaces the name as a whole.
            using var file = workspace.OpenFile(path);
            var previous = file.Status.Size + bytes.Length <= cap ? file.ReadAll(cap - bytes.Length) : null;
            if (previous is null)
            {
                return Task.FromResult(ToolResult.Error(
                    $"Writing {FileText.Bytes(bytes.Length)} to a file of {FileText.Bytes(file.Status.Size)} would exceed the write limit of {FileText.Bytes(cap)}."));
            }

            existing = previous;
        }
        else if (bytes.Length > cap)
        {
            return Task.FromResult(ToolResult.Error($"Writing {FileText.Bytes(bytes.Length)} would exceed the write limit of {FileText.Bytes(cap)}."));
        }

        workspace.WriteFile(path, existing.Length == 0 ? bytes : [.. existing, .. bytes]);
        return Task.FromResult(ToolResult.Ok(append
            ? $"Appended {FileText.Bytes(bytes.Length)} to {path.Display} (now {FileText.Bytes(existing.Length + bytes.Length)})."
            : $"Wrote {FileText.Bytes(bytes.Length)} to {path.Display}."));
    }
}
