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
        using var workspace = WorkspaceDirectory.Open(context);
        var path = workspace.Resolve(ArgumentReader.RequiredText(arguments, "path"));
        var recursive = ArgumentReader.OptionalFlag(arguments, "recursive");
        if (path.IsRoot)
        {
            return Task.FromResult(ToolResult.Error("The workspace root cannot be deleted."));
        }

        FileText.RequireDirectory(path);
        if (!recursive)
        {
            workspace.DeleteEmptyDirectory(path);
            return Task.FromResult(ToolResult.Ok($"Deleted directory {path.Display}."));
        }

        var removed = workspace.DeleteTree(path, cancellationToken);
        return Task.FromResult(ToolResult.Ok($"Deleted directory {path.Display} and {(removed == 1 ? "1 entry" : $"{removed} entries")} inside it."));
    }
}
