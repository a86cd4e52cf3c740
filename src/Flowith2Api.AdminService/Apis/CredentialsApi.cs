using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Flowith2Api.AdminService.Data;
using Flowith2Api.Contracts;
using Flowith2Api.ServiceDefaults;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using StackExchange.Redis;

namespace Flowith2Api.AdminService.Apis;

/// <summary>A credential as the admin API lists it: masked, with its live state from the pool.</summary>
public sealed record CredentialAnswer(
    [property: JsonPropertyName("id")] long Id,
    [property: JsonPropertyName("index")] int Index,
    [property: JsonPropertyName("token")] string Token,
    [property: JsonPropertyName("label")] string? Label,
    [property: JsonPropertyName("state")] string State,
    [property: JsonPropertyName("reason")] string? Reason,
    [property: JsonPropertyName("admin_disabled")] bool AdminDisabled,
    [property: JsonPropertyName("cooling_until"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] DateTimeOffset? CoolingUntil,
    [property: JsonPropertyName("use_count")] long UseCount,
    [property: JsonPropertyName("failure_count")] long FailureCount,
    [property: JsonPropertyName("last_used")] DateTimeOffset? LastUsed,
    [property: JsonPropertyName("last_error")] string? LastError,
    [property: JsonPropertyName("created")] DateTimeOffset Created);

public sealed record CredentialList([property: JsonPropertyName("total")] int Total, [property: JsonPropertyName("tokens")] IReadOnlyList<CredentialAnswer> Tokens);

public sealed record CredentialAdded([property: JsonPropertyName("added")] bool Added, [property: JsonPropertyName("token")] string Token);

public sealed record CredentialRemoved([property: JsonPropertyName("deleted")] bool Deleted, [property: JsonPropertyName("token")] string Token);

public sealed record CredentialsAdded([property: JsonPropertyName("added")] int Added, [property: JsonPropertyName("existing")] int Existing);

public sealed record CredentialsRemoved([property: JsonPropertyName("deleted")] int Deleted, [property: JsonPropertyName("missing")] int Missing);

public sealed record CredentialsCleared([property: JsonPropertyName("cleared")] int Cleared);

public sealed record CredentialEnabled(
    [property: JsonPropertyName("enabled")] bool Enabled, [property: JsonPropertyName("id")] long Id, [property: JsonPropertyName("token")] string Token);

public sealed record CredentialDisabled(
    [property: JsonPropertyName("disabled")] bool Disabled, [property: JsonPropertyName("id")] long Id, [property: JsonPropertyName("token")] string Token);

public sealed record CredentialDeleted(
    [property: JsonPropertyName("deleted")] bool Deleted, [property: JsonPropertyName("id")] long Id, [property: JsonPropertyName("token")] string Token);

public sealed record RotationIndex([property: JsonPropertyName("index")] int? Index);

public sealed record CredentialExport([property: JsonPropertyName("tokens")] IReadOnlyList<string> Tokens, [property: JsonPropertyName("count")] int Count);

/// <summary><c>POST</c>/<c>DELETE /v1/admin/tokens</c>: one credential, and its label when adding.</summary>
public sealed record TokenRequest([property: JsonPropertyName("token")] string? Token, [property: JsonPropertyName("label")] string? Label);

/// <summary>The batch endpoints: <c>{"tokens": ["a","b"]}</c> or <c>{"tokens": "a,b"}</c>.</summary>
public sealed record TokenListRequest([property: JsonPropertyName("tokens")] JsonElement Tokens);

[JsonSerializable(typeof(CredentialList))]
[JsonSerializable(typeof(CredentialAdded))]
[JsonSerializable(typeof(CredentialRemoved))]
[JsonSerializable(typeof(CredentialsAdded))]
[JsonSerializable(typeof(CredentialsRemoved))]
[JsonSerializable(typeof(CredentialsCleared))]
[JsonSerializable(typeof(CredentialEnabled))]
[JsonSerializable(typeof(CredentialDisabled))]
[JsonSerializable(typeof(CredentialDeleted))]
[JsonSerializable(typeof(RotationIndex))]
[JsonSerializable(typeof(CredentialExport))]
[JsonSerializable(typeof(TokenRequest))]
[JsonSerializable(typeof(TokenListRequest))]
public sealed partial class CredentialsJsonContext : JsonSerializerContext;

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

    public static async Task<Ok<CredentialList>> ListAsync(AdminDbContext db, IServiceProvider services, CancellationToken cancellationToken)
    {
        var credentials = await Live(db).OrderBy(c => c.Id).ToListAsync(cancellationToken);
        var live = await LiveHealthAsync(services);
        return TypedResults.Ok(new CredentialList(credentials.Count,
            [.. credentials.Select((c, i) => Answer(c, i, live.GetValueOrDefault("cred_" + c.Hash[..16])))]));
    }

    public static async Task<Results<Created<CredentialAdded>, Ok<CredentialAdded>, ProblemHttpResult>> AddAsync(HttpContext context, AdminDbContext db,
        SecretProtector protector, TimeProvider time)
    {
        var (body, token, error) = await ReadTokenAsync(context);
        if (error is not null)
        {
            return error;
        }

        var added = await UpsertAsync(db, protector, time, token, body!.Label);
        await db.SaveChangesAsync(context.RequestAborted);
        await Notify(context);
        var answer = new CredentialAdded(added, SecretProtector.Mask(token));
        return added ? TypedResults.Created((string?)null, answer) : TypedResults.Ok(answer);
    }

    /// <summary>The body and its required, non-empty <c>token</c>; or the 400 to answer.</summary>
    private static async Task<(TokenRequest? Body, string Token, ProblemHttpResult? Error)> ReadTokenAsync(HttpContext context)
    {
        var (body, error) = await AdminRequests.ReadAsync(context, CredentialsJsonContext.Default.TokenRequest);
        if (body is null)
        {
            return (null, "", error);
        }

        var token = body.Token?.Trim();
        Redaction.Remember(token);
        return string.IsNullOrEmpty(token)
            ? (body, "", AdminRequests.Problem("'token' is required and must be a non-empty string."))
            : (body, token, null);
    }

    public static async Task<Results<Ok<CredentialRemoved>, ProblemHttpResult>> DeleteAsync(HttpContext context, AdminDbContext db, TimeProvider time)
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
        return TypedResults.Ok(new CredentialRemoved(true, credential.Masked));
    }

    public static async Task<Results<Ok<CredentialsAdded>, ProblemHttpResult>> BatchAddAsync(HttpContext context, AdminDbContext db, SecretProtector protector, TimeProvider time)
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

        return TypedResults.Ok(new CredentialsAdded(added, existing));
    }

    public static async Task<Results<Ok<CredentialsRemoved>, ProblemHttpResult>> BatchDeleteAsync(HttpContext context, AdminDbContext db, TimeProvider time)
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
        return TypedResults.Ok(new CredentialsRemoved(found.Count, hashes.Count - found.Count));
    }

    public static async Task<Ok<CredentialsCleared>> ClearAsync(HttpContext context, AdminDbContext db, TimeProvider time)
    {
        var live = await Live(db).ToListAsync(context.RequestAborted);
        var now = time.GetUtcNow();
        foreach (var credential in live)
        {
            credential.Deleted = now;
        }

        await db.SaveChangesAsync(context.RequestAborted);
        await Notify(context);
        return TypedResults.Ok(new CredentialsCleared(live.Count));
    }

    public static async Task<Results<Ok<CredentialEnabled>, ProblemHttpResult>> EnableAsync(HttpContext context, long id, AdminDbContext db, IServiceProvider services)
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
            await redis.GetDatabase().HashDeleteAsync(RedisLayout.Prefix(services.GetRequiredService<IConfiguration>()) + "pool:health", "cred_" + credential.Hash[..16]);
        }

        return TypedResults.Ok(new CredentialEnabled(true, id, credential.Masked));
    }

    /// <summary>Takes a credential out of rotation on every replica (within a second) until it is enabled again.</summary>
    public static async Task<Results<Ok<CredentialDisabled>, ProblemHttpResult>> DisableAsync(HttpContext context, long id, AdminDbContext db)
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
        return TypedResults.Ok(new CredentialDisabled(true, id, credential.Masked));
    }

    /// <summary>Deletes one credential by its id (the list shows ids, never whole values).</summary>
    public static async Task<Results<Ok<CredentialDeleted>, ProblemHttpResult>> DeleteByIdAsync(HttpContext context, long id, AdminDbContext db, TimeProvider time)
    {
        if (await Live(db).SingleOrDefaultAsync(c => c.Id == id, context.RequestAborted) is not { } credential)
        {
            return NoSuchCredential(id);
        }

        credential.Deleted = time.GetUtcNow();
        await db.SaveChangesAsync(context.RequestAborted);
        await Notify(context);
        return TypedResults.Ok(new CredentialDeleted(true, id, credential.Masked));
    }

    public const string AdminDisabledReason = "Disabled by an admin.";

    private static ProblemHttpResult NoSuchCredential(long id) => AdminRequests.NotFound($"No credential with id {id}.");

    /// <summary><c>PUT {"index": n}</c>: the next request starts the rotation at credential n (shared by every replica).</summary>
    public static async Task<Results<Ok<RotationIndex>, ProblemHttpResult>> ResetIndexAsync(HttpContext context, AdminDbContext db, IServiceProvider services)
    {
        var (body, error) = await AdminRequests.ReadAsync(context, CredentialsJsonContext.Default.RotationIndex);
        if (body is null)
        {
            return error!;
        }

        if (body.Index is not { } index)
        {
            return AdminRequests.Problem("'index' is required and must be an integer.");
        }

        var count = await Live(db).CountAsync(context.RequestAborted);
        if (index < 0 || index >= count)
        {
            return AdminRequests.Problem($"'index' {index} is out of range: there are {count} credentials (0 to {Math.Max(0, count - 1)}).");
        }

        if (services.GetService<IConnectionMultiplexer>() is not { } redis)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status503ServiceUnavailable,
                detail: "The rotation cursor is shared through Redis, and no Redis is configured.");
        }

        await redis.GetDatabase().StringSetAsync(RedisLayout.Prefix(services.GetRequiredService<IConfiguration>()) + "pool:cursor", index);
        return TypedResults.Ok(new RotationIndex(index));
    }

    /// <summary>Full values, in the original project's formats, as a download.</summary>
    public static async Task<Results<ContentHttpResult, ProblemHttpResult>> ExportAsync(HttpContext context, AdminDbContext db, SecretProtector protector, string? format)
    {
        format = (format ?? "json").Trim().ToLowerInvariant();
        if (format is not ("json" or "text" or "env"))
        {
            return AdminRequests.Problem($"Unknown export format '{format}': use json, text or env.");
        }

        var values = (await Live(db).OrderBy(c => c.Id).ToListAsync(context.RequestAborted)).Select(c => protector.Unprotect(c.EncryptedValue)).ToList();
        var (content, type, extension) = format switch
        {
            "text" => (string.Join("\n", values) + (values.Count > 0 ? "\n" : ""), "text/plain", "txt"),
            "env" => ($"{SeedSettings.FlowithAuthTokens}={string.Join(",", values)}\n", "text/plain", "env"),
            _ => (JsonSerializer.Serialize(new CredentialExport(values, values.Count), CredentialsJsonContext.Default.CredentialExport), "application/json", "json"),
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

    /// <summary><c>{"tokens": ["a","b"]}</c> or <c>{"tokens": "a,b"}</c>.</summary>
    private static async Task<(IReadOnlyList<string> Tokens, ProblemHttpResult? Error)> ReadTokenListAsync(HttpContext context)
    {
        var (body, error) = await AdminRequests.ReadAsync(context, CredentialsJsonContext.Default.TokenListRequest);
        if (body is null)
        {
            return ([], error);
        }

        var t = body.Tokens;
        IReadOnlyList<string> tokens = t.ValueKind switch
        {
            JsonValueKind.String => SeedSettings.SplitList(t.GetString()),
            JsonValueKind.Array when t.EnumerateArray().All(e => e.ValueKind == JsonValueKind.String) =>
                SeedSettings.SplitList(string.Join(",", t.EnumerateArray().Select(e => e.GetString()))),
            _ => [],
        };
        foreach (var token in tokens)
        {
            Redaction.Remember(token);
        }

        return tokens.Count == 0 ? ([], AdminRequests.Problem("'tokens' is required: a list of tokens or a comma-separated string.")) : (tokens, null);
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
        foreach (var entry in await redis.GetDatabase().HashGetAllAsync(RedisLayout.Prefix(services.GetRequiredService<IConfiguration>()) + "pool:health"))
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

    private static CredentialAnswer Answer(CredentialEntity credential, int index, (string State, string? Reason, DateTimeOffset? Until) live)
    {
        if (credential.AdminDisabled)
        {
            live = default;
        }

        return new CredentialAnswer(credential.Id, index, credential.Masked, credential.Label, live.State ?? credential.State.ToString().ToLowerInvariant(),
            live.Reason ?? credential.Reason, credential.AdminDisabled, live.Until, credential.UseCount, credential.FailureCount, credential.LastUsed,
            credential.LastError, credential.Created);
    }
}
