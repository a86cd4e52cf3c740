using Flowith2Api.Gateway.Errors;
using Flowith2Api.Gateway.Proxy;
using Microsoft.Extensions.Options;

namespace Flowith2Api.Gateway.Auth;

/// <summary>
/// After authorization, a key's limits: the request body size (413 beyond it, before a byte of it is forwarded) and
/// the key's requests per minute (429 with Retry-After). Anonymous calls and the console's pages have neither.
/// </summary>
public sealed class KeyLimitsMiddleware(RequestDelegate next, KeyRateLimiter rateLimiter, IOptions<GatewayOptions> options)
{
    public async Task InvokeAsync(HttpContext context)
    {
        if (EdgeAuth.KeyIdentityOf(context.User)?.Entry is not { } entry || GatewayRoutes.RealmOf(context) == GatewayRoutes.ConsoleRealm)
        {
            await next(context);
            return;
        }

        var limit = options.Value.MaxRequestBodyBytes;
        if (context.Request.ContentLength > limit)
        {
            await DialectErrors.WriteAsync(context, StatusCodes.Status413PayloadTooLarge,
                $"The request body is larger than the gateway's limit of {limit} bytes.", "request_too_large");
            return;
        }

        if (await rateLimiter.TryAcquireAsync(entry) is { } retryAfter)
        {
            var seconds = (int)Math.Ceiling(retryAfter.TotalSeconds);
            context.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            await DialectErrors.WriteAsync(context, StatusCodes.Status429TooManyRequests,
                $"This key's rate limit of {entry.RateLimitPerMinute} requests per minute is used up; retry in {seconds} s.", "rate_limit_exceeded");
            return;
        }

        await next(context);
    }
}
