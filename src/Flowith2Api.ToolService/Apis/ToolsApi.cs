using System.Diagnostics;
using System.Text.Json;
using Flowith2Api.Contracts;
using Flowith2Api.ServiceDefaults;
using Flowith2Api.ToolService.Tools;

namespace Flowith2Api.ToolService.Apis;

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
        admin.MapGet("", ListAllAsync);
        admin.MapPost("/execute", ExecuteAsync);

        var internalDoor = app.MapGroup("/internal/tools");
        internalDoor.MapGet("", ListEnabledAsync);
        internalDoor.MapPost("/execute", ExecuteAsync);
        return app;
    }

    /// <summary>Every known tool with whether it is enabled and, if not, how to enable it.</summary>
    public static Task ListAllAsync(HttpContext context, ToolRegistry registry) =>
        JsonResponse.WriteAsync(context, StatusCodes.Status200OK, json =>
        {
            json.WriteStartObject();
            json.WriteStartArray("tools");
            foreach (var tool in registry.All)
            {
                var enabled = registry.IsEnabled(tool);
                WriteTool(json, tool);
                json.WriteBoolean("enabled", enabled);
                if (!enabled)
                {
                    json.WriteString("disabled_reason", registry.DisabledReason(tool));
                }
                else if (tool is IToolAvailability { UnavailableReason: { } reason })
                {
                    json.WriteString("unavailable_reason", reason);
                }

                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
        });

    /// <summary>The enabled and usable tools, for the chat tool loop to offer to the model.</summary>
    public static Task ListEnabledAsync(HttpContext context, ToolRegistry registry) =>
        JsonResponse.WriteAsync(context, StatusCodes.Status200OK, json =>
        {
            json.WriteStartObject();
            json.WriteStartArray("tools");
            foreach (var tool in registry.Enabled)
            {
                if (tool is IToolAvailability { UnavailableReason: not null })
                {
                    continue; // not offered to models until it is configured
                }

                WriteTool(json, tool);
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
        });

    /// <summary>Runs one tool: <c>{"tool": name, "arguments": {…}}</c> → <c>{"tool","is_error","result","duration_ms"}</c>.</summary>
    public static async Task<IResult> ExecuteAsync(HttpContext context, ToolRegistry registry, Workspaces workspaces, ILogger<ToolRegistry> logger)
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
        await JsonResponse.WriteAsync(context, StatusCodes.Status200OK, json =>
        {
            json.WriteStartObject();
            json.WriteString("tool", tool.Name);
            json.WriteBoolean("is_error", result.IsError);
            json.WriteString("result", result.Text);
            json.WriteNumber("duration_ms", Math.Round(clock.Elapsed.TotalMilliseconds, 1));
            json.WriteEndObject();
        });
        return TypedResults.Empty;
    }

    private static void WriteTool(Utf8JsonWriter json, ITool tool)
    {
        json.WriteStartObject();
        json.WriteString("name", tool.Name);
        json.WriteString("description", tool.Description);
        json.WriteString("kind", tool.Kind.ToString().ToLowerInvariant());
        json.WritePropertyName("input_schema");
        tool.InputSchema.WriteTo(json);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Tool {Tool} ran (error: {IsError}) in {DurationMs} ms")]
    private static partial void LogExecuted(ILogger logger, string tool, bool isError, double durationMs);
}
