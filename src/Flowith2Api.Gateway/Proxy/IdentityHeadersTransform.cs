using Flowith2Api.Contracts;
using Flowith2Api.Gateway.Auth;
using Flowith2Api.ServiceDefaults;
using Microsoft.Net.Http.Headers;
using Yarp.ReverseProxy.Transforms;

namespace Flowith2Api.Gateway.Proxy;

/// <summary>
/// What a service behind sees of the caller: client keys and any client-supplied internal header are removed (the
/// console's cookie too, once it has been used), and the caller's key id, admin flag and the internal secret added. A
/// request without a key (the console's sign-in page and assets) still names a caller, so it never passes for one of
/// the services' own calls.
/// </summary>
public sealed class IdentityHeadersTransform(InternalSecret secret)
{
    public ValueTask ApplyAsync(RequestTransformContext context)
    {
        var headers = context.ProxyRequest.Headers;
        List<string>? spoofed = null;
        foreach (var header in headers.NonValidated)
        {
            if (header.Key.StartsWith(InternalHeaders.Prefix, StringComparison.OrdinalIgnoreCase))
            {
                (spoofed ??= []).Add(header.Key);
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
        headers.Remove(ApiKeyAuthenticationHandler.ApiKeyHeader);
        headers.Remove(ApiKeyAuthenticationHandler.GoogleApiKeyHeader);
        var identity = EdgeAuth.KeyIdentityOf(context.HttpContext.User);
        if (identity?.ConsoleToken is not null || GatewayRoutes.RealmOf(context.HttpContext) == GatewayRoutes.ConsoleRealm)
        {
            headers.Remove(HeaderNames.Cookie);
        }

        headers.TryAddWithoutValidation(InternalHeaders.KeyId, identity?.Entry.Id ?? "anonymous");
        headers.TryAddWithoutValidation(InternalHeaders.KeyIsAdmin, identity?.Entry.IsAdmin == true ? "true" : "false");
        if (secret.Value is { } value)
        {
            headers.TryAddWithoutValidation(InternalHeaders.Secret, value);
        }

        return ValueTask.CompletedTask;
    }
}
