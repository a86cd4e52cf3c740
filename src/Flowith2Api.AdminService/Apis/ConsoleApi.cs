using System.Collections.Frozen;
using System.Security.Cryptography;
using Flowith2Api.AdminService.Data;
using Flowith2Api.Contracts;
using Flowith2Api.ServiceDefaults;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Flowith2Api.AdminService.Apis;

/// <summary>
/// The web console: its pages and assets under <c>/admin</c> (bundled into this assembly at build time, nothing from
/// a CDN), and the console sessions the Gateway creates at sign-in and ends at sign-out. The Gateway authenticates
/// every console request (session cookie + CSRF token) before it reaches these pages; the pages hold no data, they
/// call the admin API from the browser.
/// </summary>
public static class ConsoleApi
{
    /// <summary>The console's pages: each is the same shell, the script draws the page its path names.</summary>
    public static readonly FrozenSet<string> Pages = FrozenSet.ToFrozenSet(["dashboard", "credentials", "keys", "config", "sessions", "tools"]);

    private static readonly FrozenDictionary<string, (byte[] Content, string Type, string ETag)> Assets = LoadAssets();

    private const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; "
        + "form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

    public static IEndpointRouteBuilder MapConsoleApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/admin", static context => Redirect(context, "/admin/dashboard"));
        app.MapGet("/admin/", static context => Redirect(context, "/admin/dashboard"));
        app.MapGet("/admin/login", static context => WritePageAsync(context, "login.html"));
        app.MapGet("/admin/assets/{name}", WriteAssetAsync);
        app.MapGet("/admin/{page}", static (HttpContext context, string page) =>
            Pages.Contains(page) ? WritePageAsync(context, "index.html") : WriteNotFoundAsync(context));
        app.MapPost("/internal/console-sessions", CreateSessionAsync);
        app.MapDelete("/internal/console-sessions/{tokenHash}", DeleteSessionAsync);
        return app;
    }

    /// <summary>The unexpired sessions, for the Gateway's cache (served with the keys).</summary>
    public static Task<List<ConsoleSessionEntity>> LiveSessionsAsync(AdminDbContext db, TimeProvider time, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        return db.ConsoleSessions.Where(s => s.Expires > now).ToListAsync(cancellationToken);
    }

    /// <summary>Ends every console session of a key (deleted, disabled, or no longer admin).</summary>
    public static Task<int> EndSessionsOfAsync(AdminDbContext db, string keyHash, CancellationToken cancellationToken) =>
        db.ConsoleSessions.Where(s => s.KeyHash == keyHash).ExecuteDeleteAsync(cancellationToken);

    private static async Task<Results<NoContent, BadRequest>> CreateSessionAsync(HttpContext context, AdminDbContext db, ChangeNotifier notifier,
        TimeProvider time)
    {
        var (row, _) = await AdminRequests.ReadAsync(context, InternalKeysJsonContext.Default.ConsoleSessionRow);
        var now = time.GetUtcNow();
        if (row is null || !IsHash(row.TokenHash) || !IsHash(row.KeyHash)
            || row.Expires <= now.ToUnixTimeSeconds() || row.Expires > (now + TimeSpan.FromDays(2)).ToUnixTimeSeconds())
        {
            return TypedResults.BadRequest();
        }

        // Only a live, enabled admin key can hold a session.
        if (!await db.ApiKeys.AnyAsync(k => k.Hash == row.KeyHash && k.IsAdmin && k.Enabled && k.Deleted == null, context.RequestAborted)
            && !IsEnvironmentAdminKey(context, row.KeyHash))
        {
            return TypedResults.BadRequest();
        }

        await db.ConsoleSessions.Where(s => s.Expires <= now).ExecuteDeleteAsync(context.RequestAborted);
        db.ConsoleSessions.Add(new ConsoleSessionEntity
        {
            TokenHash = row.TokenHash,
            KeyHash = row.KeyHash,
            Created = now,
            Expires = DateTimeOffset.FromUnixTimeSeconds(row.Expires),
        });
        await db.SaveChangesAsync(context.RequestAborted);
        await notifier.PublishAsync(KeysApi.Changed);
        return TypedResults.NoContent();
    }

    private static async Task<Results<NoContent, NotFound>> DeleteSessionAsync(string tokenHash, AdminDbContext db, ChangeNotifier notifier,
        CancellationToken cancellationToken)
    {
        var deleted = await db.ConsoleSessions.Where(s => s.TokenHash == tokenHash).ExecuteDeleteAsync(cancellationToken);
        await notifier.PublishAsync(KeysApi.Changed);
        return deleted > 0 ? TypedResults.NoContent() : TypedResults.NotFound();
    }

    /// <summary>The environment's keys are seeded into the table at start; this covers a request racing that seeding.</summary>
    private static bool IsEnvironmentAdminKey(HttpContext context, string hash)
    {
        var admin = SeedSettings.AdminKeyOf(context.RequestServices.GetRequiredService<IConfiguration>());
        return admin is not null && SecretProtector.Hash(admin) == hash;
    }

    private static bool IsHash(string? value) => value is { Length: 64 } hex && hex.All(char.IsAsciiHexDigitLower);

    private static Task Redirect(HttpContext context, string location)
    {
        context.Response.StatusCode = StatusCodes.Status302Found;
        context.Response.Headers.Location = location;
        return Task.CompletedTask;
    }

    private static async Task WritePageAsync(HttpContext context, string name)
    {
        var (content, type, _) = Assets[name];
        var headers = context.Response.Headers;
        headers.ContentSecurityPolicy = ContentSecurityPolicy;
        headers.XContentTypeOptions = "nosniff";
        headers.XFrameOptions = "DENY";
        headers["Referrer-Policy"] = "no-referrer";
        headers.CacheControl = "no-store";
        context.Response.ContentType = type;
        await context.Response.Body.WriteAsync(content, context.RequestAborted);
    }

    private static async Task WriteAssetAsync(HttpContext context, string name)
    {
        if (name.EndsWith(".html", StringComparison.Ordinal) || !Assets.TryGetValue(name, out var asset))
        {
            await WriteNotFoundAsync(context);
            return;
        }

        var headers = context.Response.Headers;
        headers.XContentTypeOptions = "nosniff";
        headers.CacheControl = "no-cache"; // revalidated by ETag: a new build is picked up at once
        headers.ETag = asset.ETag;
        if (context.Request.Headers.IfNoneMatch == asset.ETag)
        {
            context.Response.StatusCode = StatusCodes.Status304NotModified;
            return;
        }

        context.Response.ContentType = asset.Type;
        await context.Response.Body.WriteAsync(asset.Content, context.RequestAborted);
    }

    private static Task WriteNotFoundAsync(HttpContext context) =>
        JsonResponse.WriteAsync(context, StatusCodes.Status404NotFound, json =>
        {
            json.WriteStartObject();
            json.WriteStartObject("error");
            json.WriteString("message", $"No console page at {context.Request.Path}.");
            json.WriteString("type", "not_found_error");
            json.WriteEndObject();
            json.WriteEndObject();
        });

    private static FrozenDictionary<string, (byte[] Content, string Type, string ETag)> LoadAssets()
    {
        const string Prefix = "console/";
        var assembly = typeof(ConsoleApi).Assembly;
        var assets = new Dictionary<string, (byte[], string, string)>(StringComparer.Ordinal);
        foreach (var resource in assembly.GetManifestResourceNames().Where(r => r.StartsWith(Prefix, StringComparison.Ordinal)))
        {
            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var memory = new MemoryStream();
            stream.CopyTo(memory);
            var content = memory.ToArray();
            var name = resource[Prefix.Length..];
            var type = Path.GetExtension(name) switch
            {
                ".html" => "text/html; charset=utf-8",
                ".js" => "text/javascript; charset=utf-8",
                ".css" => "text/css; charset=utf-8",
                ".svg" => "image/svg+xml",
                ".png" => "image/png",
                _ => "application/octet-stream",
            };
            assets[name] = (content, type, "\"" + Convert.ToHexStringLower(SHA256.HashData(content).AsSpan(0, 8)) + "\"");
        }

        return assets.ToFrozenDictionary(StringComparer.Ordinal);
    }
}
