using System.Text.Json;
using System.Text.Json.Serialization;
using Flowith2Api.AdminService.Data;
using Flowith2Api.ServiceDefaults;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Flowith2Api.AdminService.Apis;

/// <summary>One runtime setting as the admin API shows it; <c>value</c> and <c>default</c> are typed (boolean, integer, string).</summary>
public sealed record SettingAnswer(
    [property: JsonPropertyName("key")] string Key,
    [property: JsonPropertyName("env")] string Env,
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("value")] JsonElement Value,
    [property: JsonPropertyName("default")] JsonElement Default,
    [property: JsonPropertyName("overridden")] bool Overridden,
    [property: JsonPropertyName("description")] string Description);

public sealed record SettingList([property: JsonPropertyName("settings")] IReadOnlyList<SettingAnswer> Settings);

[JsonSerializable(typeof(SettingList))]
[JsonSerializable(typeof(Dictionary<string, JsonElement>))]
[JsonSerializable(typeof(Dictionary<string, string>))]
[JsonSerializable(typeof(long))]
[JsonSerializable(typeof(string))]
public sealed partial class ConfigJsonContext : JsonSerializerContext;

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

    public static async Task<Ok<SettingList>> GetAsync(AdminDbContext db, IConfiguration configuration, CancellationToken cancellationToken)
    {
        var overrides = await db.ConfigOverrides.ToDictionaryAsync(o => o.Key, o => o.ValueJson, cancellationToken);
        return TypedResults.Ok(new SettingList([.. RuntimeSettings.All.Select(setting =>
        {
            var overridden = overrides.TryGetValue(setting.Key, out var value);
            var effective = overridden ? value : configuration[setting.EnvironmentName] is { Length: > 0 } env ? env : setting.Default;
            var type = setting.Type switch
            {
                RuntimeSettingType.Boolean => "boolean",
                RuntimeSettingType.WholeNumber => "integer",
                _ => "string",
            };
            return new SettingAnswer(setting.Key, setting.EnvironmentName, type, Typed(setting, effective ?? ""), Typed(setting, setting.Default), overridden,
                setting.Description);
        })]));
    }

    public static async Task<Results<Ok<SettingList>, ProblemHttpResult>> PatchAsync(HttpContext context, AdminDbContext db, ChangeNotifier notifier,
        TimeProvider time, IConfiguration configuration)
    {
        Dictionary<string, JsonElement>? body;
        try
        {
            body = await JsonSerializer.DeserializeAsync(context.Request.Body, ConfigJsonContext.Default.DictionaryStringJsonElement, context.RequestAborted);
        }
        catch (JsonException)
        {
            return AdminRequests.Problem("The body is not valid JSON: send an object of settings, e.g. {\"retryMax\": 5}.");
        }

        if (body is not { Count: > 0 })
        {
            return AdminRequests.Problem("Send an object with at least one setting, e.g. {\"retryMax\": 5}.");
        }

        var changes = new List<(RuntimeSetting Setting, string Value)>();
        foreach (var (name, element) in body)
        {
            if (RuntimeSettings.Find(name) is not { } setting)
            {
                return AdminRequests.Problem($"Unknown setting '{name}'. GET /v1/admin/config lists the settings.");
            }

            object? value = element.ValueKind switch
            {
                JsonValueKind.True => true,
                JsonValueKind.False => false,
                JsonValueKind.String => element.GetString(),
                JsonValueKind.Number when element.TryGetInt64(out var number) => number,
                _ => null,
            };
            var (normalized, error) = setting.Normalize(value);
            if (error is not null)
            {
                return AdminRequests.Problem(error);
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
        return await GetAsync(db, configuration, context.RequestAborted);
    }

    /// <summary>The overrides by environment name, for the services to apply.</summary>
    public static async Task<Ok<Dictionary<string, string>>> InternalAsync(AdminDbContext db, CancellationToken cancellationToken)
    {
        var overrides = await db.ConfigOverrides.ToListAsync(cancellationToken);
        var values = new Dictionary<string, string>();
        foreach (var entry in overrides)
        {
            if (RuntimeSettings.Find(entry.Key) is { } setting)
            {
                values[setting.EnvironmentName] = entry.ValueJson;
            }
        }

        return TypedResults.Ok(values);
    }

    private static JsonElement Typed(RuntimeSetting setting, string value) => setting.Type switch
    {
        RuntimeSettingType.Boolean => SeedSettings.ParseBool(value, false) ? True : False,
        RuntimeSettingType.WholeNumber when long.TryParse(value, out var number) => JsonSerializer.SerializeToElement(number, ConfigJsonContext.Default.Int64),
        _ => JsonSerializer.SerializeToElement(value, ConfigJsonContext.Default.String),
    };

    private static readonly JsonElement True = JsonDocument.Parse("true").RootElement.Clone();
    private static readonly JsonElement False = JsonDocument.Parse("false").RootElement.Clone();
}
