namespace Flowith2Api.ToolService.Sandbox;

/// <summary>A command to run inside the sandbox, with its limits.</summary>
public sealed record SandboxCommand
{
    /// <summary>The program, looked up on the sandbox's PATH (/usr/bin:/bin), e.g. "bash", "python3", "git".</summary>
    public required string Program { get; init; }

    public IReadOnlyList<string> Arguments { get; init; } = [];

    /// <summary>The host directory bound read-write at /workspace (the only writable place besides a private /tmp).</summary>
    public required string Workspace { get; init; }

    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>CPU seconds the process tree may use.</summary>
    public int CpuSeconds { get; init; } = 30;

    public long MemoryBytes { get; init; } = 1L << 30;

    /// <summary>Stdout and stderr are each cut at this many bytes (the process is killed when it writes more).</summary>
    public int MaxOutputBytes { get; init; } = 64 * 1024;

    public string? StandardInput { get; init; }
}

public sealed record SandboxResult(int ExitCode, string Stdout, string Stderr, bool TimedOut, bool OutputTruncated);

/// <summary>
/// Runs commands isolated from the host: no network, read-only system directories, only the workspace writable, a
/// private /tmp, no inherited environment, CPU/wall/output/memory limits, the whole process tree killed on timeout.
/// </summary>
public interface ISandbox
{
    /// <summary>False when the isolation cannot be had (no bubblewrap): command tools then refuse to run.</summary>
    bool IsAvailable { get; }

    /// <summary>Why <see cref="IsAvailable"/> is false, for the error message.</summary>
    string? UnavailableReason { get; }

    Task<SandboxResult> RunAsync(SandboxCommand command, CancellationToken cancellationToken);
}
