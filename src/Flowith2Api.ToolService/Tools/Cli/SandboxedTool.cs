using Flowith2Api.ToolService.Sandbox;

namespace Flowith2Api.ToolService.Tools.Cli;

/// <summary>A tool that runs a command in the sandbox: unavailable (never offered to a model) where the sandbox is.</summary>
public abstract class SandboxedTool(ISandbox sandbox) : WorkspaceTool, IToolAvailability
{
    protected ISandbox Sandbox { get; } = sandbox;

    public string? UnavailableReason => Sandbox.IsAvailable ? null : Sandbox.UnavailableReason ?? "Commands cannot run because the sandbox is not available.";
}
