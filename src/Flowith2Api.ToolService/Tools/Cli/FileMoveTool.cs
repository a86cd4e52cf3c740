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
        var source = WorkspacePaths.Resolve(context.Workspace, ArgumentReader.RequiredText(arguments, "source"));
        var destination = WorkspacePaths.Resolve(context.Workspace, ArgumentReader.RequiredText(arguments, "destination"));
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

        Directory.CreateDirectory(Path.GetDirectoryName(destination.FullPath)!);
        switch (source.Status.Kind)
        {
            case FileKind.Directory:
                if (destination.RelativePath.StartsWith(source.RelativePath + "/", StringComparison.Ordinal))
                {
                    return Task.FromResult(ToolResult.Error($"{source.Display} cannot be moved into itself."));
                }

                Directory.Move(source.FullPath, destination.FullPath);
                break;
            case FileKind.File:
                File.Move(source.FullPath, destination.FullPath);
                break;
            default:
                return Task.FromResult(ToolResult.Error($"{source.Display} is neither a file nor a directory."));
        }

        return Task.FromResult(ToolResult.Ok($"Moved {source.Display} to {destination.Display}."));
    }
}
