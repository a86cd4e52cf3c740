using System.Text.Json;
using Flowith2Api.ToolService.Sandbox;

namespace Flowith2Api.ToolService.Tools.Cli;

/// <summary>file_move: moves or renames a file or directory inside the workspace; never overwrites.</summary>
public sealed class FileMoveTool : WorkspaceTool
{
    private static readonly JsonElement Schema = ToolArgs.Schema("""
        {
          "type": "object",
          "properties": {
            "source": { "type": "string", "description": "Existing file or directory, relative to the workspace." },
            "destination": { "type": "string", "description": "New path relative to the workspace; it must not exist yet. Missing parent directories are created." }
          },
          "required": ["source", "destination"],
          "additionalProperties": false
        }
        """);

    public override string Name => "file_move";

    public override string Description => "Moves or renames a file or directory inside the workspace. The destination must not exist.";

    public override JsonElement InputSchema => Schema;

    protected override Task<ToolResult> RunAsync(JsonElement arguments, ToolContext context, CancellationToken cancellationToken)
    {
        using var workspace = WorkspaceDirectory.Open(context);
        var source = workspace.Resolve(ArgumentReader.RequiredText(arguments, "source"));
        var destination = workspace.Resolve(ArgumentReader.RequiredText(arguments, "destination"));
        FileText.RequireNotRoot(source, "source");
        FileText.RequireNotRoot(destination, "destination");
        if (!source.Status.Exists)
        {
            return Task.FromResult(ToolResult.Error($"{source.Display} does not exist."));
        }

        if (destination.Status.Exists)
        {
            return Task.FromResult(ToolResult.Error($"{destination.Display} already exists; choose another destination or delete it first."));
        }

        switch (source.Status.Kind)
        {
            case FileKind.Directory when destination.RelativePath.StartsWith(source.RelativePath + "/", StringComparison.Ordinal):
                return Task.FromResult(ToolResult.Error($"{source.Display} cannot be moved into itself."));
            case FileKind.Directory or FileKind.File:
                // One rename of one name in each directory: whatever the names lead to, nothing leaves the workspace.
                workspace.Move(source, destination);
                break;
            default:
                return Task.FromResult(ToolResult.Error($"{source.Display} is neither a file nor a directory."));
        }

        return Task.FromResult(ToolResult.Ok($"Moved {source.Display} to {destination.Display}."));
    }
}
