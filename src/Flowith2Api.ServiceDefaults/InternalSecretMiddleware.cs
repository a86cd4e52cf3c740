using Flowith2Api.Contracts;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Flowith2Api.ServiceDefaults;

/// <summary>
/// Refuses calls that did not come through the Gateway: every request but health, liveness and metrics must carry
/// the shared internal secret. Without a configured secret (a service run alone for development) the service
/// trusts its callers and says so once at start.
/// </summary>
public sealed partial class InternalSecretMiddleware
{
    private readonly RequestDelegate _next;
    private readonly InternalSecret _secret;

    public InternalSecretMiddleware(RequestDelegate next, InternalSecret secret, ILogger<InternalSecretMiddleware> logger)
    {
        _next = next;
        _secret = secret;
        if (!secret.IsConfigured)
        {
            LogNoSecret(logger, SeedSettings.InternalSecret);
        }
    }

    public Task InvokeAsync(HttpContext context)
    {
        if (!_secret.IsConfigured
            || Extensions.IsInfrastructurePath(context.Request.Path)
            || _secret.Matches(context.Request.Headers[InternalHeaders.Secret]))
        {
            return _next(context);
        }

        context.Response.StatusCode = StatusCodes.Status403Forbidden;
        context.Response.ContentType = "application/problem+json";
        return context.Response.WriteAsync(
            """{"type":"about:blank","title":"Forbidden","status":403,"detail":"This service is reached through the Flowith2Api gateway only."}""");
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Name} is not set: this service trusts every caller. Run it behind the Flowith2Api gateway with a shared secret.")]
    private static partial void LogNoSecret(ILogger logger, string name);
}
