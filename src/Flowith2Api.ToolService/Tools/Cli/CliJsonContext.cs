using System.Text.Json.Serialization;

namespace Flowith2Api.ToolService.Tools.Cli;

/// <summary>What a sandboxed command returned.</summary>
public sealed record CommandOutput(string Stdout, string Stderr, int ExitCode, bool TimedOut, bool Truncated);

public sealed record FileListEntry(string Path, string Type, long? Size);

public sealed record FileListResult(string Path, IReadOnlyList<FileListEntry> Entries, bool Truncated);

public sealed record FileSearchResult(string Pattern, IReadOnlyList<string> Matches, bool Truncated);

public sealed record SandboxInfo(bool Available, string? Reason);

public sealed record ToolLimits(long TimeoutMs, int MaxOutputBytes, long MaxReadBytes, long MaxWriteBytes);

public sealed record EnvironmentInfo(
    string Os,
    string OsDescription,
    string Architecture,
    int ProcessorCount,
    string DotnetVersion,
    IReadOnlyDictionary<string, bool> Programs,
    string Workspace,
    SandboxInfo Sandbox,
    ToolLimits Limits);

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(CommandOutput))]
[JsonSerializable(typeof(FileListResult))]
[JsonSerializable(typeof(FileSearchResult))]
[JsonSerializable(typeof(EnvironmentInfo))]
public sealed partial class CliJsonContext : JsonSerializerContext;
