using System.Security.Cryptography;
using System.Text.Json.Serialization;
using Flowith2Api.AdminService.Data;
using Flowith2Api.Contracts;
using Flowith2Api.ServiceDefaults;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Flowith2Api.AdminService.Apis;

/// <summary>A key as the admin API shows it: masked, except in the answer that created it.</summary>
public sealed record KeyAnswer(
    [property: JsonPropertyName("id")] long Id,
    [property: JsonPropertyName("key_id")] string KeyId,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("key")] string Key,
    [property: JsonPropertyName("is_admin")] bool IsAdmin,
    [property: JsonPropertyName("enabled")] bool Enabled,
    [property: JsonPropertyName("rate_limit_per_minute")] int? RateLimitPerMinute,
    [property: JsonPropertyName("created")] DateTimeOffset Created);

public sealed record KeyList([property: JsonPropertyName("keys")] IReadOnlyList<KeyAnswer> Keys);

public sealed record KeyDeleted([property: JsonPropertyName("deleted")] bool Deleted, [property: JsonPropertyName("id")] long Id);

/// <summary><c>POST /v1/admin/keys</c>: a name, whether it is an admin key, and an optional limit (requests per minute).</summary>
public sealed record KeyCreate(
    [property: JsonPropertyName("name")] string? Name,
    [property: JsonPropertyName("is_admin")] bool IsAdmin,
    [property: JsonPropertyName("rate_limit_per_minute")] int? RateLimitPerMinute);

/// <summary><c>PATCH /v1/admin/keys/{id}</c>: only what is present changes (a <c>null</c> limit removes the limit).</summary>
public sealed record KeyUpdate(
    [property: JsonPropertyName("enabled")] bool? Enabled,
    [property: JsonPropertyName("rate_limit_per_minute")] Field<int?> RateLimitPerMinute);

[JsonSerializable(typeof(KeyList))]
[JsonSerializable(typeof(KeyAnswer))]
[JsonSerializable(typeof(KeyDeleted))]
[JsonSerializable(typeof(KeyCreate))]
[JsonSerializable(typeof(KeyUpdate))]
[JsonSerializable(typeof(int?))]
public sealed partial class KeysJsonContext : JsonSerializerContext;

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

    public static async Task<Ok<KeyList>> ListAsync(AdminDbContext db, CancellationToken cancellationToken)
    {
        var keys = await db.ApiKeys.Where(k => k.Deleted == null).OrderBy(k => k.Id).ToListAsync(cancellationToken);
        return TypedResults.Ok(new KeyList([.. keys.Select(k => Answer(k, fullKey: null))]));
    }

    public static async Task<Results<Created<KeyAnswer>, ProblemHttpResult>> CreateAsync(HttpContext context, AdminDbContext db, ChangeNotifier notifier,
        TimeProvider time)
    {
        var (body, error) = await AdminRequests.ReadAsync(context, KeysJsonContext.Default.KeyCreate);
        if (body is null)
        {
            return error!;
        }

        var name = body.Name?.Trim();
        if (string.IsNullOrEmpty(name) || name.Length > 200)
        {
            return AdminRequests.Problem("'name' is required (1 to 200 characters).");
        }

        if (LimitError(body.RateLimitPerMinute) is { } limitError)
        {
            return limitError;
        }

        var value = "sk-f2a-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
        var key = new ApiKeyEntity
        {
            Hash = SecretProtector.Hash(value),
            Name = name,
            Masked = SecretProtector.Mask(value),
            IsAdmin = body.IsAdmin,
            RateLimitPerMinute = body.RateLimitPerMinute,
            Created = time.GetUtcNow(),
        };
        db.ApiKeys.Add(key);
        await db.SaveChangesAsync(context.RequestAborted);
        await notifier.PublishAsync(Changed);
        return TypedResults.Created($"/v1/admin/keys/{key.Id}", Answer(key, fullKey: value));
    }

    public static async Task<Results<Ok<KeyAnswer>, ProblemHttpResult>> UpdateAsync(HttpContext context, long id, AdminDbContext db, ChangeNotifier notifier)
    {
        var (body, error) = await AdminRequests.ReadAsync(context, KeysJsonContext.Default.KeyUpdate);
        if (body is null)
        {
            return error!;
        }

        var key = await db.ApiKeys.SingleOrDefaultAsync(k => k.Id == id && k.Deleted == null, context.RequestAborted);
        if (key is null)
        {
            return AdminRequests.NotFound($"No key with id {id}.");
        }

        if (body.RateLimitPerMinute.IsSet && LimitError(body.RateLimitPerMinute.Value) is { } limitError)
        {
            return limitError;
        }

        key.Enabled = body.Enabled ?? key.Enabled;
        key.RateLimitPerMinute = body.RateLimitPerMinute.IsSet ? body.RateLimitPerMinute.Value : key.RateLimitPerMinute;
        await db.SaveChangesAsync(context.RequestAborted);
        if (!key.Enabled)
        {
            await ConsoleApi.EndSessionsOfAsync(db, key.Hash, context.RequestAborted); // enabling it again does not bring them back
        }

        await notifier.PublishAsync(Changed);
        return TypedResults.Ok(Answer(key, fullKey: null));
    }

    public static async Task<Results<Ok<KeyDeleted>, ProblemHttpResult>> DeleteAsync(long id, AdminDbContext db, ChangeNotifier notifier, TimeProvider time,
        CancellationToken cancellationToken)
    {
        var key = await db.ApiKeys.SingleOrDefaultAsync(k => k.Id == id && k.Deleted == null, cancellationToken);
        if (key is null)
        {
            return AdminRequests.NotFound($"No key with id {id}.");
        }

        key.Deleted = time.GetUtcNow();
        await db.SaveChangesAsync(cancellationToken);
        await ConsoleApi.EndSessionsOfAsync(db, key.Hash, cancellationToken);
        await notifier.PublishAsync(Changed);
        return TypedResults.Ok(new KeyDeleted(true, id));
    }

    /// <summary>Every live key's hash and properties (never a key), for the Gateway's in-memory key store.</summary>
    public static async Task<Ok<InternalKeyList>> InternalAsync(AdminDbContext db, TimeProvider time, CancellationToken cancellationToken)
    {
        var keys = await db.ApiKeys.Where(k => k.Deleted == null).ToListAsync(cancellationToken);
        var sessions = await ConsoleApi.LiveSessionsAsync(db, time, cancellationToken);
        return TypedResults.Ok(new InternalKeyList(
            [.. keys.Select(k => new InternalKey(k.Hash, k.Name, k.IsAdmin, k.Enabled, k.RateLimitPerMinute))],
            [.. sessions.Select(s => new ConsoleSessionRow(s.TokenHash, s.KeyHash, s.Expires.ToUnixTimeSeconds()))]));
    }

    private static KeyAnswer Answer(ApiKeyEntity key, string? fullKey) =>
        new(key.Id, "key_" + key.Hash[..16], key.Name, fullKey ?? key.Masked, key.IsAdmin, key.Enabled, key.RateLimitPerMinute, key.Created);

    private static ProblemHttpResult? LimitError(int? limit) => limit is null or (> 0 and <= 1_000_000)
        ? null
        : AdminRequests.Problem("'rate_limit_per_minute' must be a whole number from 1 to 1000000, or null for no limit.");
}
