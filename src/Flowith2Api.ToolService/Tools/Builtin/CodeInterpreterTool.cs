using System.Text.Json;
using System.Text.Json.Serialization;
using Flowith2Api.ToolService.Sandbox;
using Flowith2Api.ToolService.Tools.Cli;
using Microsoft.Extensions.Options;

namespace Flowith2Api.ToolService.Tools.Builtin;

/// <summary>
/// code_interpreter: runs a Python or JavaScript snippet in the sandbox, in the caller's workspace, and reports its
/// output and the workspace files it created or changed.
/// </summary>
public sealed class CodeInterpreterTool(ISandbox sandbox, IOptions<ToolOptions> options) : SandboxedTool(sandbox)
{
    /// <summary>
    /// Scripts are written to the workspace root (so the code can import or require its neighbours) under this
    /// hidden prefix, and removed after the run.
    /// </summary>
    public const string ScriptPrefix = ".code_interpreter_run_";

    /// <summary>Workspace entries compared before and after a run, at most.</summary>
    public const int MaxTrackedFiles = 20_000;

    private static readonly JsonElement Schema = ToolArgs.Schema($$"""
        {
          "type": "object",
          "properties": {
            "language": { "type": "string", "enum": ["python", "javascript"], "description": "python (python3) or javascript (node)." },
            "code": { "type": "string", "description": "The program to run. Its working directory is the workspace (/workspace); print results to stdout." },
            {{SandboxCommands.TimeoutProperty}}
          },
          "required": ["language", "code"],
          "additionalProperties": false
        }
        """);

    public override string Name => "code_interpreter";

    public override string Description =>
        "Runs Python or JavaScript code in an isolated sandbox (no network) with the workspace as its working directory. "
        + "Answers stdout, stderr, exit_code, timed_out and created_files (workspace files the run created or changed).";

    public override JsonElement InputSchema => Schema;

    public override ToolKind Kind => ToolKind.Builtin;

    protected override async Task<ToolResult> RunAsync(JsonElement arguments, ToolContext context, CancellationToken cancellationToken)
    {
        if (SandboxCommands.RefusalIfUnavailable(Sandbox) is { } refusal)
        {
            return refusal;
        }

        var language = ArgumentReader.RequiredText(arguments, "language").Trim().ToLowerInvariant();
        var code = ArgumentReader.RequiredText(arguments, "code");
        var (program, flags, extension) = language switch
        {
            "python" or "python3" or "py" => ("python3", new[] { "-B" }, ".py"),
            "javascript" or "js" or "node" => ("node", Array.Empty<string>(), IsEsModule(code) ? ".mjs" : ".js"),
            _ => throw new ToolArgumentException("'language' must be \"python\" or \"javascript\"."),
        };
        if (!File.Exists("/usr/bin/" + program))
        {
            // The sandbox sees the host's /usr: a runtime that is not installed there cannot run (an image without Node).
            return ToolResult.Error($"{(program == "node" ? "JavaScript" : "Python")} is not available on this tool service: {program} is not installed.");
        }

        var settings = options.Value;
        var timeout = SandboxCommands.Timeout(arguments, settings);
        var bytes = FileText.Utf8.GetBytes(code);
        if (bytes.Length > settings.MaxWriteBytes)
        {
            return ToolResult.Error($"The code is {FileText.Bytes(bytes.Length)}, over the write limit of {FileText.Bytes(settings.MaxWriteBytes)}.");
        }

        using var workspace = WorkspaceDirectory.Open(context);
        var script = workspace.Resolve($"{ScriptPrefix}{Guid.NewGuid():N}{extension}");
        var root = workspace.Resolve(null);
        var before = Snapshot(workspace, root);
        try
        {
            workspace.CreateFile(script, bytes);
            var command = SandboxCommands.Create(context, settings, timeout, program, [.. flags, script.SandboxPath]);
            var result = await Sandbox.RunAsync(command, cancellationToken);
            var created = Snapshot(workspace, root)
                .Where(entry => entry.Key != script.RelativePath && (!before.TryGetValue(entry.Key, out var old) || old != entry.Value))
                .Select(entry => entry.Key)
                .Order(StringComparer.Ordinal)
                .ToList();
            var output = new CodeInterpreterResult(result.Stdout, result.Stderr, result.ExitCode, result.TimedOut, result.OutputTruncated, created);
            return ToolResult.Json(output, CodeInterpreterJsonContext.Default.CodeInterpreterResult);
        }
        finally
        {
            // The run may have replaced the script with anything; only that one name is removed, never followed.
            try
            {
                workspace.DeleteFile(script);
            }
            catch (Exception e) when (e is WorkspacePathException or IOException or UnauthorizedAccessException)
            {
                // Gone already, or the code made the workspace unwritable: the run's result still stands.
            }
        }
    }

    /// <summary>ES module syntax (import/export statements) needs the .mjs extension under node.</summary>
    private static bool IsEsModule(string code) =>
        code.Split('\n').Any(line => line.TrimStart() is var t
            && (t.StartsWith("import ", StringComparison.Ordinal) || t.StartsWith("import{", StringComparison.Ordinal) || t.StartsWith("export ", StringComparison.Ordinal)));

    /// <summary>Every non-directory entry of the workspace with its size and modification time.</summary>
    private static Dictionary<string, (long Size, DateTimeOffset LastWrite)> Snapshot(WorkspaceDirectory workspace, WorkspacePath root)
    {
        // By assignment, not ToDictionary: a name renamed while the walk runs may be seen twice.
        var entries = new Dictionary<string, (long Size, DateTimeOffset LastWrite)>(StringComparer.Ordinal);
        foreach (var entry in workspace.Walk(root, recursive: true).Where(entry => entry.Status.Kind != FileKind.Directory).Take(MaxTrackedFiles))
        {
            entries[entry.RelativePath] = (entry.Status.Size, entry.Status.LastWriteUtc);
        }

        return entries;
    }
}

public sealed record CodeInterpreterResult(
    string Stdout,
    string Stderr,
    int ExitCode,
    bool TimedOut,
    bool Truncated,
    IReadOnlyList<string> CreatedFiles);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(CodeInterpreterResult))]
public sealed partial class CodeInterpreterJsonContext : JsonSerializerContext;

public static class CodeInterpreterRegistration
{
    /// <summary>Registers code_interpreter as an <see cref="ITool"/> singleton (it needs <c>AddSandbox()</c>).</summary>
    public static IServiceCollection AddCodeInterpreter(this IServiceCollection services) =>
        services.AddSingleton<ITool, CodeInterpreterTool>();
}
