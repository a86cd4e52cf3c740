using System.Text.Json;
using Flowith2Api.ToolService.Sandbox;
using Microsoft.Extensions.Options;

namespace Flowith2Api.ToolService.Tools.Cli;

/// <summary>bash_execute: <c>bash -c command</c> in the sandbox, in the caller's workspace.</summary>
public sealed class BashExecuteTool(ISandbox sandbox, IOptions<ToolOptions> options) : SandboxedTool(sandbox)
{
    private static readonly JsonElement Schema = ToolArgs.Schema($$"""
        {
          "type": "object",
          "properties": {
            "command": { "type": "string", "description": "A bash command line, run with 'bash -c' in /workspace." },
            {{SandboxCommands.TimeoutProperty}}
          },
          "required": ["command"],
          "additionalProperties": false
        }
        """);

    public override string Name => "bash_execute";

    public override string Description =>
        "Runs a bash command in an isolated sandbox with the workspace as /workspace: no network, read-only system "
        + "directories, a private /tmp, and time, CPU, memory and output limits. Answers stdout, stderr, exit_code, timed_out and truncated.";

    public override JsonElement InputSchema => Schema;

    protected override async Task<ToolResult> RunAsync(JsonElement arguments, ToolContext context, CancellationToken cancellationToken)
    {
        if (SandboxCommands.RefusalIfUnavailable(Sandbox) is { } refusal)
        {
            return refusal;
        }

        var command = ArgumentReader.RequiredText(arguments, "command");
        if (command.Contains('\0', StringComparison.Ordinal))
        {
            return ToolResult.Error("The command contains a NUL character.");
        }

        var settings = options.Value;
        var timeout = SandboxCommands.Timeout(arguments, settings);
        var result = await Sandbox.RunAsync(SandboxCommands.Create(context, settings, timeout, "bash", "-c", command), cancellationToken);
        return ToolResult.Json(SandboxCommands.ToOutput(result), CliJsonContext.Default.CommandOutput);
    }
}
