using System.Runtime.InteropServices;
using System.Text.Json;
using Flowith2Api.ToolService.Sandbox;
using Microsoft.Extensions.Options;

namespace Flowith2Api.ToolService.Tools.Cli;

/// <summary>
/// environment_info: what the sandbox offers (OS, architecture, CPUs, runtimes present, limits). It never reports
/// environment variables or host paths; the workspace is "/workspace", as commands see it.
/// </summary>
public sealed class EnvironmentInfoTool(ISandbox sandbox, IOptions<ToolOptions> options) : WorkspaceTool
{
    private static readonly string[] Programs = ["bash", "python3", "node", "git"];

    private static readonly JsonElement Schema = ToolArgs.Schema("""
        { "type": "object", "properties": {}, "additionalProperties": false }
        """);

    public override string Name => "environment_info";

    public override string Description =>
        "Describes the command environment: OS, architecture, processor count, .NET version, which of bash/python3/node/git exist, the workspace path and the limits.";

    public override JsonElement InputSchema => Schema;

    protected override Task<ToolResult> RunAsync(JsonElement arguments, ToolContext context, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var info = new EnvironmentInfo(
            Os: OperatingSystem.IsLinux() ? "linux" : RuntimeInformation.OSDescription.Split(' ')[0].ToLowerInvariant(),
            OsDescription: RuntimeInformation.OSDescription,
            Architecture: RuntimeInformation.OSArchitecture.ToString().ToLowerInvariant(),
            ProcessorCount: Environment.ProcessorCount,
            DotnetVersion: Environment.Version.ToString(),
            Programs: Programs.ToDictionary(name => name, name => File.Exists($"/usr/bin/{name}"), StringComparer.Ordinal),
            Workspace: BubblewrapSandbox.SandboxWorkspace,
            Sandbox: new SandboxInfo(sandbox.IsAvailable, sandbox.UnavailableReason),
            Limits: new ToolLimits(
                (long)settings.CommandTimeout.TotalMilliseconds,
                settings.MaxOutputBytes,
                settings.MaxReadBytes,
                settings.MaxWriteBytes));
        return Task.FromResult(ToolResult.Json(info, CliJsonContext.Default.EnvironmentInfo));
    }
}
