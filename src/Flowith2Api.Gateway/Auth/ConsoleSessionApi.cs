using System.Text.Json;
using System.Text.Json.Serialization;
using Flowith2Api.Contracts;
using Flowith2Api.ServiceDefaults;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Flowith2Api.Gateway.Auth;

/// <summary>The sign-in body: the admin key.</summary>
public sealed record ConsoleSignIn([property: JsonPropertyName("key")] string? Key);

/// <summary>A console session as the console reads it: whose, and the CSRF token to send on every change.</summary>
public sealed record ConsoleSessionAnswer(
    [property: JsonPropertyName("signed_in")] bool SignedIn,
    [property: JsonPropertyName("key_name")] string KeyName,
    [property: JsonPropertyName("csrf_token")] string CsrfToken,
    [property: JsonPropertyName("expires_at"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] long? ExpiresAt);

[JsonSerializable(typeof(ConsoleSignIn))]
[JsonSerializable(typeof(ConsoleSessionAnswer))]
public sealed partial class ConsoleSessionJsonContext : JsonSerializerContext;

/// <summary>
/// <c>/admin/api/session</c>: sign in with the admin key (answered with an HttpOnly, SameSite=Strict cookie and the
/// CSRF token the console sends on every change), read the session, sign out. Every answer is <c>no-store</c>.
/// </summary>
public static partial class ConsoleSessionApi
{
    public const string Path = "/admin/api/session";
    public const string CsrfHeader = "x-csrf-token";
    private const int MaxSignInBytes = 4096;

    public static IEndpointRouteBuilder MapConsoleSessionApi(this IEndpointRouteBuilder app)
    {
        // The endpoints authenticate the sign-in themselves (the key in the body, the cookie after).
        var group = app.MapGroup(Path).AllowAnonymous().ExcludeFromDescription().AddEndpointFilter(static (context, next) =>
        {
            context.HttpContext.Response.Headers.CacheControl = "no-store";
            return next(context);
        });
        group.MapPost("", SignInAsync);
        group.MapGet("", Read);
        group.MapDelete("", SignOutAsync);
        return app;
    }

    private static async Task<Results<Ok<ConsoleSessionAnswer>, OpenAIErrorResult>> SignInAsync(HttpContext context, ApiKeyStore keys,
        ConsoleSessionStore sessions, SignInThrottle throttle, TimeProvider time, IServiceProvider services, ILogger<ConsoleSessionStore> logger)
    {
        var address = context.Connection.RemoteIpAddress;
        if (throttle.RetryAfter(address) is { } wait)
        {
            context.Response.Headers.RetryAfter = ((int)Math.Ceiling(wait.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
            return Error(StatusCodes.Status429TooManyRequests, "Too many failed sign-ins from this address; wait and try again.", "too_many_sign_in_attempts");
        }

        // JSON only (a cross-site form cannot send it without the browser asking first), small, from this origin.
        var request = context.Request;
        if (request.ContentLength is > MaxSignInBytes || request.ContentType?.StartsWith("application/json", StringComparison.OrdinalIgnoreCase) != true
            || !ConsoleRequests.IsSameOrigin(request))
        {
            return Error(StatusCodes.Status400BadRequest, "Sign in from the console page: a small JSON body {\"key\": \"...\"}.", "invalid_sign_in_request");
        }

        var key = (await ReadSignInAsync(context))?.Key?.Trim();
        if (string.IsNullOrEmpty(key))
        {
            return Error(StatusCodes.Status400BadRequest, "Send the admin key as {\"key\": \"...\"}.", "missing_api_key");
        }

        if (keys.Find(key) is not { IsAdmin: true } entry)
        {
            throttle.Failed(address);
            return Error(StatusCodes.Status401Unauthorized, "That is not an admin key.", "invalid_admin_key");
        }

        if (services.GetService<AdminClient>() is not { } admin)
        {
            return Error(StatusCodes.Status503ServiceUnavailable, "The console needs the AdminService, which this gateway does not know.", "console_unavailable");
        }

        throttle.Succeeded(address);
        var token = ConsoleSessionStore.NewToken();
        var session = new ConsoleSession(ConsoleSessionStore.Hash(token), entry.Hash, time.GetUtcNow() + ConsoleSessionStore.Lifetime);
        var row = new ConsoleSessionRow(Convert.ToHexStringLower(session.TokenHash), Convert.ToHexStringLower(session.KeyHash), session.Expires.ToUnixTimeSeconds());
        var content = JsonContent.Create(row, InternalKeysJsonContext.Default.ConsoleSessionRow);
        if (await TellAdminServiceAsync(context, admin, HttpMethod.Post, "/internal/console-sessions", content, "store the session", logger) is { } failed)
        {
            return failed;
        }

        sessions.Add(session);
        context.Response.Cookies.Append(ConsoleSessionStore.CookieName, token, new CookieOptions
        {
            HttpOnly = true,
            SameSite = SameSiteMode.Strict,
            Secure = request.IsHttps || string.Equals(request.Headers["X-Forwarded-Proto"], "https", StringComparison.OrdinalIgnoreCase),
            Path = "/",
            MaxAge = ConsoleSessionStore.Lifetime,
        });
        return TypedResults.Ok(Answer(entry, token, session.Expires));
    }

    private static Results<Ok<ConsoleSessionAnswer>, OpenAIErrorResult> Read(HttpContext context, ConsoleSessionStore sessions) =>
        sessions.Authenticate(context.Request, out var token) is { } entry
            ? TypedResults.Ok(Answer(entry, token!, null))
            : Error(StatusCodes.Status401Unauthorized, "Not signed in.", "not_signed_in");

    private static async Task<Results<NoContent, OpenAIErrorResult>> SignOutAsync(HttpContext context, ConsoleSessionStore sessions,
        IServiceProvider services, ILogger<ConsoleSessionStore> logger)
    {
        if (sessions.Authenticate(context.Request, out var token) is null)
        {
            ClearCookie(context);
            return TypedResults.NoContent();
        }

        if (!ConsoleSessionStore.CsrfMatches(token!, context.Request.Headers[CsrfHeader]))
        {
            return Error(StatusCodes.Status403Forbidden, "Missing or wrong CSRF token.", "csrf_token_invalid");
        }

        var hash = ConsoleSessionStore.Hash(token!);
        // Not ended everywhere: say so, and keep the session, rather than pretend (a session already gone is ended).
        if (services.GetService<AdminClient>() is { } admin
            && await TellAdminServiceAsync(context, admin, HttpMethod.Delete, "/internal/console-sessions/" + Convert.ToHexStringLower(hash), null,
                "end the session", logger, goneIsFine: true) is { } failed)
        {
            return failed;
        }

        sessions.Remove(hash);
        ClearCookie(context);
        return TypedResults.NoContent();
    }

    /// <summary>The sign-in body, read up to its size limit; null when it is not the expected JSON.</summary>
    private static async Task<ConsoleSignIn?> ReadSignInAsync(HttpContext context)
    {
        var buffer = new byte[MaxSignInBytes + 1];
        var length = 0;
        int read;
        while (length < buffer.Length && (read = await context.Request.Body.ReadAsync(buffer.AsMemory(length), context.RequestAborted)) > 0)
        {
            length += read;
        }

        try
        {
            return JsonSerializer.Deserialize(buffer.AsSpan(0, Math.Min(length, MaxSignInBytes)), ConsoleSessionJsonContext.Default.ConsoleSignIn);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>One change to the stored sessions; the 503 to answer when the AdminService did not take it, else null.</summary>
    private static async Task<OpenAIErrorResult?> TellAdminServiceAsync(HttpContext context, AdminClient admin, HttpMethod method, string path,
        HttpContent? content, string what, ILogger logger, bool goneIsFine = false)
    {
        try
        {
            using var response = await admin.SendAsync(method, path, content, context.RequestAborted);
            if (!(goneIsFine && response.StatusCode == System.Net.HttpStatusCode.NotFound))
            {
                response.EnsureSuccessStatusCode();
            }

            return null;
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException && !context.RequestAborted.IsCancellationRequested)
        {
            LogStoreFailed(logger, e.GetType().Name);
            return Error(StatusCodes.Status503ServiceUnavailable, $"The AdminService cannot {what} right now; retry shortly.", "console_unavailable");
        }
    }

    private static ConsoleSessionAnswer Answer(ApiKeyEntry entry, string token, DateTimeOffset? expires) =>
        new(true, entry.Name, ConsoleSessionStore.CsrfToken(token), expires?.ToUnixTimeSeconds());

    private static OpenAIErrorResult Error(int status, string message, string code) => new(status, message, code);

    private static void ClearCookie(HttpContext context) =>
        context.Response.Cookies.Delete(ConsoleSessionStore.CookieName, new CookieOptions { HttpOnly = true, SameSite = SameSiteMode.Strict, Path = "/" });

    [LoggerMessage(Level = LogLevel.Error, Message = "The AdminService did not take the console session change ({ExceptionType})")]
    private static partial void LogStoreFailed(ILogger logger, string exceptionType);
}
