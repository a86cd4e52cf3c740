using System.Text.Json;
using Flowith2Api.ToolService.Sandbox;

namespace Flowith2Api.ToolService.Tools.Cli;

/// <summary>
/// directory_delete: removes an empty directory, or with <c>recursive</c> everything below it. Links inside are
/// removed as links; nothing they point to is entered or touched.
/// </summary>
public sealed class DirectoryDeleteTool : WorkspaceTool
{
    private static readonly JsonElement Schema = ToolArgs.Schema("""
        {
          "type": "object",
          "properties": {
            "path": { "type": "string", "description": "Directory path relative to the workspace." },
            "recursive": { "type": "boolean", "description": "Also delete everything inside it. Default false (the directory must be empty)." }
          },
          "required": ["path"],
          "additionalProperties": false
        }
        """);

    public override string Name => "directory_delete";

    public override string Description => "Deletes a directory from the workspace; set recursive to delete a directory that is not empty.";

    public override JsonElement InputSchema => Schema;

    protected override Task<ToolResult> RunAsync(JsonElement arguments, ToolContext context, CancellationToken cancellationToken)
    {
        var path = WorkspacePaths.Resolve(context.Workspace, ArgumentReader.RequiredText(arguments, "path"));
        var recursive = ArgumentReader.OptionalFlag(arguments, "recursive");
        if (path.IsRoot)
        {
            return Task.FromResult(ToolResult.Error("The workspace root cannot be deleted."));
        }

        FileText.RequireDirectory(path);
        if (!recursive)
        {
            if (Directory.EnumerateFileSystemEntries(path.FullPath).Any())
            {
                return Task.FromResult(ToolResult.Error($"{path.Display} is not empty; set recursive to true to delete it with its contents."));
            }

            Directory.Delete(path.FullPath);
            return Task.FromResult(ToolResult.Ok($"Deleted directory {path.Display}."));
        }

        var removed = DeleteTree(path.FullPath, cancellationToken);
        return Task.FromResult(ToolResult.Ok($"Deleted directory {path.Display} and {(removed == 1 ? "1 entry" : $"{removed} entries")} inside it."));
    }

    /// <summary>Removes a directory tree bottom-up, unlinking links and files without following them.</summary>
    private static int DeleteTree(string directory, CancellationToken cancellationToken)
    {
        var removed = 0;
        string[] entries = [.. Directory.EnumerateFileSystemEntries(directory, "*", new EnumerationOptions { AttributesToSkip = 0, RecurseSubdirectories = false })];
        foreach (var entry in entries)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (FileStatus.Of(entry).Kind == FileKind.Directory)
            {
                removed += DeleteTree(entry, cancellationToken);
            }
            else
            {
                File.Delete(entry);
            }

            removed++;
        }

        Directory.Delete(directory);
        return removed;
    }
}
