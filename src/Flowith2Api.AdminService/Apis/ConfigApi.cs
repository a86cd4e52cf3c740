using System.Text.Json;
using Flowith2Api.AdminService.Data;
using Flowith2Api.Contracts;
using Flowith2Api.ServiceDefaults;
using Microsoft.EntityFrameworkCore;

namespace Flowith2Api.AdminService.Apis;

/// <summary>
/// <c>GET/PATCH /v1/admin/config</c>: every runtime setting with its value, default and description; PATCH validates
/// the whole body first (unknown key or wrong type: 400 naming it, nothing applied), persists the overrides and tells
/// every replica. <c>GET /internal/config</c> serves the overrides to the other services.
/// </summary>
public static class ConfigApi
{
    public const string Changed = "config";

    public static IEndpointRouteBuilder MapConfigApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1/admin/config").RequireAdminKey().WithTags("Admin: configuration");
        group.MapGet("", GetAsync);
        group.MapPatch("", PatchAsync);
        app.MapGet("/internal/config", InternalAsync);
        return app;
    }

    public static async Task GetAsync(HttpContext context, AdminDbContext db, IConfiguration configuration)
    {
        var overrides = await db.ConfigOverrides.ToDictionaryAsync(o => o.Key, o => o.ValueJson, context.RequestAborted);
        await JsonResponse.WriteAsync(context, StatusCodes.Status200OK, json =>
        {
            json.WriteStartObject();
            json.WriteStartArray("settings");
            foreach (var setting in RuntimeSettings.All)
            {
                var overridden = overrides.TryGetValue(setting.Key, out var value);
                var effective = overridden ? value : configuration[setting.EnvironmentName] is { Length: > 0 } env ? env : setting.Default;
                json.WriteStartObject();
                json.WriteString("key", setting.Key);
                json.WriteString("env", setting.EnvironmentName);
                json.WriteString("type", setting.Type switch
                {
                    RuntimeSettingType.Boolean => "boolean",
                    RuntimeSettingType.WholeNumber => "integer",
                    _ => "string",
                });
                json.WritePropertyName("value");
                WriteTyped(json, setting, effective ?? "");
                json.WritePropertyName("default");
                WriteTyped(json, setting, setting.Default);
                json.WriteBoolean("overridden", overridden);
                json.WriteString("description", setting.Description);
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
        });
    }

    public static async Task<IResult> PatchAsync(HttpContext context, AdminDbContext db, ChangeNotifier notifier, TimeProvider time, IConfiguration configuration)
    {
        JsonElement body;
        try
        {
            using var document = await JsonDocument.ParseAsync(context.Request.Body, default, context.RequestAborted);
            body = document.RootElement.Clone();
        }
        catch (JsonException)
        {
            return Problem("The body is not valid JSON: send an object of settings, e.g. {\"retryMax\": 5}.");
        }

        if (body.ValueKind != JsonValueKind.Object || !body.EnumerateObject().Any())
        {
            return Problem("Send an object with at least one setting, e.g. {\"retryMax\": 5}.");
        }

        var changes = new List<(RuntimeSetting Setting, string Value)>();
        foreach (var property in body.EnumerateObject())
        {
            if (RuntimeSettings.Find(property.Name) is not { } setting)
            {
                return Problem($"Unknown setting '{property.Name}'. GET /v1/admin/config lists the settings.");
            }

            object? value = property.Value.ValueKind switch
            {
                JsonValueKind.True => true,
                JsonValueKind.False => false,
                JsonValueKind.String => property.Value.GetString(),
                JsonValueKind.Number when property.Value.TryGetInt64(out var number) => number,
                _ => null,
            };
            var (normalized, error) = setting.Normalize(value);
            if (error is not null)
            {
                return Problem(error);
            }

            changes.Add((setting, normalized!));
        }

        var now = time.GetUtcNow();
        foreach (var (setting, value) in changes)
        {
            var existing = await db.ConfigOverrides.FindAsync([setting.Key], context.RequestAborted);
            if (existing is null)
            {
                db.ConfigOverrides.Add(new ConfigOverrideEntity { Key = setting.Key, ValueJson = value, Updated = now });
            }
            else
            {
                existing.ValueJson = value;
                existing.Updated = now;
            }
        }

        await db.SaveChangesAsync(context.RequestAborted);
        await notifier.PublishAsync(Changed);
        await GetAsync(context, db, configuration);
        return TypedResults.Empty;
    }

    /// <summary>The overrides by environment name, for the services to apply.</summary>
    public static async Task InternalAsync(HttpContext context, AdminDbContext db)
    {
        var overrides = await db.ConfigOverrides.ToListAsync(context.RequestAborted);
        await JsonResponse.WriteAsync(context, StatusCodes.Status200OK, json =>
        {
            json.WriteStartObject();
            foreach (var entry in overrides)
            {
                if (RuntimeSettings.Find(entry.Key) is { } setting)
                {
                    json.WriteString(setting.EnvironmentName, entry.ValueJson);
                }
            }

            json.WriteEndObject();
        });
    }

    private static void WriteTyped(Utf8JsonWriter json, RuntimeSetting setting, string value)
    {
        switch (setting.Type)
        {
            case RuntimeSettingType.Boolean:
                json.WriteBooleanValue(SeedSettings.ParseBool(value, false));
                break;
            case RuntimeSettingType.WholeNumber when long.TryParse(value, out var number):
                json.WriteNumberValue(number);
                break;
            default:
                json.WriteStringValue(value);
                break;
        }
    }

    private static Microsoft.AspNetCore.Http.HttpResults.ProblemHttpResult Problem(string detail) =>
        TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, detail: detail);
}
