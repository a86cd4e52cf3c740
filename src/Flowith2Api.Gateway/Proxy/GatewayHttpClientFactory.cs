using Yarp.ReverseProxy.Forwarder;

namespace Flowith2Api.Gateway.Proxy;

/// <summary>
/// YARP's client, with connections to the services renewed every <see cref="ConnectionLifetime"/>. Over h2c a Gateway
/// holds only a few long-lived connections to the ChatService, and a Kubernetes Service balances per connection: without
/// renewal every request would stick to the replicas that existed when the Gateway started, and replicas added by the
/// autoscaler would get nothing. Open streams finish on the old connection; new requests take a new one.
/// </summary>
public sealed class GatewayHttpClientFactory : ForwarderHttpClientFactory
{
    public static readonly TimeSpan ConnectionLifetime = TimeSpan.FromSeconds(30);

    protected override void ConfigureHandler(ForwarderHttpClientContext context, SocketsHttpHandler handler)
    {
        base.ConfigureHandler(context, handler);
        handler.PooledConnectionLifetime = ConnectionLifetime;
        handler.EnableMultipleHttp2Connections = true;
    }
}
