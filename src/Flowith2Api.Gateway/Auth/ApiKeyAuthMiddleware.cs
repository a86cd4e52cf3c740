using Flowith2Api.Gateway.Errors;
using Flowith2Api.Gateway.Proxy;
using Flowith2Api.ServiceDefaults;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace Flowith2Api.Gateway.Auth;

/// <summary>
/// Authenticates every call but health and liveness, decides the realm from the matched route (not from the raw
/// path, so path tricks cannot reach the admin services), enforces the body size limit, and rewrites the headers
/// the services behind see: client keys and any client-supplied internal headers are removed, the caller's key id,
/// admin flag and the internal secret are added.
/// </summary>
public sealed class ApiKeyAuthMiddleware(RequestDelegate next, ApiKeyStore keys, KeyRateLimiter rateLimiter, InternalSecret secret,
    ConsoleSessionStore consoleSessions, IOptions<GatewayOptions> options)
{
    private const string ApiKeyHeader = "x-api-key";

    /// <summary>Google's way (the Gemini SDKs and CLI send the key so).</summary>
    private const string GoogleApiKeyHeader = "x-goog-api-key";

    public async Task InvokeAsync(HttpContext context)
    {
        context.Features.Set(new GatewayRequestStart(System.Diagnostics.Stopwatch.GetTimestamp()));
        var request = context.Request;
        if (IsAnonymous(request.Path) || IsConsoleSessionApi(context))
        {
            await next(context);
            return;
        }

        var realm = GatewayRoutes.RealmOf(context);
        if (realm == GatewayRoutes.ConsoleRealm)
        {
            await ConsoleAsync(context);
            return;
        }

        var entry = FindKey(request.Headers, out var problem);
        if (entry is null && realm == GatewayRoutes.AdminRealm && !HasPresentedKey(request.Headers))
        {
            // The web console calls the admin API with its session cookie and, on every call, the session's CSRF token
            // (a cross-site page can send the cookie's request but cannot know the token); changes also come from this origin.
            entry = consoleSessions.Authenticate(request, out var token);
            if (entry is not null
                && (!ConsoleSessionStore.CsrfMatches(token!, request.Headers[ConsoleSessionApi.CsrfHeader])
                    || (!IsSafe(request.Method) && !ConsoleRequests.IsSameOrigin(request))))
            {
                await DialectErrors.WriteAsync(context, StatusCodes.Status403Forbidden,
                    "A console change needs the session's CSRF token (x-csrf-token) from this origin.", "csrf_token_invalid");
                return;
            }

            if (entry is not null)
            {
                request.Headers.Remove(HeaderNames.Cookie);
            }
        }

        if (entry is null)
        {
            await DialectErrors.WriteAsync(context, StatusCodes.Status401Unauthorized, problem.Message, problem.Code);
            return;
        }

        if (realm == GatewayRoutes.AdminRealm && !entry.IsAdmin)
        {
            await DialectErrors.WriteAsync(context, StatusCodes.Status403Forbidden, "This route needs the admin key.", "admin_key_required");
            return;
        }

        var limit = options.Value.MaxRequestBodyBytes;
        if (request.ContentLength > limit)
        {
            await DialectErrors.WriteAsync(context, StatusCodes.Status413PayloadTooLarge,
                $"The request body is larger than the gateway's limit of {limit} bytes.", "request_too_large");
            return;
        }

        if (await rateLimiter.TryAcquireAsync(entry) is { } retryAfter)
        {
            context.Response.Headers.RetryAfter = ((int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
            await DialectErrors.WriteAsync(context, StatusCodes.Status429TooManyRequests,
                $"This key's rate limit of {entry.RateLimitPerMinute} requests per minute is used up; retry in {(int)Math.Ceiling(retryAfter.TotalSeconds)} s.",
                "rate_limit_exceeded");
            return;
        }

        RewriteIdentityHeaders(request.Headers, entry, secret.Value);
        await next(context);
    }

    /// <summary>
    /// Console pages: the sign-in page and the assets for anyone, every other page only with a console session (a
    /// browser without one is sent to sign in; an admin key in a header works too, for scripts).
    /// </summary>
    private async Task ConsoleAsync(HttpContext context)
    {
        var request = context.Request;
        var path = request.Path;
        if (!IsSafe(request.Method))
        {
            // Pages are only read: every change goes through the admin API (session + CSRF token).
            context.Response.Headers.Allow = "GET, HEAD";
            await DialectErrors.WriteAsync(context, StatusCodes.Status405MethodNotAllowed, "Console pages are only read (GET).", "method_not_allowed");
            return;
        }

        var open = path.Equals("/admin/login", StringComparison.OrdinalIgnoreCase) || path.StartsWithSegments("/admin/assets", StringComparison.OrdinalIgnoreCase);
        ApiKeyEntry? entry = null;
        if (!open)
        {
            entry = HasPresentedKey(request.Headers) ? FindKey(request.Headers, out _) : consoleSessions.Authenticate(request, out _);
            if (entry is not { IsAdmin: true })
            {
                context.Response.StatusCode = StatusCodes.Status302Found;
                context.Response.Headers.Location = "/admin/login?next=" + Uri.EscapeDataString(path.Value ?? "/admin");
                context.Response.Headers.CacheControl = "no-store";
                return;
            }
        }

        request.Headers.Remove(HeaderNames.Cookie);
        RewriteIdentityHeaders(request.Headers, entry, secret.Value);
        await next(context);
    }

    /// <summary>The Gateway's own sign-in endpoint (it authenticates itself); any other method there is a console page request.</summary>
    private static bool IsConsoleSessionApi(HttpContext context) =>
        context.Request.Path.Equals(ConsoleSessionApi.Path, StringComparison.OrdinalIgnoreCase)
        && context.GetEndpoint() is { } endpoint && endpoint.Metadata.GetMetadata<Yarp.ReverseProxy.Model.RouteModel>() is null;

    private static bool IsSafe(string method) => HttpMethods.IsGet(method) || HttpMethods.IsHead(method);

    private static bool HasPresentedKey(IHeaderDictionary headers) => !ReadPresentedKey(headers).IsEmpty;

    private ApiKeyEntry? FindKey(IHeaderDictionary headers, out (string Message, string Code) problem)
    {
        var presented = ReadPresentedKey(headers);
        if (presented.IsEmpty)
        {
            problem = ("Missing API key. Send it as 'Authorization: Bearer <key>', 'x-api-key: <key>' or 'x-goog-api-key: <key>'.", "missing_api_key");
            return null;
        }

        problem = ("Invalid API key.", "invalid_api_key");
        return keys.Find(presented);
    }

    private static bool IsAnonymous(PathString path) =>
        path.StartsWithSegments(Extensions.HealthEndpointPath, StringComparison.OrdinalIgnoreCase)
        || path.StartsWithSegments(Extensions.AlivenessEndpointPath, StringComparison.OrdinalIgnoreCase)
        || path.StartsWithSegments(Extensions.ReadinessEndpointPath, StringComparison.OrdinalIgnoreCase);

    private static ReadOnlySpan<char> ReadPresentedKey(IHeaderDictionary headers)
    {
        var authorization = headers.Authorization.ToString().AsSpan().Trim();
        if (authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return authorization[7..].Trim();
        }

        var apiKey = headers[ApiKeyHeader].ToString().AsSpan().Trim();
        return apiKey.IsEmpty ? headers[GoogleApiKeyHeader].ToString().AsSpan().Trim() : apiKey;
    }

    private static void RewriteIdentityHeaders(IHeaderDictionary headers, ApiKeyEntry? entry, string? internalSecret)
    {
        List<string>? spoofed = null;
        foreach (var name in headers.Keys)
        {
            if (name.StartsWith(InternalHeaders.Prefix, StringComparison.OrdinalIgnoreCase))
            {
                (spoofed ??= []).Add(name);
            }
        }

        if (spoofed is not null)
        {
            foreach (var name in spoofed)
            {
                headers.Remove(name);
            }
        }

        headers.Remove(HeaderNames.Authorization);
        headers.Remove(ApiKeyHeader);
        headers.Remove(GoogleApiKeyHeader);
        // A request without a key (the console's sign-in page and assets) still names a caller, so it never passes for
        // one of the services' own calls.
        headers[InternalHeaders.KeyId] = entry?.Id ?? "anonymous";
        headers[InternalHeaders.KeyIsAdmin] = entry?.IsAdmin == true ? "true" : "false";
        if (internalSecret is not null)
        {
            headers[InternalHeaders.Secret] = internalSecret;
        }
    }
}
