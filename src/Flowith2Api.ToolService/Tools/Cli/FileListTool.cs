using System.Text.Json;
using Flowith2Api.ToolService.Sandbox;

namespace Flowith2Api.ToolService.Tools.Cli;

/// <summary>file_list: the entries of a workspace directory with type and size, optionally recursive, capped.</summary>
public sealed class FileListTool : WorkspaceTool
{
    public const int MaxEntries = 1000;

    private static readonly JsonElement Schema = ToolArgs.Schema("""
        {
          "type": "object",
          "properties": {
            "path": { "type": "string", "description": "Directory relative to the workspace. Default: the workspace root." },
            "recursive": { "type": "boolean", "description": "Also list everything below subdirectories (not inside .git). Default false." }
          },
          "additionalProperties": false
        }
        """);

    public override string Name => "file_list";

    public override string Description =>
        $"Lists files and directories in the workspace with their type and size (at most {MaxEntries} entries).";

    public override JsonElement InputSchema => Schema;

    protected override Task<ToolResult> RunAsync(JsonElement arguments, ToolContext context, CancellationToken cancellationToken)
    {
        using var workspace = WorkspaceDirectory.Open(context);
        var path = workspace.Resolve(ArgumentReader.OptionalText(arguments, "path"));
        var recursive = ArgumentReader.OptionalFlag(arguments, "recursive");
        FileText.RequireDirectory(path);

        var entries = new List<FileListEntry>();
        var truncated = false;
        foreach (var entry in workspace.Walk(path, recursive, name => name == ".git"))
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (entries.Count == MaxEntries)
            {
                truncated = true;
                break;
            }

            entries.Add(new FileListEntry(entry.RelativePath, TypeName(entry.Status.Kind), entry.Status.Kind == FileKind.File ? entry.Status.Size : null));
        }

        return Task.FromResult(ToolResult.Json(new FileListResult(path.RelativePath, entries, truncated), CliJsonContext.Default.FileListResult));
    }

    internal static string TypeName(FileKind kind) => kind switch
    {
        FileKind.File => "file",
        FileKind.Directory => "directory",
        FileKind.SymbolicLink => "symlink",
        _ => "other",
    };
}
