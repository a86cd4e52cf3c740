using System.Text.Json;
using Flowith2Api.ToolService.Sandbox;

namespace Flowith2Api.ToolService.Tools.Cli;

/// <summary>directory_create: creates a directory and its missing parents.</summary>
public sealed class DirectoryCreateTool : WorkspaceTool
{
    private static readonly JsonElement Schema = ToolArgs.Schema("""
        {
          "type": "object",
          "properties": {
            "path": { "type": "string", "description": "Directory path relative to the workspace; missing parents are created." }
          },
          "required": ["path"],
          "additionalProperties": false
        }
        """);

    public override string Name => "directory_create";

    public override string Description => "Creates a directory (and any missing parent directories) in the workspace.";

    public override JsonElement InputSchema => Schema;

    protected override Task<ToolResult> RunAsync(JsonElement arguments, ToolContext context, CancellationToken cancellationToken)
    {
        using var workspace = WorkspaceDirectory.Open(context);
        var path = workspace.Resolve(ArgumentReader.RequiredText(arguments, "path"));
        FileText.RequireNotRoot(path, "directory");
        switch (path.Status.Kind)
        {
            case FileKind.Directory:
                return Task.FromResult(ToolResult.Ok($"{path.Display} already exists."));
            case FileKind.Missing:
                workspace.CreateDirectory(path);
                return Task.FromResult(ToolResult.Ok($"Created directory {path.Display}."));
            default:
                return Task.FromResult(ToolResult.Error($"{path.Display} exists and is not a directory."));
        }
    }
}
