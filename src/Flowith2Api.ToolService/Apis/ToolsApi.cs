using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Serialization;
using Flowith2Api.Contracts;
using Flowith2Api.ServiceDefaults;
using Flowith2Api.ToolService.Tools;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Flowith2Api.ToolService.Apis;

/// <summary>A tool as the registry lists it; <c>enabled</c> and the reasons only on the admin door.</summary>
public sealed record ToolAnswer(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("description")] string Description,
    [property: JsonPropertyName("kind")] string Kind,
    [property: JsonPropertyName("input_schema")] JsonElement InputSchema,
    [property: JsonPropertyName("enabled"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] bool? Enabled = null,
    [property: JsonPropertyName("disabled_reason"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? DisabledReason = null,
    [property: JsonPropertyName("unavailable_reason"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? UnavailableReason = null);

public sealed record ToolListAnswer([property: JsonPropertyName("tools")] IReadOnlyList<ToolAnswer> Tools);

/// <summary>What one run of a tool gave.</summary>
public sealed record ToolRunAnswer(
    [property: JsonPropertyName("tool")] string Tool,
    [property: JsonPropertyName("is_error")] bool IsError,
    [property: JsonPropertyName("result")] string Result,
    [property: JsonPropertyName("duration_ms")] double DurationMs);

[JsonSerializable(typeof(ToolListAnswer))]
[JsonSerializable(typeof(ToolRunAnswer))]
public sealed partial class ToolsJsonContext : JsonSerializerContext;

/// <summary>
/// Two doors onto the registry: the admin door (<c>GET /v1/admin/tools</c>, <c>POST /v1/admin/tools/execute</c>,
/// routed by the Gateway in the admin realm) and the internal door the ChatService's tool loop uses
/// (<c>/internal/tools</c>, which the Gateway never routes).
/// </summary>
public static partial class ToolsApi
{
    public static IEndpointRouteBuilder MapToolsApi(this IEndpointRouteBuilder app)
    {
        var admin = app.MapGroup("/v1/admin/tools").RequireAdminKey().WithTags("Admin: tools");
        admin.MapGet("", ListAll);
        admin.MapPost("/execute", ExecuteAsync);

        var internalDoor = app.MapGroup("/internal/tools");
        internalDoor.MapGet("", ListEnabled);
        internalDoor.MapPost("/execute", ExecuteAsync);
        return app;
    }

    /// <summary>Every known tool with whether it is enabled and, if not, how to enable it.</summary>
    public static Ok<ToolListAnswer> ListAll(ToolRegistry registry) => TypedResults.Ok(new ToolListAnswer([.. registry.All.Select(tool =>
        registry.IsEnabled(tool)
            ? Answer(tool) with { Enabled = true, UnavailableReason = (tool as IToolAvailability)?.UnavailableReason }
            : Answer(tool) with { Enabled = false, DisabledReason = registry.DisabledReason(tool) })]));

    /// <summary>The enabled and usable tools, for the chat tool loop to offer to the model (not offered until configured).</summary>
    public static Ok<ToolListAnswer> ListEnabled(ToolRegistry registry) => TypedResults.Ok(new ToolListAnswer(
        [.. registry.Enabled.Where(tool => tool is not IToolAvailability { UnavailableReason: not null }).Select(Answer)]));

    /// <summary>Runs one tool: <c>{"tool": name, "arguments": {…}}</c> → <c>{"tool","is_error","result","duration_ms"}</c>.</summary>
    public static async Task<Results<Ok<ToolRunAnswer>, ProblemHttpResult>> ExecuteAsync(HttpContext context, ToolRegistry registry, Workspaces workspaces,
        ILogger<ToolRegistry> logger)
    {
        JsonElement body;
        try
        {
            using var document = await JsonDocument.ParseAsync(context.Request.Body, default, context.RequestAborted);
            body = document.RootElement.Clone();
        }
        catch (JsonException)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, detail: "The body must be JSON: {\"tool\": \"name\", \"arguments\": {…}}.");
        }

        if (body.ValueKind != JsonValueKind.Object || ToolArgs.Text(body, "tool") is not { Length: > 0 } name)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, detail: "'tool' is required: {\"tool\": \"name\", \"arguments\": {…}}.");
        }

        var tool = registry.Find(name);
        if (tool is null)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, detail: $"There is no tool named '{name}'. GET /v1/admin/tools lists them.");
        }

        if (!registry.IsEnabled(tool))
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status403Forbidden, detail: registry.DisabledReason(tool));
        }

        var arguments = body.TryGetProperty("arguments", out var a) && a.ValueKind == JsonValueKind.Object ? a : JsonDocument.Parse("{}").RootElement;
        var keyId = context.Request.Headers[InternalHeaders.KeyId] is { Count: > 0 } id && !string.IsNullOrEmpty(id[0]) ? id[0]! : "anonymous";
        var clock = Stopwatch.StartNew();
        using var activity = Telemetry.ActivitySource.StartActivity("tool " + tool.Name);
        activity?.SetTag("gen_ai.tool.name", tool.Name);
        var result = await tool.ExecuteAsync(arguments, workspaces.ContextFor(keyId), context.RequestAborted);
        activity?.SetTag("flowith2api.tool.is_error", result.IsError);
        LogExecuted(logger, tool.Name, result.IsError, clock.Elapsed.TotalMilliseconds);
        return TypedResults.Ok(new ToolRunAnswer(tool.Name, result.IsError, result.Text, Math.Round(clock.Elapsed.TotalMilliseconds, 1)));
    }

    private static ToolAnswer Answer(ITool tool) => new(tool.Name, tool.Description, tool.Kind.ToString().ToLowerInvariant(), tool.InputSchema);

    [LoggerMessage(Level = LogLevel.Information, Message = "Tool {Tool} ran (error: {IsError}) in {DurationMs} ms")]
    private static partial void LogExecuted(ILogger logger, string tool, bool isError, double durationMs);
}
