using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace Flowith2Api.Gateway.Auth;

/// <summary>
/// The web console's session cookie, looked up in <see cref="ConsoleSessionStore"/>. A request that presents a key is
/// the key's alone: a wrong key is not rescued by a cookie beside it.
/// </summary>
public sealed class ConsoleCookieAuthenticationHandler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger,
    UrlEncoder encoder, ConsoleSessionStore sessions) : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    private static readonly Task<AuthenticateResult> NoSession = Task.FromResult(AuthenticateResult.NoResult());

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (!ApiKeyAuthenticationHandler.ReadPresentedKey(Request.Headers).IsEmpty || !Request.Headers.ContainsKey(Microsoft.Net.Http.Headers.HeaderNames.Cookie))
        {
            return NoSession;
        }

        return Task.FromResult(sessions.Authenticate(Request, out var token) is { } entry
            ? AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(new KeyIdentity(entry, Scheme.Name, token)), Scheme.Name))
            : AuthenticateResult.Fail("No console session, or an ended one."));
    }
}
