using System.Text.Json;
using Flowith2Api.ToolService.Sandbox;
using Microsoft.Extensions.Options;

namespace Flowith2Api.ToolService.Tools.Cli;

/// <summary>git_diff: unstaged (or staged) changes of a repository in the workspace, run in the sandbox.</summary>
public sealed class GitDiffTool(ISandbox sandbox, IOptions<ToolOptions> options) : SandboxedTool(sandbox)
{
    private static readonly JsonElement Schema = ToolArgs.Schema("""
        {
          "type": "object",
          "properties": {
            "path": { "type": "string", "description": "A directory of the repository, or one file, relative to the workspace. Default: the workspace root." },
            "staged": { "type": "boolean", "description": "Show staged changes (git diff --staged) instead of unstaged ones. Default false." }
          },
          "additionalProperties": false
        }
        """);

    public override string Name => "git_diff";

    public override string Description => "Shows 'git diff' (or 'git diff --staged') for a repository in the workspace (run in the sandbox).";

    public override JsonElement InputSchema => Schema;

    protected override Task<ToolResult> RunAsync(JsonElement arguments, ToolContext context, CancellationToken cancellationToken)
    {
        var path = ArgumentReader.OptionalText(arguments, "path");
        var staged = ArgumentReader.OptionalFlag(arguments, "staged");
        string[] gitArguments = staged ? ["diff", "--no-ext-diff", "--staged"] : ["diff", "--no-ext-diff"];
        return GitCommand.RunAsync(Sandbox, options.Value, context, path, gitArguments, staged ? "No staged changes." : "No unstaged changes.", cancellationToken);
    }
}
