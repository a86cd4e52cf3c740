using System.Text;
using System.Text.Json;
using Flowith2Api.AdminService.Data;
using Flowith2Api.Contracts;
using Flowith2Api.ServiceDefaults;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using StackExchange.Redis;

namespace Flowith2Api.AdminService.Apis;

/// <summary>
/// <c>/v1/admin/tokens</c>: the Flowith credentials (SPEC section 5) — list (masked), add, delete, batch add/delete,
/// clear, export (full values: json, text, env), re-enable, and resetting the shared rotation cursor.
/// </summary>
public static class CredentialsApi
{
    public static IEndpointRouteBuilder MapCredentialsApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1/admin/tokens").RequireAdminKey().WithTags("Admin: credentials");
        group.MapGet("", ListAsync);
        group.MapPost("", AddAsync);
        group.MapDelete("", DeleteAsync);
        group.MapPut("", ResetIndexAsync);
        group.MapPost("/clear", ClearAsync);
        group.MapGet("/export", ExportAsync);
        group.MapPost("/batch", BatchAddAsync);
        group.MapDelete("/batch", BatchDeleteAsync);
        group.MapPost("/{id:long}/enable", EnableAsync);
        group.MapPost("/{id:long}/disable", DisableAsync);
        group.MapDelete("/{id:long}", DeleteByIdAsync);
        return app;
    }

    public static async Task<IResult> ListAsync(HttpContext context, AdminDbContext db, IServiceProvider services)
    {
        var credentials = await Live(db).OrderBy(c => c.Id).ToListAsync(context.RequestAborted);
        var live = await LiveHealthAsync(services);
        await JsonResponse.WriteAsync(context, StatusCodes.Status200OK, json =>
        {
            json.WriteStartObject();
            json.WriteNumber("total", credentials.Count);
            json.WriteStartArray("tokens");
            for (var i = 0; i < credentials.Count; i++)
            {
                WriteCredential(json, credentials[i], i, live.GetValueOrDefault("cred_" + credentials[i].Hash[..16]));
            }

            json.WriteEndArray();
            json.WriteEndObject();
        });
        return TypedResults.Empty;
    }

    public static async Task<IResult> AddAsync(HttpContext context, AdminDbContext db, SecretProtector protector, TimeProvider time)
    {
        var (body, token, error) = await ReadTokenAsync(context);
        if (error is not null)
        {
            return error;
        }

        var label = body.TryGetProperty("label", out var l) && l.ValueKind == JsonValueKind.String ? l.GetString() : null;
        var added = await UpsertAsync(db, protector, time, token, label);
        await db.SaveChangesAsync(context.RequestAborted);
        await Notify(context);
        return TypedResults.Json(new { added, token = SecretProtector.Mask(token) }, statusCode: added ? StatusCodes.Status201Created : StatusCodes.Status200OK);
    }

    /// <summary>The JSON body and its required, non-empty <c>token</c>; or the 400 to answer.</summary>
    private static async Task<(JsonElement Body, string Token, IResult? Error)> ReadTokenAsync(HttpContext context)
    {
        var (body, error) = await ReadBodyAsync(context);
        if (error is not null)
        {
            return (body, "", error);
        }

        var token = body.TryGetProperty("token", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString()?.Trim() : null;
        Redaction.Remember(token);
        return string.IsNullOrEmpty(token)
            ? (body, "", BadRequest("'token' is required and must be a non-empty string."))
            : (body, token, null);
    }

    public static async Task<IResult> DeleteAsync(HttpContext context, AdminDbContext db, TimeProvider time)
    {
        var (_, token, error) = await ReadTokenAsync(context);
        if (error is not null)
        {
            return error;
        }

        var hash = SecretProtector.Hash(token);
        var credential = await Live(db).SingleOrDefaultAsync(c => c.Hash == hash, context.RequestAborted);
        if (credential is null)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, detail: "No such credential.");
        }

        credential.Deleted = time.GetUtcNow();
        await db.SaveChangesAsync(context.RequestAborted);
        await Notify(context);
        return TypedResults.Json(new { deleted = true, token = credential.Masked });
    }

    public static async Task<IResult> BatchAddAsync(HttpContext context, AdminDbContext db, SecretProtector protector, TimeProvider time)
    {
        var (tokens, error) = await ReadTokenListAsync(context);
        if (error is not null)
        {
            return error;
        }

        int added = 0, existing = 0;
        foreach (var token in tokens)
        {
            if (await UpsertAsync(db, protector, time, token, label: null))
            {
                added++;
            }
            else
            {
                existing++;
            }

            await db.SaveChangesAsync(context.RequestAborted);
        }

        await Notify(context);

        return TypedResults.Json(new { added, existing });
    }

    public static async Task<IResult> BatchDeleteAsync(HttpContext context, AdminDbContext db, TimeProvider time)
    {
        var (tokens, error) = await ReadTokenListAsync(context);
        if (error is not null)
        {
            return error;
        }

        var hashes = tokens.Select(SecretProtector.Hash).ToHashSet();
        var found = await Live(db).Where(c => hashes.Contains(c.Hash)).ToListAsync(context.RequestAborted);
        var now = time.GetUtcNow();
        foreach (var credential in found)
        {
            credential.Deleted = now;
        }

        await db.SaveChangesAsync(context.RequestAborted);
        await Notify(context);
        return TypedResults.Json(new { deleted = found.Count, missing = hashes.Count - found.Count });
    }

    public static async Task<IResult> ClearAsync(HttpContext context, AdminDbContext db, TimeProvider time)
    {
        var live = await Live(db).ToListAsync(context.RequestAborted);
        var now = time.GetUtcNow();
        foreach (var credential in live)
        {
            credential.Deleted = now;
        }

        await db.SaveChangesAsync(context.RequestAborted);
        await Notify(context);
        return TypedResults.Json(new { cleared = live.Count });
    }

    public static async Task<IResult> EnableAsync(HttpContext context, long id, AdminDbContext db, IServiceProvider services)
    {
        if (await Live(db).SingleOrDefaultAsync(c => c.Id == id, context.RequestAborted) is not { } credential)
        {
            return NoSuchCredential(id);
        }

        credential.State = CredentialStateValue.Enabled;
        credential.Reason = null;
        credential.AdminDisabled = false;
        await db.SaveChangesAsync(context.RequestAborted);
        await Notify(context);
        if (services.GetService<IConnectionMultiplexer>() is { } redis)
        {
            // The pool keeps health by a short id of the value's hash: clear it so every replica uses the credential again.
            await redis.GetDatabase().HashDeleteAsync(RedisPrefix(services) + "pool:health", "cred_" + credential.Hash[..16]);
        }

        return TypedResults.Json(new { enabled = true, id, token = credential.Masked });
    }

    /// <summary>Takes a credential out of rotation on every replica (within a second) until it is enabled again.</summary>
    public static async Task<IResult> DisableAsync(HttpContext context, long id, AdminDbContext db)
    {
        if (await Live(db).SingleOrDefaultAsync(c => c.Id == id, context.RequestAborted) is not { } credential)
        {
            return NoSuchCredential(id);
        }

        credential.State = CredentialStateValue.Disabled;
        credential.AdminDisabled = true;
        credential.Reason = AdminDisabledReason;
        await db.SaveChangesAsync(context.RequestAborted);
        await Notify(context);
        return TypedResults.Json(new { disabled = true, id, token = credential.Masked });
    }

    /// <summary>Deletes one credential by its id (the list shows ids, never whole values).</summary>
    public static async Task<IResult> DeleteByIdAsync(HttpContext context, long id, AdminDbContext db, TimeProvider time)
    {
        if (await Live(db).SingleOrDefaultAsync(c => c.Id == id, context.RequestAborted) is not { } credential)
        {
            return NoSuchCredential(id);
        }

        credential.Deleted = time.GetUtcNow();
        await db.SaveChangesAsync(context.RequestAborted);
        await Notify(context);
        return TypedResults.Json(new { deleted = true, id, token = credential.Masked });
    }

    public const string AdminDisabledReason = "Disabled by an admin.";

    private static Microsoft.AspNetCore.Http.HttpResults.ProblemHttpResult NoSuchCredential(long id) => TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, detail: $"No credential with id {id}.");

    /// <summary><c>PUT {"index": n}</c>: the next request starts the rotation at credential n (shared by every replica).</summary>
    public static async Task<IResult> ResetIndexAsync(HttpContext context, AdminDbContext db, IServiceProvider services)
    {
        var (body, error) = await ReadBodyAsync(context);
        if (error is not null)
        {
            return error;
        }

        if (!body.TryGetProperty("index", out var i) || i.ValueKind != JsonValueKind.Number || !i.TryGetInt32(out var index))
        {
            return BadRequest("'index' is required and must be an integer.");
        }

        var count = await Live(db).CountAsync(context.RequestAborted);
        if (index < 0 || index >= count)
        {
            return BadRequest($"'index' {index} is out of range: there are {count} credentials (0 to {Math.Max(0, count - 1)}).");
        }

        if (services.GetService<IConnectionMultiplexer>() is not { } redis)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status503ServiceUnavailable,
                detail: "The rotation cursor is shared through Redis, and no Redis is configured.");
        }

        await redis.GetDatabase().StringSetAsync(RedisPrefix(services) + "pool:cursor", index);
        return TypedResults.Json(new { index });
    }

    /// <summary>Full values, in the original project's formats, as a download.</summary>
    public static async Task<IResult> ExportAsync(HttpContext context, AdminDbContext db, SecretProtector protector, string? format)
    {
        format = (format ?? "json").Trim().ToLowerInvariant();
        if (format is not ("json" or "text" or "env"))
        {
            return BadRequest($"Unknown export format '{format}': use json, text or env.");
        }

        var values = (await Live(db).OrderBy(c => c.Id).ToListAsync(context.RequestAborted)).Select(c => protector.Unprotect(c.EncryptedValue)).ToList();
        var (content, type, extension) = format switch
        {
            "text" => (string.Join("\n", values) + (values.Count > 0 ? "\n" : ""), "text/plain", "txt"),
            "env" => ($"{SeedSettings.FlowithAuthTokens}={string.Join(",", values)}\n", "text/plain", "env"),
            _ => (JsonSerializer.Serialize(new Dictionary<string, object> { ["tokens"] = values, ["count"] = values.Count }), "application/json", "json"),
        };
        context.Response.Headers.ContentDisposition = $"attachment; filename=\"flowith-tokens.{extension}\"";
        context.Response.Headers.CacheControl = "no-store";
        return TypedResults.Text(content, type, Encoding.UTF8);
    }

    private static Task Notify(HttpContext context) =>
        context.RequestServices.GetRequiredService<ChangeNotifier>().PublishAsync(ChangeNotifier.Credentials);

    private static IQueryable<CredentialEntity> Live(AdminDbContext db) => db.Credentials.Where(c => c.Deleted == null);

    /// <summary>Adds a credential, or brings back one an admin deleted; false when it is already there.</summary>
    private static async Task<bool> UpsertAsync(AdminDbContext db, SecretProtector protector, TimeProvider time, string token, string? label)
    {
        var hash = SecretProtector.Hash(token);
        var credential = await db.Credentials.SingleOrDefaultAsync(c => c.Hash == hash);
        if (credential is null)
        {
            db.Credentials.Add(new CredentialEntity
            {
                Hash = hash,
                EncryptedValue = protector.Protect(token),
                Masked = SecretProtector.Mask(token),
                Label = label,
                Created = time.GetUtcNow(),
            });
            return true;
        }

        if (credential.Deleted is not null)
        {
            credential.Deleted = null;
            credential.State = CredentialStateValue.Enabled;
            credential.AdminDisabled = false;
            credential.Reason = null;
            credential.Label = label ?? credential.Label;
            return true;
        }

        return false;
    }

    private static async Task<(JsonElement Body, IResult? Error)> ReadBodyAsync(HttpContext context)
    {
        try
        {
            using var document = await JsonDocument.ParseAsync(context.Request.Body, default, context.RequestAborted);
            return document.RootElement.ValueKind == JsonValueKind.Object
                ? (document.RootElement.Clone(), null)
                : (default, BadRequest("The body must be a JSON object."));
        }
        catch (JsonException)
        {
            return (default, BadRequest("The body is not valid JSON."));
        }
    }

    /// <summary><c>{"tokens": ["a","b"]}</c> or <c>{"tokens": "a,b"}</c>.</summary>
    private static async Task<(IReadOnlyList<string> Tokens, IResult? Error)> ReadTokenListAsync(HttpContext context)
    {
        var (body, error) = await ReadBodyAsync(context);
        if (error is not null)
        {
            return ([], error);
        }

        IReadOnlyList<string> tokens = body.TryGetProperty("tokens", out var t) switch
        {
            true when t.ValueKind == JsonValueKind.String => SeedSettings.SplitList(t.GetString()),
            true when t.ValueKind == JsonValueKind.Array && t.EnumerateArray().All(e => e.ValueKind == JsonValueKind.String) =>
                SeedSettings.SplitList(string.Join(",", t.EnumerateArray().Select(e => e.GetString()))),
            _ => [],
        };
        return tokens.Count == 0 ? ([], BadRequest("'tokens' is required: a list of tokens or a comma-separated string.")) : (tokens, null);
    }

    /// <summary>The pool's live view (Redis): credentials cooling down or disabled right now, by pool id.</summary>
    private static async Task<Dictionary<string, (string State, string? Reason, DateTimeOffset? Until)>> LiveHealthAsync(IServiceProvider services)
    {
        var result = new Dictionary<string, (string, string?, DateTimeOffset?)>();
        if (services.GetService<IConnectionMultiplexer>() is not { } redis)
        {
            return result;
        }

        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        foreach (var entry in await redis.GetDatabase().HashGetAllAsync(RedisPrefix(services) + "pool:health"))
        {
            var parts = entry.Value.ToString().Split('|', 4);
            if (parts.Length == 4 && long.TryParse(parts[1], out var until))
            {
                if (parts[0] == "1" && until > now)
                {
                    result[entry.Name!] = ("cooling", parts[3], DateTimeOffset.FromUnixTimeMilliseconds(until));
                }
                else if (parts[0] == "2")
                {
                    result[entry.Name!] = ("disabled", parts[3], null);
                }
            }
        }

        return result;
    }

    private static void WriteCredential(Utf8JsonWriter json, CredentialEntity credential, int index, (string State, string? Reason, DateTimeOffset? Until) live)
    {
        json.WriteStartObject();
        json.WriteNumber("id", credential.Id);
        json.WriteNumber("index", index);
        json.WriteString("token", credential.Masked);
        json.WriteString("label", credential.Label);
        if (credential.AdminDisabled)
        {
            live = default;
        }

        json.WriteString("state", live.State ?? credential.State.ToString().ToLowerInvariant());
        json.WriteString("reason", live.Reason ?? credential.Reason);
        json.WriteBoolean("admin_disabled", credential.AdminDisabled);
        if (live.Until is { } until)
        {
            json.WriteString("cooling_until", until);
        }
        json.WriteNumber("use_count", credential.UseCount);
        json.WriteNumber("failure_count", credential.FailureCount);
        if (credential.LastUsed is { } lastUsed)
        {
            json.WriteString("last_used", lastUsed);
        }
        else
        {
            json.WriteNull("last_used");
        }

        json.WriteString("last_error", credential.LastError);
        json.WriteString("created", credential.Created);
        json.WriteEndObject();
    }

    private static string RedisPrefix(IServiceProvider services) =>
        services.GetRequiredService<IConfiguration>()["REDIS_KEY_PREFIX"] is { Length: > 0 } prefix ? prefix : "flowith2api:";

    private static ProblemHttpResult BadRequest(string detail) =>
        TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, detail: detail);
}
