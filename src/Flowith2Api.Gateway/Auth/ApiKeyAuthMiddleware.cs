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
    IOptions<GatewayOptions> options)
{
    private const string ApiKeyHeader = "x-api-key";

    public async Task InvokeAsync(HttpContext context)
    {
        context.Features.Set(new GatewayRequestStart(System.Diagnostics.Stopwatch.GetTimestamp()));
        var request = context.Request;
        if (IsAnonymous(request.Path))
        {
            await next(context);
            return;
        }

        var entry = FindKey(request.Headers, out var problem);
        if (entry is null)
        {
            await DialectErrors.WriteAsync(context, StatusCodes.Status401Unauthorized, problem.Message, problem.Code);
            return;
        }

        if (GatewayRoutes.RealmOf(context) == GatewayRoutes.AdminRealm && !entry.IsAdmin)
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

    private ApiKeyEntry? FindKey(IHeaderDictionary headers, out (string Message, string Code) problem)
    {
        var presented = ReadPresentedKey(headers);
        if (presented.IsEmpty)
        {
            problem = ("Missing API key. Send it as 'Authorization: Bearer <key>' or 'x-api-key: <key>'.", "missing_api_key");
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

        return headers[ApiKeyHeader].ToString().AsSpan().Trim();
    }

    private static void RewriteIdentityHeaders(IHeaderDictionary headers, ApiKeyEntry entry, string? internalSecret)
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
        headers[InternalHeaders.KeyId] = entry.Id;
        headers[InternalHeaders.KeyIsAdmin] = entry.IsAdmin ? "true" : "false";
        if (internalSecret is not null)
        {
            headers[InternalHeaders.Secret] = internalSecret;
        }
    }
}
