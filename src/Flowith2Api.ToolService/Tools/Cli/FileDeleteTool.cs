using System.Text.Json;
using Flowith2Api.ToolService.Sandbox;

namespace Flowith2Api.ToolService.Tools.Cli;

/// <summary>file_delete: removes a file (or a link: only the link goes, never what it points to).</summary>
public sealed class FileDeleteTool : WorkspaceTool
{
    private static readonly JsonElement Schema = ToolArgs.Schema("""
        {
          "type": "object",
          "properties": {
            "path": { "type": "string", "description": "File path relative to the workspace." }
          },
          "required": ["path"],
          "additionalProperties": false
        }
        """);

    public override string Name => "file_delete";

    public override string Description => "Deletes a file from the workspace (use directory_delete for directories).";

    public override JsonElement InputSchema => Schema;

    protected override Task<ToolResult> RunAsync(JsonElement arguments, ToolContext context, CancellationToken cancellationToken)
    {
        using var workspace = WorkspaceDirectory.Open(context);
        var path = workspace.Resolve(ArgumentReader.RequiredText(arguments, "path"), allowLinkedLeaf: true);
        FileText.RequireNotRoot(path, "file");
        switch (path.Status.Kind)
        {
            case FileKind.Missing:
                return Task.FromResult(ToolResult.Error($"{path.Display} does not exist."));
            case FileKind.Directory:
                return Task.FromResult(ToolResult.Error($"{path.Display} is a directory; use directory_delete to remove it."));
        }

        workspace.DeleteFile(path);
        return Task.FromResult(ToolResult.Ok($"Deleted {path.Display}."));
    }
}
