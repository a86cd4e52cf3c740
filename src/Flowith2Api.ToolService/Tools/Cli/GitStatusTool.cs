using System.Text.Json;
using Flowith2Api.ToolService.Sandbox;
using Microsoft.Extensions.Options;

namespace Flowith2Api.ToolService.Tools.Cli;

/// <summary>git_status: <c>git status</c> of the repository holding a workspace path, run in the sandbox.</summary>
public sealed class GitStatusTool(ISandbox sandbox, IOptions<ToolOptions> options) : SandboxedTool(sandbox)
{
    private static readonly JsonElement Schema = ToolArgs.Schema("""
        {
          "type": "object",
          "properties": {
            "path": { "type": "string", "description": "A directory of the repository, or one file, relative to the workspace. Default: the workspace root." }
          },
          "additionalProperties": false
        }
        """);

    public override string Name => "git_status";

    public override string Description => "Shows 'git status' for a repository in the workspace (run in the sandbox).";

    public override JsonElement InputSchema => Schema;

    protected override Task<ToolResult> RunAsync(JsonElement arguments, ToolContext context, CancellationToken cancellationToken) =>
        GitCommand.RunAsync(Sandbox, options.Value, context, ArgumentReader.OptionalText(arguments, "path"), ["status"], "", cancellationToken);
}
