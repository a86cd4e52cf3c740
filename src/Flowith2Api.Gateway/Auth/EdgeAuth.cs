using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;

namespace Flowith2Api.Gateway.Auth;

/// <summary>
/// Who may call what, on ASP.NET's authentication and authorization: two schemes (a client key in a header, the web
/// console's session cookie) and the policies the routes name (DESIGN.md's realms). <c>user</c>: a client key — also
/// every endpoint that names no policy, so nothing is open by omission. <c>admin</c>: the admin key, or a console
/// session with its CSRF token. <c>console</c>: the console's pages, for an admin key or a console session.
/// </summary>
public static class EdgeAuth
{
    public const string ApiKeyScheme = "ApiKey";
    public const string ConsoleCookieScheme = "ConsoleCookie";
    public const string UserPolicy = "user";
    public const string AdminPolicy = "admin";
    public const string ConsolePolicy = "console";
    public const string AdminRole = "admin";

    public static IServiceCollection AddEdgeAuth(this IServiceCollection services)
    {
        services.AddAuthentication(ApiKeyScheme)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyScheme, null)
            .AddScheme<AuthenticationSchemeOptions, ConsoleCookieAuthenticationHandler>(ConsoleCookieScheme, null);
        // Handlers from the container: otherwise each request builds its handler by reflection (ActivatorUtilities).
        services.AddTransient<ApiKeyAuthenticationHandler>();
        services.AddTransient<ConsoleCookieAuthenticationHandler>();
        services.AddSingleton<IAuthorizationHandler, ConsoleCsrfHandler>();
        services.AddSingleton<IAuthorizationMiddlewareResultHandler, EdgeAuthorizationResultHandler>();
        var user = new AuthorizationPolicyBuilder(ApiKeyScheme).RequireAuthenticatedUser().Build();
        services.AddAuthorizationBuilder()
            .AddPolicy(UserPolicy, user)
            .AddPolicy(AdminPolicy, policy => policy.AddAuthenticationSchemes(ApiKeyScheme, ConsoleCookieScheme).RequireRole(AdminRole)
                .AddRequirements(ConsoleCsrfRequirement.Instance))
            .AddPolicy(ConsolePolicy, policy => policy.AddAuthenticationSchemes(ApiKeyScheme, ConsoleCookieScheme).RequireRole(AdminRole))
            .SetFallbackPolicy(user);
        return services;
    }

    /// <summary>The caller's key identity (set by whichever scheme authenticated it), or null.</summary>
    public static KeyIdentity? KeyIdentityOf(ClaimsPrincipal user)
    {
        foreach (var identity in user.Identities)
        {
            if (identity is KeyIdentity key)
            {
                return key;
            }
        }

        return null;
    }
}

/// <summary>
/// A caller known by a client key: the key's entry (its id, name and limits) and, when it came through the console's
/// cookie, the session's token (its CSRF token derives from it).
/// </summary>
public sealed class KeyIdentity : ClaimsIdentity
{
    public KeyIdentity(ApiKeyEntry entry, string scheme, string? consoleToken = null)
        : base(scheme)
    {
        Entry = entry;
        ConsoleToken = consoleToken;
        AddClaim(new Claim(ClaimTypes.NameIdentifier, entry.Id));
        if (entry.IsAdmin)
        {
            AddClaim(new Claim(ClaimTypes.Role, EdgeAuth.AdminRole));
        }
    }

    public ApiKeyEntry Entry { get; }

    public string? ConsoleToken { get; }
}
