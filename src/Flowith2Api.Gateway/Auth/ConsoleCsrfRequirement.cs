using Microsoft.AspNetCore.Authorization;

namespace Flowith2Api.Gateway.Auth;

/// <summary>
/// The web console calls the admin API with its session cookie and, on every call, the session's CSRF token (a
/// cross-site page can make the browser send the cookie but cannot know the token); changes also come from this origin.
/// A key in a header needs neither.
/// </summary>
public sealed class ConsoleCsrfRequirement : IAuthorizationRequirement
{
    public const string Message = "A console change needs the session's CSRF token (x-csrf-token) from this origin.";

    public static readonly ConsoleCsrfRequirement Instance = new();
}

public sealed class ConsoleCsrfHandler : AuthorizationHandler<ConsoleCsrfRequirement>
{
    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, ConsoleCsrfRequirement requirement)
    {
        var token = EdgeAuth.KeyIdentityOf(context.User)?.ConsoleToken;
        var request = (context.Resource as HttpContext)?.Request;
        if (token is null)
        {
            context.Succeed(requirement);
        }
        else if (request is not null && ConsoleSessionStore.CsrfMatches(token, request.Headers[ConsoleSessionApi.CsrfHeader])
            && (HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method) || ConsoleRequests.IsSameOrigin(request)))
        {
            context.Succeed(requirement);
        }
        else
        {
            context.Fail(new AuthorizationFailureReason(this, ConsoleCsrfRequirement.Message));
        }

        return Task.CompletedTask;
    }
}

/// <summary>Checks shared by the console's session API and the CSRF requirement.</summary>
public static class ConsoleRequests
{
    /// <summary>An <c>Origin</c> header, when the browser sends one, must be this gateway's own.</summary>
    public static bool IsSameOrigin(HttpRequest request) =>
        request.Headers.Origin is not { Count: > 0 } origin
        || (Uri.TryCreate(origin[0], UriKind.Absolute, out var uri) && string.Equals(uri.Authority, request.Host.Value, StringComparison.OrdinalIgnoreCase));
}
