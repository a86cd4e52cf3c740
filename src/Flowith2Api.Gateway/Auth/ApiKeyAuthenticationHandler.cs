using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace Flowith2Api.Gateway.Auth;

/// <summary>
/// A client key in <c>Authorization: Bearer</c>, <c>x-api-key</c> (Anthropic's clients) or <c>x-goog-api-key</c>
/// (Google's), looked up by its hash in <see cref="ApiKeyStore"/>; no key is no result, a wrong key a failure.
/// </summary>
public sealed class ApiKeyAuthenticationHandler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder,
    ApiKeyStore keys) : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string ApiKeyHeader = "x-api-key";
    public const string GoogleApiKeyHeader = "x-goog-api-key";

    private static readonly Task<AuthenticateResult> NoKey = Task.FromResult(AuthenticateResult.NoResult());

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var presented = ReadPresentedKey(Request.Headers);
        if (presented.IsEmpty)
        {
            return NoKey;
        }

        return Task.FromResult(keys.Find(presented) is { } entry
            ? AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(new KeyIdentity(entry, Scheme.Name)), Scheme.Name))
            : AuthenticateResult.Fail("Invalid API key."));
    }

    public static ReadOnlySpan<char> ReadPresentedKey(IHeaderDictionary headers)
    {
        var authorization = headers.Authorization.ToString().AsSpan().Trim();
        if (authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return authorization[7..].Trim();
        }

        var apiKey = headers[ApiKeyHeader].ToString().AsSpan().Trim();
        return apiKey.IsEmpty ? headers[GoogleApiKeyHeader].ToString().AsSpan().Trim() : apiKey;
    }
}
