using System.Security.Cryptography;
using System.Text.Json;
using Flowith2Api.AdminService.Data;
using Flowith2Api.ServiceDefaults;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Flowith2Api.AdminService.Apis;

/// <summary>
/// <c>/v1/admin/keys</c>: named client keys with an admin flag and an optional rate limit per minute. A key is shown in
/// full only when it is created; only its hash is stored. <c>GET /internal/keys</c> serves the hashes to the Gateway.
/// </summary>
public static class KeysApi
{
    public const string Changed = "keys";

    public static IEndpointRouteBuilder MapKeysApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1/admin/keys").RequireAdminKey().WithTags("Admin: API keys");
        group.MapGet("", ListAsync);
        group.MapPost("", CreateAsync);
        group.MapPatch("/{id:long}", UpdateAsync);
        group.MapDelete("/{id:long}", DeleteAsync);
        app.MapGet("/internal/keys", InternalAsync);
        return app;
    }

    public static async Task ListAsync(HttpContext context, AdminDbContext db)
    {
        var keys = await db.ApiKeys.Where(k => k.Deleted == null).OrderBy(k => k.Id).ToListAsync(context.RequestAborted);
        await JsonResponse.WriteAsync(context, StatusCodes.Status200OK, json =>
        {
            json.WriteStartObject();
            json.WriteStartArray("keys");
            foreach (var key in keys)
            {
                WriteKey(json, key, fullKey: null);
            }

            json.WriteEndArray();
            json.WriteEndObject();
        });
    }

    public static async Task<IResult> CreateAsync(HttpContext context, AdminDbContext db, ChangeNotifier notifier, TimeProvider time)
    {
        var (body, error) = await ReadAsync(context);
        if (error is not null)
        {
            return error;
        }

        var name = body.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString()?.Trim() : null;
        if (string.IsNullOrEmpty(name) || name.Length > 200)
        {
            return Problem("'name' is required (1 to 200 characters).");
        }

        var (limit, limitError) = ReadLimit(body);
        if (limitError is not null)
        {
            return limitError;
        }

        var isAdmin = body.TryGetProperty("is_admin", out var a) && a.ValueKind == JsonValueKind.True;
        var value = "sk-f2a-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
        var key = new ApiKeyEntity
        {
            Hash = SecretProtector.Hash(value),
            Name = name,
            Masked = SecretProtector.Mask(value),
            IsAdmin = isAdmin,
            RateLimitPerMinute = limit,
            Created = time.GetUtcNow(),
        };
        db.ApiKeys.Add(key);
        await db.SaveChangesAsync(context.RequestAborted);
        await notifier.PublishAsync(Changed);
        await JsonResponse.WriteAsync(context, StatusCodes.Status201Created, json => WriteKey(json, key, fullKey: value));
        return TypedResults.Empty;
    }

    public static async Task<IResult> UpdateAsync(HttpContext context, long id, AdminDbContext db, ChangeNotifier notifier)
    {
        var (body, error) = await ReadAsync(context);
        if (error is not null)
        {
            return error;
        }

        var key = await db.ApiKeys.SingleOrDefaultAsync(k => k.Id == id && k.Deleted == null, context.RequestAborted);
        if (key is null)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, detail: $"No key with id {id}.");
        }

        if (body.TryGetProperty("enabled", out var enabled))
        {
            if (enabled.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
            {
                return Problem("'enabled' must be true or false.");
            }

            key.Enabled = enabled.GetBoolean();
        }

        if (body.TryGetProperty("rate_limit_per_minute", out _))
        {
            var (limit, limitError) = ReadLimit(body);
            if (limitError is not null)
            {
                return limitError;
            }

            key.RateLimitPerMinute = limit;
        }

        await db.SaveChangesAsync(context.RequestAborted);
        if (!key.Enabled)
        {
            await ConsoleApi.EndSessionsOfAsync(db, key.Hash, context.RequestAborted); // enabling it again does not bring them back
        }

        await notifier.PublishAsync(Changed);
        await JsonResponse.WriteAsync(context, StatusCodes.Status200OK, json => WriteKey(json, key, fullKey: null));
        return TypedResults.Empty;
    }

    public static async Task<IResult> DeleteAsync(HttpContext context, long id, AdminDbContext db, ChangeNotifier notifier, TimeProvider time)
    {
        var key = await db.ApiKeys.SingleOrDefaultAsync(k => k.Id == id && k.Deleted == null, context.RequestAborted);
        if (key is null)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, detail: $"No key with id {id}.");
        }

        key.Deleted = time.GetUtcNow();
        await db.SaveChangesAsync(context.RequestAborted);
        await ConsoleApi.EndSessionsOfAsync(db, key.Hash, context.RequestAborted);
        await notifier.PublishAsync(Changed);
        return TypedResults.Json(new { deleted = true, id });
    }

    /// <summary>Every live key's hash and properties (never a key), for the Gateway's in-memory key store.</summary>
    public static async Task InternalAsync(HttpContext context, AdminDbContext db, TimeProvider time)
    {
        var keys = await db.ApiKeys.Where(k => k.Deleted == null).ToListAsync(context.RequestAborted);
        var sessions = await ConsoleApi.LiveSessionsAsync(db, time, context.RequestAborted);

        await JsonResponse.WriteAsync(context, StatusCodes.Status200OK, json =>
        {
            json.WriteStartObject();
            json.WriteStartArray("keys");
            foreach (var key in keys)
            {
                json.WriteStartObject();
                json.WriteString("hash", key.Hash);
                json.WriteString("name", key.Name);
                json.WriteBoolean("is_admin", key.IsAdmin);
                json.WriteBoolean("enabled", key.Enabled);
                if (key.RateLimitPerMinute is { } limit)
                {
                    json.WriteNumber("rate_limit_per_minute", limit);
                }

                json.WriteEndObject();
            }

            json.WriteEndArray();
            ConsoleApi.WriteSessions(json, sessions);
            json.WriteEndObject();
        });
    }

    private static void WriteKey(Utf8JsonWriter json, ApiKeyEntity key, string? fullKey)
    {
        json.WriteStartObject();
        json.WriteNumber("id", key.Id);
        json.WriteString("key_id", "key_" + key.Hash[..16]);
        json.WriteString("name", key.Name);
        json.WriteString("key", fullKey ?? key.Masked);
        json.WriteBoolean("is_admin", key.IsAdmin);
        json.WriteBoolean("enabled", key.Enabled);
        if (key.RateLimitPerMinute is { } limit)
        {
            json.WriteNumber("rate_limit_per_minute", limit);
        }
        else
        {
            json.WriteNull("rate_limit_per_minute");
        }

        json.WriteString("created", key.Created);
        json.WriteEndObject();
    }

    private static (int? Limit, ProblemHttpResult? Error) ReadLimit(JsonElement body)
    {
        if (!body.TryGetProperty("rate_limit_per_minute", out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return (null, null);
        }

        return value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var limit) && limit is > 0 and <= 1_000_000
            ? (limit, null)
            : (null, Problem("'rate_limit_per_minute' must be a whole number from 1 to 1000000, or null for no limit."));
    }

    private static async Task<(JsonElement Body, ProblemHttpResult? Error)> ReadAsync(HttpContext context)
    {
        try
        {
            using var document = await JsonDocument.ParseAsync(context.Request.Body, default, context.RequestAborted);
            return document.RootElement.ValueKind == JsonValueKind.Object
                ? (document.RootElement.Clone(), null)
                : (default, Problem("The body must be a JSON object."));
        }
        catch (JsonException)
        {
            return (default, Problem("The body is not valid JSON."));
        }
    }

    private static ProblemHttpResult Problem(string detail) => TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, detail: detail);
}
