namespace Flowith2Api.Contracts;

/// <summary>
/// Headers the Gateway adds for the services behind it. The Gateway strips any client-supplied copy first, and a
/// service only believes them when the request also carries the internal secret.
/// </summary>
public static class InternalHeaders
{
    public const string Prefix = "x-flowith2api-";
    public const string Secret = "x-flowith2api-internal";
    public const string KeyId = "x-flowith2api-key-id";
    public const string KeyIsAdmin = "x-flowith2api-admin";
    public const string RequestId = "x-request-id";

    /// <summary>A service's elapsed time when its response started (ms), for the Gateway's overhead figure.</summary>
    public const string ServiceElapsedMs = "x-flowith2api-service-elapsed-ms";

    /// <summary>A service's own time, not waiting on the upstream (ms), for the Gateway's overhead figure.</summary>
    public const string ServiceOverheadMs = "x-flowith2api-service-overhead-ms";

    /// <summary>Answered to clients: the time spent in our code for this request (ms), upstream waits excluded.</summary>
    public const string GatewayOverheadMs = "x-gateway-overhead-ms";
}
