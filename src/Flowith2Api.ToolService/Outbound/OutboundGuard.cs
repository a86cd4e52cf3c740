using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Options;

namespace Flowith2Api.ToolService.Outbound;

/// <summary>
/// The only way tools reach the network from this service. Every connection (the first one and every one a redirect
/// leads to) is checked after DNS resolution: loopback, private, link-local (cloud metadata included), CGNAT,
/// multicast and unspecified addresses are refused unless their <c>host:port</c> is in <c>OUTBOUND_ALLOWED_HOSTS</c>.
/// Responses are read up to <c>OUTBOUND_MAX_BYTES</c>.
/// </summary>
public sealed class OutboundGuard
{
    public const string HttpClientName = "outbound";

    private readonly HashSet<string> _allowed;

    public OutboundGuard(IOptions<ToolOptions> options)
    {
        _allowed = new HashSet<string>(options.Value.OutboundAllowedHosts, StringComparer.OrdinalIgnoreCase);
        MaxBytes = options.Value.OutboundMaxBytes;
    }

    public long MaxBytes { get; }

    public SocketsHttpHandler CreateHandler() => new()
    {
        AllowAutoRedirect = true,
        MaxAutomaticRedirections = 5,
        UseProxy = false,
        UseCookies = false,
        ConnectTimeout = TimeSpan.FromSeconds(10),
        PooledConnectionLifetime = TimeSpan.FromMinutes(2),
        ConnectCallback = ConnectAsync,
    };

    private async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var endpoint = context.DnsEndPoint;
        var allowedAnyway = _allowed.Contains($"{endpoint.Host}:{endpoint.Port}");
        var addresses = IPAddress.TryParse(endpoint.Host, out var literal)
            ? [literal]
            : await Dns.GetHostAddressesAsync(endpoint.Host, cancellationToken);
        var permitted = addresses.Where(a => allowedAnyway || !IsBlocked(a)).ToArray();
        if (permitted.Length == 0)
        {
            throw new OutboundRefusedException($"Refused to connect to {endpoint.Host}: it is a private, loopback, link-local or metadata address.");
        }

        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(permitted, endpoint.Port, cancellationToken);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Addresses a tool must never reach on its own: this host, the private network, cloud metadata.</summary>
    public static bool IsBlocked(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (IPAddress.IsLoopback(address) || address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any) || address.Equals(IPAddress.Broadcast))
        {
            return true;
        }

        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            var bytes = address.GetAddressBytes();
            return address.IsIPv6LinkLocal || address.IsIPv6SiteLocal || address.IsIPv6Multicast
                || (bytes[0] & 0xFE) == 0xFC; // unique local fc00::/7
        }

        var b = address.GetAddressBytes();
        return b[0] == 10
            || (b[0] == 172 && b[1] >= 16 && b[1] <= 31)
            || (b[0] == 192 && b[1] == 168)
            || (b[0] == 169 && b[1] == 254)
            || (b[0] == 100 && b[1] >= 64 && b[1] <= 127)
            || b[0] == 0
            || b[0] >= 224;
    }

    /// <summary>Reads a response body up to the cap; a larger body is an error, not a silent cut.</summary>
    public async Task<byte[]> ReadCappedAsync(HttpContent content, CancellationToken cancellationToken)
    {
        if (content.Headers.ContentLength > MaxBytes)
        {
            throw new OutboundRefusedException($"The response is larger than the limit of {MaxBytes} bytes.");
        }

        await using var stream = await content.ReadAsStreamAsync(cancellationToken);
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await stream.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > MaxBytes)
            {
                throw new OutboundRefusedException($"The response is larger than the limit of {MaxBytes} bytes.");
            }

            buffer.Write(chunk, 0, read);
        }

        return buffer.ToArray();
    }
}

public sealed class OutboundRefusedException : Exception
{
    public OutboundRefusedException()
    {
    }

    public OutboundRefusedException(string message) : base(message)
    {
    }

    public OutboundRefusedException(string message, Exception innerException) : base(message, innerException)
    {
    }
}
