using System.Text.Json;

namespace Flowith2Api.ToolService.Tools;

/// <summary>Where a tool comes from; decides which switch enables it.</summary>
public enum ToolKind
{
    /// <summary>web_search, image_gen, code_interpreter (<c>ENABLE_MCP</c>, <c>MCP_TOOLS</c>).</summary>
    Builtin,

    /// <summary>File and command tools (<c>ENABLE_CLI_MODE</c>).</summary>
    Cli,

    /// <summary>Tools of an external MCP server (<c>MCP_SERVERS</c>), namespaced by server name.</summary>
    External,
}

/// <summary>Who runs a tool and where: the caller's key id and that key's own workspace.</summary>
public sealed record ToolContext(string KeyId, string Workspace)
{
    /// <summary>
    /// Whether paths in the workspace are resolved with <c>openat2</c> where the kernel has it (the default) or always
    /// by the component walk that stands in for it elsewhere; both give the same guarantees.
    /// </summary>
    public bool UseOpenat2 { get; init; } = true;
}

/// <summary>What a tool returns: text for the model, and whether it is an error the model should see as one.</summary>
public sealed record ToolResult(bool IsError, string Text)
{
    public static ToolResult Ok(string text) => new(false, text);

    public static ToolResult Error(string message) => new(true, message);

    /// <summary>A JSON object as the result text (compact, for the model and for MCP clients).</summary>
    public static ToolResult Json<T>(T value, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> typeInfo) =>
        new(false, JsonSerializer.Serialize(value, typeInfo));
}

/// <summary>One tool: a name, a description, a JSON schema for its arguments, and an executor.</summary>
public interface ITool
{
    string Name { get; }

    string Description { get; }

    /// <summary>A JSON schema object for the arguments.</summary>
    JsonElement InputSchema { get; }

    ToolKind Kind { get; }

    /// <summary>Runs the tool. Bad arguments and refusals are <see cref="ToolResult.Error"/>, never exceptions.</summary>
    Task<ToolResult> ExecuteAsync(JsonElement arguments, ToolContext context, CancellationToken cancellationToken);
}

/// <summary>Reading arguments with clear errors.</summary>
public static class ToolArgs
{
    public static string? Text(JsonElement arguments, string name) =>
        arguments.ValueKind == JsonValueKind.Object && arguments.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : null;

    public static int? Number(JsonElement arguments, string name) =>
        arguments.ValueKind == JsonValueKind.Object && arguments.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number
            && value.TryGetInt32(out var number)
            ? number
            : null;

    public static bool? Flag(JsonElement arguments, string name) =>
        arguments.ValueKind == JsonValueKind.Object && arguments.TryGetProperty(name, out var value) && value.ValueKind is JsonValueKind.True or JsonValueKind.False
            ? value.GetBoolean()
            : null;

    public static JsonElement Schema(string json) => JsonDocument.Parse(json).RootElement.Clone();
}

/// <summary>A tool that needs configuration (a backend URL, a sandbox) says so; unusable tools are not offered to models.</summary>
public interface IToolAvailability
{
    /// <summary>Null when the tool can run; otherwise what is missing, in words that say how to fix it.</summary>
    string? UnavailableReason { get; }
}

/// <summary>Tools that come and go at run time (an external MCP server's).</summary>
public interface IToolSource
{
    IReadOnlyList<ITool> Tools { get; }
}
