using System.Text.Json;
using Flowith2Api.ToolService.Sandbox;

namespace Flowith2Api.ToolService.Tools.Cli;

/// <summary>How the command tools use the sandbox: refusal when it is missing, limits from <see cref="ToolOptions"/>.</summary>
public static class SandboxCommands
{
    /// <summary>The schema fragment of an optional <c>timeout_ms</c>.</summary>
    public const string TimeoutProperty = """
        "timeout_ms": { "type": "integer", "minimum": 1, "description": "Wall-clock limit in milliseconds; at most the server's limit, which is also the default." }
        """;

    /// <summary>The sandbox's reason when commands cannot run, else null.</summary>
    public static ToolResult? RefusalIfUnavailable(ISandbox sandbox) =>
        sandbox.IsAvailable
            ? null
            : ToolResult.Error(sandbox.UnavailableReason ?? "Commands cannot run because the sandbox is not available.");

    /// <summary>The requested <c>timeout_ms</c>, never above the configured command timeout.</summary>
    public static TimeSpan Timeout(JsonElement arguments, ToolOptions options)
    {
        var requested = ArgumentReader.OptionalInt(arguments, "timeout_ms", 1);
        return requested is { } milliseconds && milliseconds < options.CommandTimeout.TotalMilliseconds
            ? TimeSpan.FromMilliseconds(milliseconds)
            : options.CommandTimeout;
    }

    public static SandboxCommand Create(ToolContext context, ToolOptions options, TimeSpan timeout, string program, params IReadOnlyList<string> arguments)
    {
        // Checks that the workspace itself is a plain directory (not a link) before binding it.
        WorkspaceDirectory.Open(context).Dispose();
        return new SandboxCommand
        {
            Program = program,
            Arguments = arguments,
            Workspace = WorkspacePaths.NormalizeRoot(context.Workspace),
            Timeout = timeout,
            // A backstop above the wall time, so a busy single-threaded program is reported as timed out.
            CpuSeconds = (int)Math.Ceiling(timeout.TotalSeconds) + 1,
            MaxOutputBytes = options.MaxOutputBytes,
        };
    }

    public static CommandOutput ToOutput(SandboxResult result) =>
        new(result.Stdout, result.Stderr, result.ExitCode, result.TimedOut, result.OutputTruncated);
}
