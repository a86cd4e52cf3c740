using Flowith2Api.ToolService.Sandbox;

namespace Flowith2Api.ToolService.Tools.Cli;

/// <summary>Runs git in the sandbox for a workspace path (a directory, or a file as a pathspec of its directory).</summary>
internal static class GitCommand
{
    public static async Task<ToolResult> RunAsync(
        ISandbox sandbox,
        ToolOptions options,
        ToolContext context,
        string? userPath,
        IReadOnlyList<string> gitArguments,
        string emptyOutput,
        CancellationToken cancellationToken)
    {
        if (SandboxCommands.RefusalIfUnavailable(sandbox) is { } refusal)
        {
            return refusal;
        }

        WorkspacePath path;
        using (var workspace = WorkspaceDirectory.Open(context))
        {
            path = workspace.Resolve(userPath); // only to choose how git is called: git itself runs in the sandbox
        }

        string directory;
        string? pathspec = null;
        switch (path.Status.Kind)
        {
            case FileKind.Directory:
                directory = path.SandboxPath;
                break;
            case FileKind.File:
                directory = path.SandboxPath[..path.SandboxPath.LastIndexOf('/')];
                pathspec = Path.GetFileName(path.RelativePath);
                break;
            case FileKind.Missing:
                return ToolResult.Error($"{path.Display} does not exist.");
            default:
                return ToolResult.Error($"{path.Display} is neither a file nor a directory.");
        }

        List<string> arguments =
        [
            "--no-optional-locks",
            "-c", "color.ui=never",
            "-c", "core.quotepath=off",
            "-c", "safe.directory=*",
            "-C", directory,
            .. gitArguments,
        ];
        if (pathspec is not null)
        {
            arguments.AddRange(["--", pathspec]);
        }

        var result = await sandbox.RunAsync(SandboxCommands.Create(context, options, options.CommandTimeout, "git", arguments), cancellationToken);
        if (result.TimedOut)
        {
            return ToolResult.Error($"git did not finish within {(long)options.CommandTimeout.TotalMilliseconds} ms.");
        }

        if (result.ExitCode != 0)
        {
            if (result.Stderr.Contains("not a git repository", StringComparison.OrdinalIgnoreCase))
            {
                return ToolResult.Error($"{path.Display} is not inside a git repository. Create one with bash_execute: git init");
            }

            return ToolResult.Error($"git failed (exit code {result.ExitCode}): {result.Stderr.Trim()}");
        }

        var text = result.Stdout.Length == 0 ? emptyOutput : result.Stdout;
        return ToolResult.Ok(result.OutputTruncated ? $"{text}\n[output truncated at {options.MaxOutputBytes} bytes]" : text);
    }
}
