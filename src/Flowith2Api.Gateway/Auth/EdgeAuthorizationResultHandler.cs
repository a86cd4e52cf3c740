using Flowith2Api.Gateway.Errors;
using Flowith2Api.Gateway.Proxy;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;

namespace Flowith2Api.Gateway.Auth;

/// <summary>
/// What a refused caller is told, in the route's dialect: 401 with why (no key, or a wrong one), 403 with what is
/// missing (the admin key, or the console's CSRF token). A browser on a console page without a session is sent to sign in.
/// </summary>
public sealed class EdgeAuthorizationResultHandler : IAuthorizationMiddlewareResultHandler
{
    public Task HandleAsync(RequestDelegate next, HttpContext context, AuthorizationPolicy policy, PolicyAuthorizationResult authorizeResult)
    {
        if (authorizeResult.Succeeded)
        {
            return next(context);
        }

        if (GatewayRoutes.RealmOf(context) == GatewayRoutes.ConsoleRealm)
        {
            context.Response.StatusCode = StatusCodes.Status302Found;
            context.Response.Headers.Location = "/admin/login?next=" + Uri.EscapeDataString(context.Request.Path.Value ?? "/admin");
            context.Response.Headers.CacheControl = "no-store";
            return Task.CompletedTask;
        }

        if (authorizeResult.Challenged)
        {
            return ApiKeyAuthenticationHandler.ReadPresentedKey(context.Request.Headers).IsEmpty
                ? DialectErrors.WriteAsync(context, StatusCodes.Status401Unauthorized,
                    "Missing API key. Send it as 'Authorization: Bearer <key>', 'x-api-key: <key>' or 'x-goog-api-key: <key>'.", "missing_api_key")
                : DialectErrors.WriteAsync(context, StatusCodes.Status401Unauthorized, "Invalid API key.", "invalid_api_key");
        }

        return authorizeResult.AuthorizationFailure?.FailureReasons.Any(r => r.Handler is ConsoleCsrfHandler) == true
            ? DialectErrors.WriteAsync(context, StatusCodes.Status403Forbidden, ConsoleCsrfRequirement.Message, "csrf_token_invalid")
            : DialectErrors.WriteAsync(context, StatusCodes.Status403Forbidden, "This route needs the admin key.", "admin_key_required");
    }
}
