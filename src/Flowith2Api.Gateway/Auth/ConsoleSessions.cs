using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Flowith2Api.ServiceDefaults;

namespace Flowith2Api.Gateway.Auth;

/// <summary>One web console session as the Gateway knows it: the hashes of its cookie token and of the admin key that signed in.</summary>
public sealed record ConsoleSession(byte[] TokenHash, byte[] KeyHash, DateTimeOffset Expires, DateTimeOffset? AddedLocally = null);

/// <summary>
/// The signed-in web console sessions, in memory like the keys: the AdminService's list (followed within a second of a
/// change), plus the sessions this replica just created. A cookie token is hashed, looked up and confirmed in constant
/// time; the session is only as good as its key — deleted, disabled or no longer admin, the session is gone too.
/// </summary>
public sealed class ConsoleSessionStore(ApiKeyStore keys, TimeProvider time)
{
    public const string CookieName = "f2a_console";
    public static readonly TimeSpan Lifetime = TimeSpan.FromHours(12);

    /// <summary>How long a session made here is kept even when a reload (begun before it was stored) does not list it yet.</summary>
    private static readonly TimeSpan LocalGrace = TimeSpan.FromSeconds(5);

    private volatile Dictionary<UInt128, ConsoleSession> _byHash = [];

    /// <summary>Sessions signed out here, until they expire: a reload that read the list before the sign-out cannot bring one back.</summary>
    private readonly Dictionary<UInt128, DateTimeOffset> _revoked = [];
    private readonly Lock _gate = new();

    /// <summary>The admin key behind the request's console cookie, or null (no cookie, unknown, expired, key gone).</summary>
    public ApiKeyEntry? Authenticate(HttpRequest request, out string? token)
    {
        token = request.Cookies[CookieName];
        if (string.IsNullOrEmpty(token) || token.Length > 128)
        {
            token = null;
            return null;
        }

        var hash = Hash(token);
        if (!_byHash.TryGetValue(Slot(hash), out var session) || !CryptographicOperations.FixedTimeEquals(session.TokenHash, hash)
            || session.Expires <= time.GetUtcNow())
        {
            return null;
        }

        return keys.FindByHash(session.KeyHash) is { IsAdmin: true } entry ? entry : null;
    }

    /// <summary>The CSRF token of a session: derived from its cookie token, which scripts cannot read.</summary>
    public static string CsrfToken(string token) =>
        Base64Url(HMACSHA256.HashData(Encoding.UTF8.GetBytes(token), "flowith2api console csrf"u8));

    public static bool CsrfMatches(string token, string? presented) =>
        presented is { Length: > 0 and < 128 }
        && CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(CsrfToken(token)), Encoding.ASCII.GetBytes(presented));

    public static string NewToken() => Base64Url(RandomNumberGenerator.GetBytes(32));

    public static byte[] Hash(string token) => SHA256.HashData(Encoding.UTF8.GetBytes(token));

    public void Add(ConsoleSession session)
    {
        lock (_gate)
        {
            _byHash = new Dictionary<UInt128, ConsoleSession>(_byHash) { [Slot(session.TokenHash)] = session with { AddedLocally = time.GetUtcNow() } };
        }
    }

    public void Remove(byte[] tokenHash)
    {
        lock (_gate)
        {
            var slot = Slot(tokenHash);
            var next = new Dictionary<UInt128, ConsoleSession>(_byHash);
            _revoked[slot] = next.TryGetValue(slot, out var session) ? session.Expires : time.GetUtcNow() + Lifetime;
            next.Remove(slot);
            _byHash = next;
        }
    }

    /// <summary>The AdminService's list (<c>console_sessions</c> of <c>/internal/keys</c>); a malformed row is skipped.</summary>
    public void Replace(JsonElement sessions)
    {
        var now = time.GetUtcNow();
        var next = new Dictionary<UInt128, ConsoleSession>();
        if (sessions.ValueKind == JsonValueKind.Array)
        {
            foreach (var session in sessions.EnumerateArray())
            {
                if (Read(session) is { } read && read.Expires > now)
                {
                    next[Slot(read.TokenHash)] = read;
                }
            }
        }

        lock (_gate)
        {
            foreach (var (slot, session) in _byHash)
            {
                if (session.AddedLocally is { } added && now - added < LocalGrace)
                {
                    next.TryAdd(slot, session);
                }
            }

            foreach (var (slot, expires) in _revoked.ToList())
            {
                if (expires <= now)
                {
                    _revoked.Remove(slot);
                }
                else
                {
                    next.Remove(slot);
                }
            }

            _byHash = next;
        }
    }

    private static ConsoleSession? Read(JsonElement row)
    {
        if (row.ValueKind != JsonValueKind.Object
            || !row.TryGetProperty("token_hash", out var token) || token.GetString() is not { Length: 64 } tokenHex
            || !row.TryGetProperty("key_hash", out var key) || key.GetString() is not { Length: 64 } keyHex
            || !row.TryGetProperty("expires", out var expires) || !expires.TryGetInt64(out var expiresUnix)
            || expiresUnix is < 0 or > 253_402_300_799
            || !tokenHex.All(char.IsAsciiHexDigit) || !keyHex.All(char.IsAsciiHexDigit))
        {
            return null;
        }

        return new ConsoleSession(Convert.FromHexString(tokenHex), Convert.FromHexString(keyHex), DateTimeOffset.FromUnixTimeSeconds(expiresUnix));
    }

    private static UInt128 Slot(byte[] hash) => BinaryPrimitives.ReadUInt128LittleEndian(hash);

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}

/// <summary>
/// Sign-in attempts per client address: a few mistakes are fine, a guessing run is not (10 failures in 5 minutes
/// lock the address out for the rest of the window).
/// </summary>
public sealed class SignInThrottle(TimeProvider time)
{
    private const int MaxFailures = 10;
    private static readonly TimeSpan Window = TimeSpan.FromMinutes(5);
    private readonly ConcurrentDictionary<IPAddress, (int Failures, DateTimeOffset Start)> _failures = new();

    /// <summary>An IPv6 client is counted by its /64 (one machine usually holds all of it), IPv4 by its address.</summary>
    private static IPAddress? Bucket(IPAddress? address)
    {
        if (address is null || address.IsIPv4MappedToIPv6 || address.AddressFamily != System.Net.Sockets.AddressFamily.InterNetworkV6)
        {
            return address?.IsIPv4MappedToIPv6 == true ? address.MapToIPv4() : address;
        }

        var bytes = address.GetAddressBytes();
        Array.Clear(bytes, 8, 8);
        return new IPAddress(bytes);
    }

    public TimeSpan? RetryAfter(IPAddress? address)
    {
        address = Bucket(address);
        var now = time.GetUtcNow();
        return address is not null && _failures.TryGetValue(address, out var entry) && now - entry.Start < Window && entry.Failures >= MaxFailures
            ? entry.Start + Window - now
            : null;
    }

    public void Failed(IPAddress? address)
    {
        address = Bucket(address);
        if (address is null)
        {
            return;
        }

        var now = time.GetUtcNow();
        _failures.AddOrUpdate(address, _ => (1, now), (_, entry) => now - entry.Start >= Window ? (1, now) : (entry.Failures + 1, entry.Start));
        if (_failures.Count > 10_000)
        {
            foreach (var (key, entry) in _failures)
            {
                if (now - entry.Start >= Window)
                {
                    _failures.TryRemove(key, out _);
                }
            }
        }
    }

    public void Succeeded(IPAddress? address)
    {
        address = Bucket(address);
        if (address is not null)
        {
            _failures.TryRemove(address, out _);
        }
    }
}

/// <summary>
/// <c>/admin/api/session</c>: sign in with the admin key (answered with an HttpOnly, SameSite=Strict cookie and the
/// CSRF token the console sends on every change), read the session, sign out.
/// </summary>
public static partial class ConsoleSessionApi
{
    public const string Path = "/admin/api/session";
    public const string CsrfHeader = "x-csrf-token";
    private const int MaxSignInBytes = 4096;

    private static bool IsJson(string? contentType) =>
        contentType is not null && contentType.StartsWith("application/json", StringComparison.OrdinalIgnoreCase);

    public static IEndpointRouteBuilder MapConsoleSessionApi(this IEndpointRouteBuilder app)
    {
        app.MapPost(Path, SignInAsync);
        app.MapGet(Path, ReadAsync);
        app.MapDelete(Path, SignOutAsync);
        return app;
    }

    private static async Task SignInAsync(HttpContext context, ApiKeyStore keys, ConsoleSessionStore sessions, SignInThrottle throttle,
        TimeProvider time, IServiceProvider services, ILogger<ConsoleSessionStore> logger)
    {
        var address = context.Connection.RemoteIpAddress;
        if (throttle.RetryAfter(address) is { } wait)
        {
            context.Response.Headers.RetryAfter = ((int)Math.Ceiling(wait.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
            await WriteErrorAsync(context, StatusCodes.Status429TooManyRequests, "Too many failed sign-ins from this address; wait and try again.",
                "too_many_sign_in_attempts");
            return;
        }

        // JSON only (a cross-site form cannot send it without the browser asking first), small, from this origin.
        if (context.Request.ContentLength is > MaxSignInBytes || !IsJson(context.Request.ContentType) || !ConsoleRequests.IsSameOrigin(context.Request))
        {
            await WriteErrorAsync(context, StatusCodes.Status400BadRequest, "Sign in from the console page: a small JSON body {\"key\": \"...\"}.",
                "invalid_sign_in_request");
            return;
        }

        string? key = null;
        try
        {
            var buffer = new byte[MaxSignInBytes + 1];
            var length = 0;
            int read;
            while (length < buffer.Length && (read = await context.Request.Body.ReadAsync(buffer.AsMemory(length), context.RequestAborted)) > 0)
            {
                length += read;
            }

            using var body = JsonDocument.Parse(buffer.AsMemory(0, Math.Min(length, MaxSignInBytes)));
            if (body.RootElement.ValueKind == JsonValueKind.Object && body.RootElement.TryGetProperty("key", out var k) && k.ValueKind == JsonValueKind.String)
            {
                key = k.GetString()?.Trim();
            }
        }
        catch (JsonException)
        {
        }

        if (string.IsNullOrEmpty(key))
        {
            await WriteErrorAsync(context, StatusCodes.Status400BadRequest, "Send the admin key as {\"key\": \"...\"}.", "missing_api_key");
            return;
        }

        var entry = keys.Find(key);
        if (entry is not { IsAdmin: true })
        {
            throttle.Failed(address);
            await WriteErrorAsync(context, StatusCodes.Status401Unauthorized, "That is not an admin key.", "invalid_admin_key");
            return;
        }

        if (services.GetService<AdminClient>() is not { } admin)
        {
            await WriteErrorAsync(context, StatusCodes.Status503ServiceUnavailable, "The console needs the AdminService, which this gateway does not know.",
                "console_unavailable");
            return;
        }

        throttle.Succeeded(address);
        var token = ConsoleSessionStore.NewToken();
        var session = new ConsoleSession(ConsoleSessionStore.Hash(token), entry.Hash, time.GetUtcNow() + ConsoleSessionStore.Lifetime);
        var payload = JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["token_hash"] = Convert.ToHexStringLower(session.TokenHash),
            ["key_hash"] = Convert.ToHexStringLower(session.KeyHash),
            ["expires"] = session.Expires.ToUnixTimeSeconds(),
        });
        if (!await TellAdminServiceAsync(context, admin, HttpMethod.Post, "/internal/console-sessions",
            new StringContent(payload, Encoding.UTF8, "application/json"), "store the session", logger))
        {
            return;
        }

        sessions.Add(session);
        context.Response.Cookies.Append(ConsoleSessionStore.CookieName, token, new CookieOptions
        {
            HttpOnly = true,
            SameSite = SameSiteMode.Strict,
            Secure = context.Request.IsHttps || string.Equals(context.Request.Headers["X-Forwarded-Proto"], "https", StringComparison.OrdinalIgnoreCase),
            Path = "/",
            MaxAge = ConsoleSessionStore.Lifetime,
        });
        await WriteSessionAsync(context, entry, token, session.Expires);
    }

    private static async Task ReadAsync(HttpContext context, ConsoleSessionStore sessions)
    {
        if (sessions.Authenticate(context.Request, out var token) is not { } entry)
        {
            await WriteErrorAsync(context, StatusCodes.Status401Unauthorized, "Not signed in.", "not_signed_in");
            return;
        }

        await WriteSessionAsync(context, entry, token!, null);
    }

    private static async Task SignOutAsync(HttpContext context, ConsoleSessionStore sessions, IServiceProvider services, ILogger<ConsoleSessionStore> logger)
    {
        if (sessions.Authenticate(context.Request, out var token) is null)
        {
            ClearCookie(context);
            context.Response.StatusCode = StatusCodes.Status204NoContent;
            return;
        }

        if (!ConsoleSessionStore.CsrfMatches(token!, context.Request.Headers[CsrfHeader]))
        {
            await WriteErrorAsync(context, StatusCodes.Status403Forbidden, "Missing or wrong CSRF token.", "csrf_token_invalid");
            return;
        }

        var hash = ConsoleSessionStore.Hash(token!);
        // Not ended everywhere: say so, and keep the session, rather than pretend (a session already gone is ended).
        if (services.GetService<AdminClient>() is { } admin
            && !await TellAdminServiceAsync(context, admin, HttpMethod.Delete, "/internal/console-sessions/" + Convert.ToHexStringLower(hash), null,
                "end the session", logger, goneIsFine: true))
        {
            return;
        }

        sessions.Remove(hash);
        ClearCookie(context);
        context.Response.StatusCode = StatusCodes.Status204NoContent;
    }

    /// <summary>One change to the stored sessions; false once a 503 has been written because the AdminService did not take it.</summary>
    private static async Task<bool> TellAdminServiceAsync(HttpContext context, AdminClient admin, HttpMethod method, string path, HttpContent? content,
        string what, ILogger logger, bool goneIsFine = false)
    {
        try
        {
            using var response = await admin.SendAsync(method, path, content, context.RequestAborted);
            if (!(goneIsFine && response.StatusCode == System.Net.HttpStatusCode.NotFound))
            {
                response.EnsureSuccessStatusCode();
            }

            return true;
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException && !context.RequestAborted.IsCancellationRequested)
        {
            LogStoreFailed(logger, e.GetType().Name);
            await WriteErrorAsync(context, StatusCodes.Status503ServiceUnavailable, $"The AdminService cannot {what} right now; retry shortly.", "console_unavailable");
            return false;
        }
    }

    private static void ClearCookie(HttpContext context) =>
        context.Response.Cookies.Delete(ConsoleSessionStore.CookieName, new CookieOptions { HttpOnly = true, SameSite = SameSiteMode.Strict, Path = "/" });

    private static Task WriteSessionAsync(HttpContext context, ApiKeyEntry entry, string token, DateTimeOffset? expires)
    {
        context.Response.Headers.CacheControl = "no-store";
        return JsonResponse.WriteAsync(context, StatusCodes.Status200OK, json =>
        {
            json.WriteStartObject();
            json.WriteBoolean("signed_in", true);
            json.WriteString("key_name", entry.Name);
            json.WriteString("csrf_token", ConsoleSessionStore.CsrfToken(token));
            if (expires is { } at)
            {
                json.WriteNumber("expires_at", at.ToUnixTimeSeconds());
            }

            json.WriteEndObject();
        });
    }

    private static Task WriteErrorAsync(HttpContext context, int status, string message, string code)
    {
        context.Response.Headers.CacheControl = "no-store";
        return ErrorEnvelopes.WriteResponseAsync(context, status, json => ErrorEnvelopes.WriteOpenAI(json, message, ErrorEnvelopes.OpenAIType(status), code));
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "The AdminService did not take the console session change ({ExceptionType})")]
    private static partial void LogStoreFailed(ILogger logger, string exceptionType);
}

/// <summary>Checks shared by the console's session API and the Gateway's cookie authentication.</summary>
public static class ConsoleRequests
{
    /// <summary>An <c>Origin</c> header, when the browser sends one, must be this gateway's own.</summary>
    public static bool IsSameOrigin(HttpRequest request) =>
        request.Headers.Origin is not { Count: > 0 } origin
        || (Uri.TryCreate(origin[0], UriKind.Absolute, out var uri) && string.Equals(uri.Authority, request.Host.Value, StringComparison.OrdinalIgnoreCase));
}
