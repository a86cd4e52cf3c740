using System.Collections.Concurrent;
using System.Net;

namespace Flowith2Api.Gateway.Auth;

/// <summary>
/// Sign-in attempts per client address: a few mistakes are fine, a guessing run is not (10 failures in 5 minutes
/// lock the address out for the rest of the window).
/// </summary>
public sealed class SignInThrottle(TimeProvider time)
{
    private const int MaxFailures = 10;
    private static readonly TimeSpan Window = TimeSpan.FromMinutes(5);
    private readonly ConcurrentDictionary<IPAddress, (int Failures, DateTimeOffset Start)> _failures = new();

    /// <summary>An IPv6 client is counted by its /64 (one machine usually holds all of it), IPv4 by its address.</summary>
    private static IPAddress? Bucket(IPAddress? address)
    {
        if (address is null || address.IsIPv4MappedToIPv6 || address.AddressFamily != System.Net.Sockets.AddressFamily.InterNetworkV6)
        {
            return address?.IsIPv4MappedToIPv6 == true ? address.MapToIPv4() : address;
        }

        var bytes = address.GetAddressBytes();
        Array.Clear(bytes, 8, 8);
        return new IPAddress(bytes);
    }

    public TimeSpan? RetryAfter(IPAddress? address)
    {
        address = Bucket(address);
        var now = time.GetUtcNow();
        return address is not null && _failures.TryGetValue(address, out var entry) && now - entry.Start < Window && entry.Failures >= MaxFailures
            ? entry.Start + Window - now
            : null;
    }

    public void Failed(IPAddress? address)
    {
        address = Bucket(address);
        if (address is null)
        {
            return;
        }

        var now = time.GetUtcNow();
        _failures.AddOrUpdate(address, _ => (1, now), (_, entry) => now - entry.Start >= Window ? (1, now) : (entry.Failures + 1, entry.Start));
        if (_failures.Count > 10_000)
        {
            foreach (var (key, entry) in _failures)
            {
                if (now - entry.Start >= Window)
                {
                    _failures.TryRemove(key, out _);
                }
            }
        }
    }

    public void Succeeded(IPAddress? address)
    {
        address = Bucket(address);
        if (address is not null)
        {
            _failures.TryRemove(address, out _);
        }
    }
}
